namespace ChatBot.Adapters.Turns;

/// <summary>
/// A message the bot sends on its own (not as the answer to a turn), such as "your document is indexed", to an address
/// the channel gave earlier (<see cref="InboundTurn.ReplyAddress"/>). One implementation per channel that can do it.
/// </summary>
public interface INoticeChannel
{
    ChannelKind Channel { get; }

    Task SendNoticeAsync(string replyAddress, string text, CancellationToken cancellationToken);
}

/// <summary>Where a later notice goes: the channel and its reply address, kept as one opaque string.</summary>
public static class NoticeAddress
{
    public static string Format(ChannelKind channel, string replyAddress) => $"{channel}|{replyAddress}";

    /// <summary>The address of a turn's conversation: its reply address as JSON, which each notice channel reads back.</summary>
    public static string ForTurn(InboundTurn turn)
    {
        ArgumentNullException.ThrowIfNull(turn);
        return Format(turn.Channel, System.Text.Json.JsonSerializer.Serialize(turn.ReplyAddress));
    }

    public static bool TryParse(string? value, out ChannelKind channel, out string replyAddress)
    {
        replyAddress = "";
        channel = default;
        var bar = value?.IndexOf('|', StringComparison.Ordinal) ?? -1;
        if (bar <= 0 || !Enum.TryParse(value![..bar], out channel))
        {
            return false;
        }

        replyAddress = value[(bar + 1)..];
        return true;
    }
}
