using ChatBot.ChatData.Conversations;

namespace ChatBot.ChatData.Inbox;

/// <summary>
/// An inbound turn, stored before the channel is acknowledged. Unique per (channel, event id):
/// channel retries and duplicates end at the insert.
/// </summary>
public sealed class InboxItem
{
    public long Id { get; set; }

    public Channel Channel { get; set; }

    public required string EventId { get; set; }

    /// <summary>Turns with the same key run one at a time, in <see cref="Id"/> order.</summary>
    public required string ConversationKey { get; set; }

    /// <summary>The channel-neutral turn as JSON.</summary>
    public required string Payload { get; set; }

    public InboxStatus Status { get; set; }

    public int Attempts { get; set; }

    public string? LeaseOwner { get; set; }

    /// <summary>
    /// The host that should run this turn (its answer streams to a browser that host holds); null when any host may.
    /// Another host takes it over only when it has waited too long (the host is gone).
    /// </summary>
    public string? Affinity { get; set; }

    /// <summary>The W3C traceparent of the request that stored the turn, so the turn's trace continues the webhook's.</summary>
    public string? TraceParent { get; set; }

    public DateTime? LeaseUntil { get; set; }

    public DateTime ReceivedAt { get; set; }

    public DateTime? CompletedAt { get; set; }

    public string? Error { get; set; }
}

public enum InboxStatus
{
    Pending = 0,
    Processing = 1,
    Done = 2,
    Failed = 3,
}
