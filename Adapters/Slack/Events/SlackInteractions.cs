using System.Globalization;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack.Installs;
using ChatBot.Adapters.Turns;

namespace ChatBot.Adapters.Slack.Events;

/// <summary>
/// Slash commands and interactive payloads, turned into inbox turns. <c>/ask &lt;question&gt;</c> asks;
/// <c>/chatbot help|new|usage|sources|forget</c> runs a command; empty text gets the usage at once, without the model.
/// The answer goes back through the command's <c>response_url</c>, which works in channels the bot is not in.
/// Feedback buttons store a rating on the answer; the other buttons under a message (show sources, confirm forget)
/// send their command as the clicker's next message; the message shortcut asks about the message it was used on.
/// </summary>
internal sealed class SlackInteractions(ITurnInbox inbox, SlackInstallations installations, TimeProvider clock)
{

    public const string AskCommand = "/ask";
    public const string ChatBotCommand = "/chatbot";
    public const string AskAboutShortcut = "ask_about_message";

    public const string AskUsage = "Ask me a question: `/ask how many days of leave do I get?` — or `/chatbot help` to see what else I can do.";
    public const string ChatBotUsage = "`/chatbot help`, `/chatbot new`, `/chatbot usage`, `/chatbot sources` or `/chatbot forget`. To ask a question, use `/ask <question>`.";

    private static readonly HashSet<string> Subcommands = new(StringComparer.OrdinalIgnoreCase) { "help", "new", "usage", "sources", "forget", "forget confirm" };

    /// <param name="form">The command's fields (from the HTTP form, or a Socket Mode payload).</param>
    /// <returns>What to answer Slack at once (an ephemeral usage text), or null for an empty acknowledgement.</returns>
    public async Task<JsonObject?> CommandAsync(IReadOnlyDictionary<string, string> form, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(form);
        var teamId = form.GetValueOrDefault("team_id");
        var enterpriseId = form.GetValueOrDefault("enterprise_id") is { Length: > 0 } e ? e : null;
        if (await installations.FindAsync(enterpriseId, teamId, cancellationToken) is not { } bot)
        {
            return null;
        }

        var place = new SlackPlace(bot, teamId ?? bot.TeamId, enterpriseId);

        var command = form.GetValueOrDefault("command") ?? "";
        var text = (form.GetValueOrDefault("text") ?? "").Trim();
        string? question = command switch
        {
            AskCommand when text.Length > 0 => text,
            ChatBotCommand when Subcommands.Contains(text) => text.ToLowerInvariant(),
            _ => null,
        };
        if (question is null)
        {
            return Ephemeral(command == AskCommand ? AskUsage : ChatBotUsage);
        }

        var channel = form.GetValueOrDefault("channel_id") ?? "";
        var user = form.GetValueOrDefault("user_id") ?? "";
        var personal = channel.StartsWith('D');
        var address = place.Address(channel, "", user, personal ? "im" : "channel");
        address[SlackAddress.ResponseUrl] = form.GetValueOrDefault("response_url") ?? "";
        address[SlackAddress.Question] = command == AskCommand ? question : "";
        var turn = new InboundTurn
        {
            Channel = ChannelKind.Slack,
            EventId = $"{place.TenantId}|command|{form.GetValueOrDefault("trigger_id")}",
            TenantId = place.TenantId,
            // Slash commands of one person in one channel share a conversation (they have no thread).
            Conversation = new ConversationReference(channel, "command:" + user, personal ? ConversationType.Personal : ConversationType.Channel, personal ? null : [channel]),
            User = new UserReference(user, form.GetValueOrDefault("user_name") ?? ""),
            Text = question,
            ReplyAddress = address,
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };
        await inbox.AcceptAsync(turn, cancellationToken);
        return null;
    }

    public async Task InteractionAsync(JsonObject payload, CancellationToken cancellationToken)
    {
        var teamId = (string?)payload["team"]?["id"] ?? (string?)payload["user"]?["team_id"];
        var enterpriseId = (string?)payload["enterprise"]?["id"];
        if (await installations.FindAsync(enterpriseId, teamId, cancellationToken) is not { } bot)
        {
            return;
        }

        var place = new SlackPlace(bot, teamId ?? bot.TeamId, enterpriseId);
        switch ((string?)payload["type"])
        {
            case "block_actions" when ((string?)payload["actions"]?[0]?["action_id"])?.StartsWith(Replies.SlackMessages.ReplyActionIdPrefix, StringComparison.Ordinal) == true:
                await ReplyActionAsync(payload, place, cancellationToken);
                break;
            case "block_actions":
                await FeedbackAsync(payload, place, cancellationToken);
                break;
            case "message_action" when (string?)payload["callback_id"] == AskAboutShortcut:
                await AskAboutAsync(payload, place, cancellationToken);
                break;
        }
    }

    /// <summary>
    /// A button under a bot message (show sources, confirm forget): its value is sent as the clicker's next message in
    /// that thread. On an ephemeral message (a slash command's answer) the reply goes back through its response URL.
    /// </summary>
    private async Task ReplyActionAsync(JsonObject payload, SlackPlace place, CancellationToken cancellationToken)
    {
        var action = payload["actions"]![0]!;
        var command = ((string?)action["value"])?.Trim();
        var channel = (string?)payload["channel"]?["id"] ?? (string?)payload["container"]?["channel_id"];
        var user = (string?)payload["user"]?["id"];
        if (string.IsNullOrEmpty(command) || command.Length > 200 || channel is null || user is null)
        {
            return;
        }

        var messageTs = (string?)payload["message"]?["ts"] ?? (string?)payload["container"]?["message_ts"] ?? "";
        var ephemeral = (bool?)payload["container"]?["is_ephemeral"] == true;
        var thread = ephemeral ? "" : (string?)payload["message"]?["thread_ts"] ?? messageTs;
        var personal = channel.StartsWith('D');
        var address = place.Address(channel, thread, user, personal ? "im" : "channel");
        if (ephemeral && (string?)payload["response_url"] is { Length: > 0 } responseUrl)
        {
            address[SlackAddress.ResponseUrl] = responseUrl;
        }

        await inbox.AcceptAsync(new InboundTurn
        {
            Channel = ChannelKind.Slack,
            EventId = $"{place.TenantId}|action|{channel}|{messageTs}|{user}|{(string?)action["action_ts"]}",
            TenantId = place.TenantId,
            // Ephemeral answers (slash commands) have no thread: the person's command conversation in that channel.
            Conversation = new ConversationReference(channel, ephemeral ? "command:" + user : thread, personal ? ConversationType.Personal : ConversationType.Channel, personal ? null : [channel]),
            User = new UserReference(user, (string?)payload["user"]?["name"] ?? ""),
            Text = command,
            ReplyAddress = address,
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);
    }

    /// <summary>A click on the feedback buttons: value <c>up:&lt;answer id&gt;</c> or <c>down:&lt;answer id&gt;</c>.</summary>
    private async Task FeedbackAsync(JsonObject payload, SlackPlace place, CancellationToken cancellationToken)
    {
        var action = payload["actions"]?[0];
        var value = (string?)action?["value"];
        if ((string?)action?["action_id"] != "answer_feedback" || value is null || value.Split(':') is not [var direction, var answerId]
            || !long.TryParse(answerId, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return;
        }

        var rating = direction switch { "up" => 1, "down" => -1, _ => 0 };
        var channel = (string?)payload["channel"]?["id"] ?? (string?)payload["container"]?["channel_id"];
        var user = (string?)payload["user"]?["id"];
        if (rating == 0 || channel is null || user is null)
        {
            return;
        }

        var messageTs = (string?)payload["message"]?["ts"] ?? (string?)payload["container"]?["message_ts"] ?? "";
        var thread = (string?)payload["message"]?["thread_ts"] ?? messageTs;
        await inbox.AcceptAsync(new InboundTurn
        {
            Channel = ChannelKind.Slack,
            EventId = $"{place.TenantId}|feedback|{channel}|{messageTs}|{user}|{(string?)action!["action_ts"]}",
            Kind = TurnKind.Feedback,
            TenantId = place.TenantId,
            Conversation = new ConversationReference(channel, thread, channel.StartsWith('D') ? ConversationType.Personal : ConversationType.Channel),
            User = new UserReference(user, (string?)payload["user"]?["name"] ?? ""),
            Feedback = new FeedbackReference(answerId, rating),
            ReplyAddress = place.Address(channel, thread, user, channel.StartsWith('D') ? "im" : "channel"),
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);
    }

    /// <summary>"Ask ChatBot about this" on a message: the message becomes the question, answered in its thread.</summary>
    private async Task AskAboutAsync(JsonObject payload, SlackPlace place, CancellationToken cancellationToken)
    {
        var channel = (string?)payload["channel"]?["id"];
        var user = (string?)payload["user"]?["id"];
        var message = payload["message"];
        var text = (string?)message?["text"];
        var ts = (string?)message?["ts"] ?? (string?)payload["message_ts"];
        if (channel is null || user is null || string.IsNullOrWhiteSpace(text) || ts is null)
        {
            return;
        }

        var thread = (string?)message!["thread_ts"] ?? ts;
        var type = channel.StartsWith('D') ? ConversationType.Personal : ConversationType.Channel;
        await inbox.AcceptAsync(new InboundTurn
        {
            Channel = ChannelKind.Slack,
            EventId = $"{place.TenantId}|shortcut|{(string?)payload["trigger_id"]}",
            TenantId = place.TenantId,
            Conversation = new ConversationReference(channel, thread, type, type == ConversationType.Personal ? null : [channel]),
            User = new UserReference(user, (string?)payload["user"]?["name"] ?? ""),
            Text = SlackEventHandler.StripMention(text, place.Bot.BotUserId),
            ReplyAddress = place.Address(channel, thread, user, type == ConversationType.Personal ? "im" : "channel"),
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);
    }

    private static JsonObject Ephemeral(string text) => new() { ["response_type"] = "ephemeral", ["text"] = text };
}
