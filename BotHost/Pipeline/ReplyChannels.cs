using ChatBot.Adapters.Turns;

namespace ChatBot.BotHost.Pipeline;

/// <summary>The reply channel of every registered adapter, by channel.</summary>
internal sealed class ReplyChannels(IEnumerable<IReplyChannel> channels)
{
    private readonly Dictionary<ChannelKind, IReplyChannel> _byChannel = channels.ToDictionary(c => c.Channel);

    public IReplyWriter Open(InboundTurn turn, long turnId) =>
        _byChannel.TryGetValue(turn.Channel, out var channel)
            ? channel.Open(turn, turnId)
            : throw new InvalidOperationException($"No adapter answers {turn.Channel} turns.");
}
