using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatBot.Adapters.Slack.Api;
using ChatBot.Adapters.Slack.Installs;
using ChatBot.Adapters.Turns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack.Events;

/// <summary>
/// What the bot does with a verified <c>event_callback</c>. A message worth answering becomes an inbox turn whose
/// event id is the message itself (team, channel, ts): Slack's retries (same <c>event_id</c>) and the second copy of a
/// channel mention (<c>app_mention</c> and <c>message.channels</c>, different event ids) are one turn, answered once.
/// </summary>
internal sealed partial class SlackEventHandler(
    ITurnInbox inbox,
    IChannelInstallations threads,
    SlackInstallations installations,
    SlackBotApi api,
    IUserUsageReport usage,
    IOptions<SlackOptions> options,
    Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<SlackEventHandler> logger)
{
    /// <summary>What a person sees before asking anything (Slack shows at most four).</summary>
    internal static readonly (string Title, string Message)[] SuggestedPrompts =
    [
        ("What can you do?", "help"),
        ("Travel policy", "What is our travel expense policy?"),
        ("Onboarding", "What do I need to do in my first week?"),
        ("My usage", "usage"),
    ];

    /// <summary>Message subtypes that are a person saying something; every other subtype (edits, joins, bots…) is ignored.</summary>
    private static readonly HashSet<string> UserSubtypes = new(StringComparer.Ordinal) { "", "file_share", "thread_broadcast" };

    public async Task HandleAsync(JsonObject envelope, CancellationToken cancellationToken)
    {
        var authorization = envelope["authorizations"]?[0];
        var teamId = (string?)envelope["team_id"] ?? (string?)authorization?["team_id"];
        var enterpriseId = (string?)envelope["enterprise_id"] ?? (string?)authorization?["enterprise_id"];
        if (await installations.FindAsync(enterpriseId, teamId, cancellationToken) is not { } bot)
        {
            // Not installed there (never, or uninstalled, or its token revoked): acknowledged and dropped.
            Log.UnknownTeam(logger);
            return;
        }

        if (envelope["event"] is not JsonObject e)
        {
            return;
        }

        var workspace = new SlackPlace(bot, teamId ?? bot.TeamId, enterpriseId);
        switch ((string?)e["type"])
        {
            case "app_uninstalled":
            case "tokens_revoked" when RevokesBotToken(e, bot):
                await installations.DeactivateAsync(bot, (string)e["type"]!, cancellationToken);
                break;
            case "app_home_opened" when (string?)e["tab"] == "messages":
                // Agent experience: prompts for the Messages tab, without thread_ts (with it the call silently fails).
                AfterAcknowledgement(ct => SuggestAsync(bot, (string?)e["channel"], null, ct));
                break;
            case "app_home_opened" when (string?)e["tab"] == "home" && (string?)e["user"] is { } homeUser:
                AfterAcknowledgement(ct => PublishHomeAsync(workspace, homeUser, ct));
                break;
            case "assistant_thread_started":
                // Legacy assistant pane: prompts for the new thread, and what the person is looking at.
                await SaveAssistantContextAsync(workspace, e, cancellationToken);
                AfterAcknowledgement(ct => SuggestAsync(bot, (string?)e["assistant_thread"]?["channel_id"], (string?)e["assistant_thread"]?["thread_ts"], ct));
                break;
            case "assistant_thread_context_changed":
                await SaveAssistantContextAsync(workspace, e, cancellationToken);
                break;
            case "app_context_changed":
                await SaveAgentContextAsync(workspace, e, cancellationToken);
                break;
            case "app_mention":
            case "message":
                await OnMessageAsync(envelope, e, workspace, cancellationToken);
                break;
            case "member_joined_channel" when (string?)e["user"] == bot.BotUserId:
                await IntroduceAsync(bot, e, cancellationToken);
                break;
        }
    }

    private async Task OnMessageAsync(JsonObject envelope, JsonObject e, SlackPlace place, CancellationToken cancellationToken)
    {
        var identity = place.Bot;
        var subtype = (string?)e["subtype"] ?? "";
        var user = (string?)e["user"];
        var botId = (string?)e["bot_id"];
        if (!UserSubtypes.Contains(subtype) || (bool?)e["hidden"] == true || user is null
            || user == identity.BotUserId || botId == identity.BotId
            || (botId is not null && !options.Value.AnswerOtherBots))
        {
            return;
        }

        var channel = (string)e["channel"]!;
        var ts = (string)e["ts"]!;
        var threadTs = (string?)e["thread_ts"];
        var channelType = (string?)e["channel_type"] ?? (channel.StartsWith('D') ? "im" : "channel");
        var type = channelType switch
        {
            "im" => ConversationType.Personal,
            "mpim" => ConversationType.Group,
            _ => ConversationType.Channel,
        };
        var text = (string?)e["text"] ?? "";
        var mentioned = text.Contains($"<@{identity.BotUserId}", StringComparison.Ordinal);
        if (type != ConversationType.Personal && !mentioned)
        {
            // In channels: only mentions, or replies in a thread the bot already takes part in.
            if (threadTs is null || !await threads.InThreadAsync(ChannelKind.Slack, place.TenantId, channel, threadTs, cancellationToken))
            {
                return;
            }
        }

        // Every answer lives in a thread: the mention's own, or (agent experience) each DM message starts one.
        var thread = threadTs ?? ts;
        var turn = new InboundTurn
        {
            Channel = ChannelKind.Slack,
            EventId = $"{place.TenantId}|{channel}|{ts}",
            TenantId = place.TenantId,
            Conversation = new ConversationReference(channel, thread, type, type == ConversationType.Personal ? null : [channel]),
            User = new UserReference(user, ""),
            Text = StripMention(text, identity.BotUserId),
            Attachments = subtype == "file_share" ? FilesOf(e) : [],
            ReplyAddress = place.Address(channel, thread, user, channelType, ts),
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };
        if (turn.Text.Length == 0 && turn.Attachments.Count == 0)
        {
            return;
        }

        var receipt = await inbox.AcceptAsync(turn, cancellationToken);
        if (receipt.Duplicate)
        {
            Log.Duplicate(logger, (string?)envelope["event_id"] ?? "");
        }
    }

    /// <summary>
    /// The assistant pane tells which channel the person has open (when the thread starts and whenever it changes);
    /// kept with the thread, so an answer there can take it into account.
    /// </summary>
    private async Task SaveAssistantContextAsync(SlackPlace place, JsonObject e, CancellationToken cancellationToken)
    {
        var thread = e["assistant_thread"];
        if ((string?)thread?["channel_id"] is not { } channel || (string?)thread["thread_ts"] is not { } threadTs)
        {
            return;
        }

        var context = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SlackAddress.ContextChannel] = (string?)thread["context"]?["channel_id"] ?? "",
            [SlackAddress.ContextTeam] = (string?)thread["context"]?["team_id"] ?? "",
        };
        await threads.InstalledAsync(
            new ChannelInstallation(ChannelKind.Slack, place.TenantId, SlackAddress.AssistantThreadKey(channel, threadTs), ConversationType.Personal, context),
            cancellationToken);
    }

    /// <summary>
    /// The agent view's equivalent: <c>app_context_changed</c> names what the person has open (a channel, a canvas…)
    /// beside their DM with the bot; the first channel is kept for the DM.
    /// </summary>
    private async Task SaveAgentContextAsync(SlackPlace place, JsonObject e, CancellationToken cancellationToken)
    {
        if ((string?)e["channel"] is not { } channel)
        {
            return;
        }

        var open = (e["context"]?["entities"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(entity => (string?)entity["type"] == "slack#/types/channel_id");
        var context = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SlackAddress.ContextChannel] = (string?)open?["value"] ?? "",
            [SlackAddress.ContextTeam] = (string?)open?["team_id"] ?? "",
        };
        await threads.InstalledAsync(
            new ChannelInstallation(ChannelKind.Slack, place.TenantId, SlackAddress.AssistantThreadKey(channel, ""), ConversationType.Personal, context),
            cancellationToken);
    }

    private static bool RevokesBotToken(JsonObject e, SlackBot identity) =>
        (e["tokens"]?["bot"] as JsonArray ?? []).Any(b => b?.GetValue<string>() == identity.BotUserId);

    private void AfterAcknowledgement(Func<CancellationToken, Task> work) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await work(lifetime.ApplicationStopping);
            }
            catch (SlackApiException)
            {
                // Logged by the client.
            }
            catch (OperationCanceledException)
            {
            }
        });

    private async Task SuggestAsync(SlackBot bot, string? channel, string? threadTs, CancellationToken cancellationToken)
    {
        if (channel is null)
        {
            return;
        }

        var prompts = new JsonArray([.. SuggestedPrompts.Select(p => (JsonNode)new JsonObject { ["title"] = p.Title, ["message"] = p.Message })]);
        await api.CallAsync(bot, "assistant.threads.setSuggestedPrompts", new Dictionary<string, object?>
        {
            ["channel_id"] = channel, ["thread_ts"] = threadTs, ["title"] = "Try asking", ["prompts"] = prompts,
        }, cancellationToken);
    }

    /// <summary>The App Home tab: the person's usage against their quota, and how to use the bot.</summary>
    private async Task PublishHomeAsync(SlackPlace place, string user, CancellationToken cancellationToken)
    {
        var turn = new InboundTurn
        {
            Channel = ChannelKind.Slack, EventId = "home", TenantId = place.TenantId, ReplyAddress = place.Address(user, "", user, "im"),
            Conversation = new ConversationReference(user, "", ConversationType.Personal), User = new UserReference(user, ""),
        };
        var report = await usage.TextAsync(turn, cancellationToken);
        var view = new JsonObject
        {
            ["type"] = "home",
            ["blocks"] = new JsonArray(
                new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = "ChatBot" } },
                new JsonObject { ["type"] = "markdown", ["text"] = report },
                new JsonObject { ["type"] = "divider" },
                new JsonObject { ["type"] = "markdown", ["text"] = HomeHelp }),
        };
        await api.CallAsync(place.Bot, "views.publish", new Dictionary<string, object?> { ["user_id"] = user, ["view"] = view }, cancellationToken);
    }

    private const string HomeHelp = """
        **How to use me**
        - Ask in the **Messages** tab: each question gets its own thread, with sources you can check.
        - In a channel, mention **@ChatBot** and I answer in the thread; or use **/ask** *question*.
        - **/chatbot help**, **new**, **usage**, **sources** or **forget** run a command.
        - Knowledge owners: share a file with me to add it to the knowledge base.
        """;

    private async Task IntroduceAsync(SlackBot bot, JsonObject e, CancellationToken cancellationToken)
    {
        try
        {
            await api.CallAsync(bot, "chat.postMessage", new Dictionary<string, object?>
            {
                ["channel"] = (string?)e["channel"],
                ["text"] = "Hi! I answer questions from the company's knowledge and cite my sources. Mention me with a question, or send me a direct message.",
            }, cancellationToken);
        }
        catch (SlackApiException)
        {
            // Logged by the client; an intro is not worth failing the event for.
        }
    }

    /// <summary>
    /// The files of a <c>file_share</c> message (name, type, size and private download link are all in the event, so a
    /// too-large or unsupported file is refused before any download). The separate <c>file_shared</c> event for the same
    /// file is not used: one file, one intake.
    /// </summary>
    private static List<TurnAttachment> FilesOf(JsonObject e) =>
        [.. (e["files"]?.AsArray() ?? []).OfType<JsonObject>()
            .Where(f => ((string?)f["url_private_download"] ?? (string?)f["url_private"]) is not null)
            .Select(f => new TurnAttachment(
                (string?)f["name"] ?? "file",
                (string?)f["mimetype"] ?? "application/octet-stream",
                (long?)f["size"],
                ((string?)f["url_private_download"] ?? (string?)f["url_private"])!))];

    /// <summary>The text without the bot's own mention (<c>&lt;@U123&gt;</c> or <c>&lt;@U123|name&gt;</c>); other mentions stay.</summary>
    internal static string StripMention(string text, string botUserId) =>
        Regex.Replace(text, $@"<@{Regex.Escape(botUserId)}(\|[^>]*)?>", "", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)).Trim();

    private static partial class Log
    {
        [LoggerMessage(EventId = 810, Level = LogLevel.Information, Message = "Dropped a Slack event from a workspace this bot is not installed in")]
        public static partial void UnknownTeam(ILogger logger);

        [LoggerMessage(EventId = 811, Level = LogLevel.Debug, Message = "Slack event {EventId} repeats a message already in the inbox")]
        public static partial void Duplicate(ILogger logger, string eventId);
    }
}

/// <summary>
/// Where an event happened: the installation that serves it, the workspace and (Enterprise Grid) the org. Turns use
/// the org as their tenant when there is one, since Grid user and channel ids hold across its workspaces.
/// </summary>
internal sealed record SlackPlace(SlackBot Bot, string TeamId, string? EnterpriseId)
{
    public string TenantId => EnterpriseId ?? TeamId;

    public Dictionary<string, string> Address(string channel, string threadTs, string user, string channelType, string? messageTs = null)
    {
        var address = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SlackAddress.Channel] = channel,
            [SlackAddress.ThreadTs] = threadTs,
            [SlackAddress.TeamId] = TeamId,
            [SlackAddress.UserId] = user,
            [SlackAddress.ChannelType] = channelType,
        };
        if (EnterpriseId is not null)
        {
            address[SlackAddress.EnterpriseId] = EnterpriseId;
        }

        if (messageTs is not null)
        {
            address[SlackAddress.MessageTs] = messageTs;
        }

        return address;
    }
}

/// <summary>The keys of <see cref="InboundTurn.ReplyAddress"/> for Slack.</summary>
internal static class SlackAddress
{
    public const string Channel = "channel";
    public const string ThreadTs = "threadTs";
    public const string TeamId = "teamId";
    public const string EnterpriseId = "enterpriseId";

    /// <summary>The message being answered (for a reaction on it).</summary>
    public const string MessageTs = "messageTs";

    /// <summary>In a saved assistant-thread context: the channel the person has open, and its workspace.</summary>
    public const string ContextChannel = "contextChannel";
    public const string ContextTeam = "contextTeam";
    public const string UserId = "userId";
    public const string ChannelType = "channelType";

    /// <summary>A slash command's response URL: the answer goes there (no thread, maybe a channel the bot is not in).</summary>
    public const string ResponseUrl = "responseUrl";

    /// <summary>The question of an <c>/ask</c>, shown above the answer for the others in the channel.</summary>
    public const string Question = "question";

    /// <summary>The installation-store key under which an assistant thread's context is kept.</summary>
    public static string AssistantThreadKey(string channel, string threadTs) => $"assistant:{channel}:{threadTs}";
}
