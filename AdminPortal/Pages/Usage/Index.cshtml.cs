using System.Globalization;
using System.Text;
using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Usage;

public enum UsageGrouping
{
    Day,
    User,
    Channel,
    Model,
}

/// <summary>Turns, tokens and cost over a date range (UTC days, both ends included), by day, user, channel or model; also as CSV.</summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class UsageModel(ChatDbContext db, TimeProvider clock) : PageModel
{
    public const int MaxDays = 366;

    [BindProperty(SupportsGet = true)]
    public DateOnly? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public UsageGrouping By { get; set; } = UsageGrouping.Day;

    public IReadOnlyList<UsageLine> Lines { get; private set; } = [];

    public UsageLine Total { get; private set; } = UsageLine.Empty("Total");

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        (Lines, Total) = await QueryAsync(cancellationToken);

    /// <summary>The same figures as a CSV download (<c>?handler=csv</c>).</summary>
    public async Task<IActionResult> OnGetCsvAsync(CancellationToken cancellationToken)
    {
        var (lines, total) = await QueryAsync(cancellationToken);
        var text = new StringBuilder();
        text.Append(Csv.Line([By.ToString().ToLowerInvariant(), "turns", "input_tokens", "output_tokens", "cost_usd", "failed", "refused", "avg_latency_ms"]));
        foreach (var line in lines.Append(total))
        {
            text.Append(Csv.Line([
                line.Key,
                line.Turns.ToString(CultureInfo.InvariantCulture),
                line.InputTokens.ToString(CultureInfo.InvariantCulture),
                line.OutputTokens.ToString(CultureInfo.InvariantCulture),
                (line.CostMicroUsd / 1_000_000m).ToString("0.000000", CultureInfo.InvariantCulture),
                line.Failed.ToString(CultureInfo.InvariantCulture),
                line.Refused.ToString(CultureInfo.InvariantCulture),
                line.AverageLatencyMs.ToString(CultureInfo.InvariantCulture),
            ]));
        }

        var name = FormattableString.Invariant($"chatbot-usage-{By.ToString().ToLowerInvariant()}-{From:yyyy-MM-dd}-{To:yyyy-MM-dd}.csv");
        return File(Csv.Utf8WithBom(text), "text/csv; charset=utf-8", name);
    }

    private async Task<(IReadOnlyList<UsageLine> Lines, UsageLine Total)> QueryAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        To ??= today;
        From ??= To.Value.AddDays(-29);
        if (From > To)
        {
            (From, To) = (To, From);
        }

        if (To.Value.DayNumber - From.Value.DayNumber >= MaxDays)
        {
            From = To.Value.AddDays(-(MaxDays - 1));
        }

        var start = From.Value.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var end = To.Value.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var rows = await db.UsageRecords.AsNoTracking()
            .Where(u => u.CreatedAt >= start && u.CreatedAt < end)
            .Select(u => new { u.CreatedAt, u.UserId, u.Channel, u.Model, u.InputTokens, u.OutputTokens, u.CostMicroUsd, u.LatencyMs, u.Outcome })
            .ToListAsync(cancellationToken);
        var userIds = rows.Select(r => r.UserId).Distinct().ToList();
        var names = By == UsageGrouping.User
            ? await db.Users.AsNoTracking()
                .Where(u => userIds.Contains(u.Id))
                .ToDictionaryAsync(u => u.Id, u => u.Email is null ? u.DisplayName : $"{u.DisplayName} <{u.Email}>", cancellationToken)
            : [];
        var lines = rows
            .GroupBy(r => By switch
            {
                UsageGrouping.User => names.GetValueOrDefault(r.UserId, r.UserId.ToString()),
                UsageGrouping.Channel => r.Channel.ToString(),
                UsageGrouping.Model => r.Model,
                _ => r.CreatedAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            })
            .Select(g => Line(g.Key, g.Select(r => (r.InputTokens, r.OutputTokens, r.CostMicroUsd, r.LatencyMs, r.Outcome))))
            .OrderBy(l => By == UsageGrouping.Day ? l.Key : null, StringComparer.Ordinal)
            .ThenByDescending(l => l.CostMicroUsd)
            .ThenByDescending(l => l.Turns)
            .ToList();
        return (lines, Line("Total", rows.Select(r => (r.InputTokens, r.OutputTokens, r.CostMicroUsd, r.LatencyMs, r.Outcome))));
    }

    private static UsageLine Line(string key, IEnumerable<(int Input, int Output, long Cost, int Latency, UsageOutcome Outcome)> rows)
    {
        var list = rows.ToList();
        var answered = list.Where(r => r.Outcome == UsageOutcome.Answered).ToList();
        return new UsageLine(
            key,
            list.Count,
            list.Sum(r => (long)r.Input),
            list.Sum(r => (long)r.Output),
            list.Sum(r => r.Cost),
            list.Count(r => r.Outcome == UsageOutcome.Failed),
            list.Count(r => r.Outcome == UsageOutcome.Refused),
            answered.Count == 0 ? 0 : (int)answered.Average(r => r.Latency));
    }
}

public sealed record UsageLine(string Key, int Turns, long InputTokens, long OutputTokens, long CostMicroUsd, int Failed, int Refused, int AverageLatencyMs)
{
    public static UsageLine Empty(string key) => new(key, 0, 0, 0, 0, 0, 0, 0);
}
