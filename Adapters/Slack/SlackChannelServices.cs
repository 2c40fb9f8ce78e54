using System.Text.Json;
using ChatBot.Adapters.Slack.Api;
using ChatBot.Adapters.Slack.Events;
using ChatBot.Adapters.Slack.Installs;
using ChatBot.Adapters.Turns;

namespace ChatBot.Adapters.Slack;

/// <summary>
/// A Slack user's name and email (<c>users.info</c>, needs users:read.email) so their identity links to Teams and the
/// web. No email (a guest, an external user, a missing scope): the person stays unlinked, never matched by name.
/// </summary>
internal sealed class SlackUserDirectory(SlackBotApi api) : IChannelUserDirectory
{
    public ChannelKind Channel => ChannelKind.Slack;

    public async Task<UserReference?> DescribeAsync(InboundTurn turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        try
        {
            var info = await api.CallAsync(turn.ReplyAddress, "users.info", new Dictionary<string, object?> { ["user"] = turn.User.Id }, cancellationToken);
            var user = info["user"];
            var name = (string?)user?["profile"]?["real_name"] ?? (string?)user?["real_name"] ?? (string?)user?["name"] ?? turn.User.Id;
            var email = (bool?)user?["is_bot"] == true ? null : (string?)user?["profile"]?["email"];
            return turn.User with { DisplayName = name, Email = string.IsNullOrWhiteSpace(email) ? null : email };
        }
        catch (SlackApiException)
        {
            return null;
        }
    }
}

/// <summary>
/// Downloads a file shared with the bot: <c>url_private_download</c> with the bot token (files:read), only from Slack's
/// own https hosts (or a loopback test server). Too large per the event's size: refused before any download. An HTML
/// page instead of the file means the token lacks files:read: said so plainly.
/// </summary>
internal sealed class SlackAttachmentDownloader(IHttpClientFactory httpClients, SlackInstallations installations) : IAttachmentDownloader
{
    public const string HttpClientName = "slack-files";

    public ChannelKind Channel => ChannelKind.Slack;

    public async Task<Stream> DownloadAsync(InboundTurn turn, TurnAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(attachment);
        if (attachment.Size > maxBytes)
        {
            throw new AttachmentRefusedException(CappedDownload.TooLarge(attachment, maxBytes));
        }

        if (!Uri.TryCreate(attachment.DownloadUrl, UriKind.Absolute, out var url)
            || !((url.Scheme == Uri.UriSchemeHttps && (url.Host == "slack.com" || url.Host.EndsWith(".slack.com", StringComparison.OrdinalIgnoreCase)))
                || (url.Scheme == Uri.UriSchemeHttp && OptionsUrls.IsLoopback(url))))
        {
            // The bot token only goes to Slack.
            throw new AttachmentRefusedException($"I can't download “{attachment.Name}”: it is not stored in Slack.");
        }

        SlackBot bot;
        try
        {
            bot = await installations.ForAddressAsync(turn.ReplyAddress, cancellationToken);
        }
        catch (SlackApiException ex)
        {
            throw new AttachmentRefusedException($"I can't download “{attachment.Name}”: ChatBot is no longer installed in this workspace.", ex);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bot.Token);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new AttachmentRefusedException($"I couldn't download “{attachment.Name}” from Slack (status {(int)response.StatusCode}).");
        }

        if (response.Content.Headers.ContentType?.MediaType == "text/html" && !attachment.Name.EndsWith(".html", StringComparison.OrdinalIgnoreCase) && !attachment.Name.EndsWith(".htm", StringComparison.OrdinalIgnoreCase))
        {
            throw new AttachmentRefusedException($"I couldn't read “{attachment.Name}”: Slack sent a sign-in page instead of the file, so this app is missing the files:read permission. Ask your Slack admin to reinstall ChatBot.");
        }

        return await CappedDownload.ReadAsync(response, attachment, maxBytes, cancellationToken);
    }
}

/// <summary>Messages the bot starts (a document finished indexing): posted in the thread the file came from.</summary>
internal sealed class SlackNoticeChannel(SlackBotApi api) : INoticeChannel
{
    public ChannelKind Channel => ChannelKind.Slack;

    public async Task SendNoticeAsync(string replyAddress, string text, CancellationToken cancellationToken)
    {
        var address = JsonSerializer.Deserialize<Dictionary<string, string>>(replyAddress) ?? [];
        await api.CallAsync(address, "chat.postMessage", new Dictionary<string, object?>
        {
            ["channel"] = address[SlackAddress.Channel],
            ["thread_ts"] = address.GetValueOrDefault(SlackAddress.ThreadTs),
            ["markdown_text"] = text,
        }, cancellationToken);
    }
}

/// <summary>
/// What Slack shows around a question that the bot did not see: in a channel thread it was called into, the thread's
/// earlier messages (<c>conversations.replies</c>); in the assistant pane, the channel the person has open. Failures
/// (a missing scope, a channel the bot left) leave the context out rather than the answer.
/// </summary>
internal sealed partial class SlackChannelContext(SlackBotApi api, IChannelInstallations threads, Microsoft.Extensions.Logging.ILogger<SlackChannelContext> logger) : IChannelContext
{
    private const int MaxMessages = 30;
    private const int MaxCharactersPerMessage = 1_000;

    public ChannelKind Channel => ChannelKind.Slack;

    public async Task<string?> DescribeAsync(InboundTurn turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var address = turn.ReplyAddress;
        var channel = address.GetValueOrDefault(SlackAddress.Channel);
        var threadTs = address.GetValueOrDefault(SlackAddress.ThreadTs);
        var messageTs = address.GetValueOrDefault(SlackAddress.MessageTs);
        if (string.IsNullOrEmpty(channel) || string.IsNullOrEmpty(threadTs))
        {
            return null;
        }

        try
        {
            if (address.GetValueOrDefault(SlackAddress.ChannelType) == "im")
            {
                return await AssistantContextAsync(turn, channel, threadTs, cancellationToken);
            }

            // Only a reply in a thread has earlier messages the bot may not have seen.
            return messageTs is not null && messageTs != threadTs ? await ThreadAsync(address, channel, threadTs, messageTs, cancellationToken) : null;
        }
        catch (SlackApiException ex)
        {
            Log.Unavailable(logger, ex.Method, ex.Error);
            return null;
        }
    }

    private async Task<string?> ThreadAsync(IReadOnlyDictionary<string, string> address, string channel, string threadTs, string messageTs, CancellationToken cancellationToken)
    {
        var bot = await api.BotAsync(address, cancellationToken);
        var replies = await api.CallAsync(bot, "conversations.replies", new Dictionary<string, object?>
        {
            ["channel"] = channel, ["ts"] = threadTs, ["limit"] = "200", ["latest"] = messageTs, ["inclusive"] = false,
        }, cancellationToken);
        var lines = (replies["messages"] as System.Text.Json.Nodes.JsonArray ?? [])
            .OfType<System.Text.Json.Nodes.JsonObject>()
            .Where(m => (string?)m["ts"] != messageTs && (string?)m["user"] != bot.BotUserId && (string?)m["bot_id"] != bot.BotId)
            .Where(m => !string.IsNullOrWhiteSpace((string?)m["text"]))
            .TakeLast(MaxMessages)
            .Select(m => $"<@{(string?)m["user"] ?? (string?)m["username"] ?? "someone"}>: {Shorten((string)m["text"]!)}")
            .ToList();
        return lines.Count == 0 ? null : "Earlier messages in this Slack thread, oldest first:\n" + string.Join("\n", lines);
    }

    private async Task<string?> AssistantContextAsync(InboundTurn turn, string channel, string threadTs, CancellationToken cancellationToken)
    {
        // The legacy assistant pane keeps a context per thread; the agent view one per DM.
        var saved = await threads.FindFirstAsync(ChannelKind.Slack, turn.TenantId, [SlackAddress.AssistantThreadKey(channel, threadTs), SlackAddress.AssistantThreadKey(channel, "")], cancellationToken);
        if (saved?.Address.GetValueOrDefault(SlackAddress.ContextChannel) is not { Length: > 0 } open)
        {
            return null;
        }

        var name = open;
        try
        {
            var info = await api.CallAsync(turn.ReplyAddress, "conversations.info", new Dictionary<string, object?> { ["channel"] = open }, cancellationToken);
            name = (string?)info["channel"]?["name"] is { Length: > 0 } n ? "#" + n : open;
        }
        catch (SlackApiException)
        {
            // The bot is not in that channel, or may not read it: its id is all there is.
        }

        return $"The person has the Slack channel {name} (<#{open}>) open beside this conversation.";
    }

    private static string Shorten(string text) => text.Length <= MaxCharactersPerMessage ? text : text[..MaxCharactersPerMessage] + "…";

    private static partial class Log
    {
        [Microsoft.Extensions.Logging.LoggerMessage(EventId = 850, Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "Slack context left out: {Method} answered {Error}")]
        public static partial void Unavailable(Microsoft.Extensions.Logging.ILogger logger, string method, string error);
    }
}
