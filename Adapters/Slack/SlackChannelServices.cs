using System.Text.Json;
using ChatBot.Adapters.Slack.Api;
using ChatBot.Adapters.Slack.Events;
using ChatBot.Adapters.Turns;

namespace ChatBot.Adapters.Slack;

/// <summary>
/// A Slack user's name and email (<c>users.info</c>, needs users:read.email) so their identity links to Teams and the
/// web. No email (a guest, an external user, a missing scope): the person stays unlinked, never matched by name.
/// </summary>
internal sealed class SlackUserDirectory(SlackApiClient api) : IChannelUserDirectory
{
    public ChannelKind Channel => ChannelKind.Slack;

    public async Task<UserReference?> DescribeAsync(InboundTurn turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        try
        {
            var info = await api.CallAsync("users.info", new Dictionary<string, object?> { ["user"] = turn.User.Id }, cancellationToken);
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
internal sealed class SlackAttachmentDownloader(IHttpClientFactory httpClients, Microsoft.Extensions.Options.IOptions<SlackOptions> options) : IAttachmentDownloader
{
    public const string HttpClientName = "slack-files";

    public ChannelKind Channel => ChannelKind.Slack;

    public async Task<Stream> DownloadAsync(TurnAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
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

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.Value.BotToken);
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
internal sealed class SlackNoticeChannel(SlackApiClient api) : INoticeChannel
{
    public ChannelKind Channel => ChannelKind.Slack;

    public async Task SendNoticeAsync(string replyAddress, string text, CancellationToken cancellationToken)
    {
        var address = JsonSerializer.Deserialize<Dictionary<string, string>>(replyAddress) ?? [];
        await api.CallAsync("chat.postMessage", new Dictionary<string, object?>
        {
            ["channel"] = address[SlackAddress.Channel],
            ["thread_ts"] = address.GetValueOrDefault(SlackAddress.ThreadTs),
            ["markdown_text"] = text,
        }, cancellationToken);
    }
}
