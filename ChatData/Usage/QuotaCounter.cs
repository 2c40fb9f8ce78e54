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

    public static string DayPeriod(DateTime utc) => "day:" + utc.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    public static string MonthPeriod(DateTime utc) => "month:" + utc.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    public static string MinutePeriod(DateTime utc) => "minute:" + utc.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture);
}
