using ChatBot.ChatData.Conversations;

namespace ChatBot.ChatData.Usage;

/// <summary>One model call's cost: what the usage pages and quotas add up.</summary>
public sealed class UsageRecord
{
    public long Id { get; set; }

    public Guid UserId { get; set; }

    public Channel Channel { get; set; }

    public Guid? ConversationId { get; set; }

    public required string Model { get; set; }

    public int InputTokens { get; set; }

    public int OutputTokens { get; set; }

    /// <summary>Cost in millionths of a US dollar (exact sums on every provider).</summary>
    public long CostMicroUsd { get; set; }

    public int LatencyMs { get; set; }

    public int? TimeToFirstTokenMs { get; set; }

    public UsageOutcome Outcome { get; set; }

    public DateTime CreatedAt { get; set; }
}

public enum UsageOutcome
{
    Answered = 0,
    Failed = 1,
    Refused = 2,
}
