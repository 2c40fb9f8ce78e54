namespace ChatBot.ChatData.Conversations;

public sealed class Message
{
    public long Id { get; set; }

    public Guid ConversationId { get; set; }

    public Conversation? Conversation { get; set; }

    /// <summary>The author of a user message; null for assistant messages.</summary>
    public Guid? UserId { get; set; }

    public MessageRole Role { get; set; }

    public required string Content { get; set; }

    /// <summary>Tokens of <see cref="Content"/> (input tokens of the turn for user messages, output tokens for answers).</summary>
    public int Tokens { get; set; }

    public string? Model { get; set; }

    public int? LatencyMs { get; set; }

    public int? TimeToFirstTokenMs { get; set; }

    /// <summary>-1 thumbs down, 0 none, 1 thumbs up.</summary>
    public int Feedback { get; set; }

    public string? FeedbackComment { get; set; }

    /// <summary>The sources an answer cited, as JSON.</summary>
    public string? CitationsJson { get; set; }

    /// <summary>The channel's id for the posted message (Teams activity id, Slack ts), for updates and feedback.</summary>
    public string? ExternalMessageId { get; set; }

    /// <summary>The inbox turn this message belongs to: a retried turn finds its messages instead of writing them twice.</summary>
    public long? InboxItemId { get; set; }

    /// <summary>When the channel confirmed the answer; an undelivered answer is re-sent when its turn is retried.</summary>
    public DateTime? DeliveredAt { get; set; }

    /// <summary>The model provider's content filter withheld (part of) this answer.</summary>
    public bool ContentFiltered { get; set; }

    public DateTime CreatedAt { get; set; }
}

public enum MessageRole
{
    User = 0,
    Assistant = 1,
    System = 2,
}
