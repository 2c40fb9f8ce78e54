using System.Text.Json;
using ChatBot.Adapters.Teams.Activities;
using ChatBot.Adapters.Teams.Auth;
using ChatBot.Adapters.Teams.Connector;
using ChatBot.Adapters.Teams.Replies;
using ChatBot.Adapters.Turns;

namespace ChatBot.Adapters.Teams;

/// <summary>
/// Downloads a file from a personal chat: <c>downloadUrl</c> is a short-lived pre-authorised link, fetched once and
/// with no token (the bot's token is never sent there). Only https (http for loopback test servers).
/// </summary>
internal sealed class TeamsAttachmentDownloader(IHttpClientFactory httpClients) : IAttachmentDownloader
{
    public ChannelKind Channel => ChannelKind.Teams;

    public async Task<Stream> DownloadAsync(InboundTurn turn, TurnAttachment attachment, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        if (!Uri.TryCreate(attachment.DownloadUrl, UriKind.Absolute, out var url)
            || !(url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && OptionsUrls.IsLoopback(url))))
        {
            throw new AttachmentRefusedException($"I can't download “{attachment.Name}”: Teams gave no usable link.");
        }

        var http = httpClients.CreateClient(TeamsHttpClients.Files);
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new AttachmentRefusedException($"I couldn't download “{attachment.Name}” from Teams (status {(int)response.StatusCode}). Please send it again.");
        }

        return await CappedDownload.ReadAsync(response, attachment, maxBytes, cancellationToken);
    }
}

/// <summary>A Teams user's email and object id, from the connector, so their identity links to the web and Slack.</summary>
internal sealed class TeamsUserDirectory(ConnectorClient connector) : IChannelUserDirectory
{
    public ChannelKind Channel => ChannelKind.Teams;

    public async Task<UserReference?> DescribeAsync(InboundTurn turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var address = turn.ReplyAddress;
        if (!address.TryGetValue(TeamsTurns.Address.UserId, out var userId) || string.IsNullOrEmpty(userId))
        {
            return null;
        }

        TeamsMember? member;
        try
        {
            member = await connector.GetMemberAsync(address[TeamsTurns.Address.ServiceUrl], address[TeamsTurns.Address.ConversationId], userId, cancellationToken);
        }
        catch (ConnectorException)
        {
            // Without the email the person is still served; their identities just stay unlinked for now.
            return null;
        }

        var email = member?.Email is { Length: > 0 } e ? e : member?.UserPrincipalName is { } upn && upn.Contains('@', StringComparison.Ordinal) ? upn : null;
        return member is null ? null : turn.User with { Email = email, DisplayName = member.Name ?? turn.User.DisplayName };
    }
}

/// <summary>
/// Messages the bot starts on its own (a document finished indexing). In a personal chat it opens the 1:1
/// conversation with the person through the connector (as proactive messages are made); elsewhere it posts to the
/// conversation (a channel thread keeps its thread).
/// </summary>
internal sealed class TeamsNoticeChannel(ConnectorClient connector) : INoticeChannel
{
    public ChannelKind Channel => ChannelKind.Teams;

    public static string AddressText(IReadOnlyDictionary<string, string> address) => JsonSerializer.Serialize(address);

    public async Task SendNoticeAsync(string replyAddress, string text, CancellationToken cancellationToken)
    {
        var address = JsonSerializer.Deserialize<Dictionary<string, string>>(replyAddress) ?? [];
        var serviceUrl = address[TeamsTurns.Address.ServiceUrl];
        var conversationId = address[TeamsTurns.Address.ConversationId];
        if (address.GetValueOrDefault(TeamsTurns.Address.ConversationType) == nameof(ConversationType.Personal))
        {
            conversationId = await connector.CreatePersonalConversationAsync(
                serviceUrl, address[TeamsTurns.Address.BotId], address[TeamsTurns.Address.UserId], address[TeamsTurns.Address.TenantId], cancellationToken);
        }

        await connector.SendAsync(serviceUrl, conversationId, TeamsMessages.Text(text), null, cancellationToken);
    }
}
