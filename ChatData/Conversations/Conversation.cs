namespace ChatBot.ChatData.Conversations;

/// <summary>
/// One thread of talk. Keyed by the channel's own reference (conversation id + thread id);
/// a "new" command starts the next <see cref="Generation"/> on the same reference.
/// </summary>
public sealed class Conversation
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Channel Channel { get; set; }

    /// <summary>Teams tenant id, Slack team id, or "" for the web.</summary>
    public string TenantId { get; set; } = "";

    /// <summary>Teams conversation id, Slack channel id, or the web conversation's id.</summary>
    public required string ExternalId { get; set; }

    /// <summary>Teams reply chain root / Slack thread_ts; "" when the conversation has no threads.</summary>
    public string ThreadId { get; set; } = "";

    public int Generation { get; set; }

    public ConversationKind Kind { get; set; }

    public string? Title { get; set; }

    /// <summary>The person a personal or web conversation belongs to; null for shared ones.</summary>
    public Guid? OwnerUserId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? ArchivedAt { get; set; }

    public List<Message> Messages { get; set; } = [];
}

public enum ConversationKind
{
    Personal = 0,
    Group = 1,
    Channel = 2,
}
