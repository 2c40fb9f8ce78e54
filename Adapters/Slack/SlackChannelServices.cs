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
