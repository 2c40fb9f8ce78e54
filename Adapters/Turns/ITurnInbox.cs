namespace ChatBot.Adapters.Turns;

/// <summary>Where adapters put verified turns. The turn is durable when this returns; only then does the channel get its acknowledgement.</summary>
public interface ITurnInbox
{
    Task<InboxReceipt> AcceptAsync(InboundTurn turn, CancellationToken cancellationToken);
}

/// <param name="TurnId">The inbox id of the stored turn (the earlier one for a duplicate).</param>
/// <param name="Duplicate">True when this channel event id was seen before; nothing new was stored.</param>
public sealed record InboxReceipt(long TurnId, bool Duplicate);
