namespace ChatBot.ChatData.Usage;

/// <summary>
/// What a user has used in one period ("day:2026-11-24", "month:2026-11", "minute:2026-11-24T08:37").
/// Reserved and settled with single conditional UPDATE statements, so concurrent turns stay exact.
/// </summary>
public sealed class QuotaCounter
{
    public Guid UserId { get; set; }

    public required string Period { get; set; }

    public long Used { get; set; }

    public DateTime UpdatedAt { get; set; }
}
