using System.Globalization;
using ChatBot.AdminPortal.Charts;
using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Dashboard;

/// <summary>
/// Today's figures and the last 30 days, straight from the usage records (one read of the month's rows, aggregated
/// here so every database computes the same thing). Knowledge owners land on Documents instead.
/// </summary>
[Authorize(Policy = PortalPolicies.Knowledge)]
public sealed class DashboardModel(ChatDbContext db, TimeProvider clock) : PageModel
{
    public const int Days = 30;

    public DashboardStats Stats { get; private set; } = DashboardStats.Empty;

    public IReadOnlyList<ChartPoint> TurnsPerDay { get; private set; } = [];

    public IReadOnlyList<ChartPoint> UsersPerDay { get; private set; } = [];

    public IReadOnlyList<ChartPoint> CostPerDay { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!User.IsInRole(PortalPolicies.AdminRole))
        {
            return Redirect("/admin/documents");
        }

        var today = clock.GetUtcNow().UtcDateTime.Date;
        var since = today.AddDays(-(Days - 1));
        var rows = await db.UsageRecords.AsNoTracking()
            .Where(u => u.CreatedAt >= since)
            .Select(u => new { u.CreatedAt, u.UserId, Tokens = (long)u.InputTokens + u.OutputTokens, u.CostMicroUsd, u.LatencyMs, u.Outcome })
            .ToListAsync(cancellationToken);
        var week = today.AddDays(-6);
        var feedback = await db.Messages.AsNoTracking()
            .Where(m => m.Role == MessageRole.Assistant && m.Feedback != 0 && m.CreatedAt >= week)
            .GroupBy(m => m.Feedback > 0)
            .Select(g => new { Positive = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);

        var ofToday = rows.Where(r => r.CreatedAt >= today).ToList();
        var answeredOrFailed = ofToday.Count(r => r.Outcome != UsageOutcome.Refused);
        var latencies = ofToday.Where(r => r.Outcome == UsageOutcome.Answered).Select(r => r.LatencyMs).Order().ToList();
        var up = feedback.Where(f => f.Positive).Sum(f => f.Count);
        var down = feedback.Where(f => !f.Positive).Sum(f => f.Count);
        Stats = new DashboardStats(
            today,
            Users: await db.Users.CountAsync(cancellationToken),
            ActiveUsers: ofToday.Select(r => r.UserId).Distinct().Count(),
            ActiveUsersWeek: rows.Where(r => r.CreatedAt >= week).Select(r => r.UserId).Distinct().Count(),
            Turns: ofToday.Count,
            Tokens: ofToday.Sum(r => r.Tokens),
            CostMicroUsd: ofToday.Sum(r => r.CostMicroUsd),
            Failed: ofToday.Count(r => r.Outcome == UsageOutcome.Failed),
            Refused: ofToday.Count(r => r.Outcome == UsageOutcome.Refused),
            ErrorRate: answeredOrFailed == 0 ? null : (double)ofToday.Count(r => r.Outcome == UsageOutcome.Failed) / answeredOrFailed,
            P95LatencyMs: latencies.Count == 0 ? null : latencies[(int)Math.Ceiling(0.95 * latencies.Count) - 1],
            FeedbackPositive: up,
            FeedbackNegative: down);

        var byDay = Enumerable.Range(0, Days).Select(i => since.AddDays(i)).ToList();
        var grouped = rows.GroupBy(r => r.CreatedAt.Date).ToDictionary(g => g.Key);
        string Label(DateTime day) => day.ToString("d MMM", CultureInfo.InvariantCulture);
        TurnsPerDay = [.. byDay.Select(d => Point(Label(d), grouped.TryGetValue(d, out var g) ? g.Count() : 0, v => v.ToString("N0", CultureInfo.InvariantCulture) + " turns"))];
        UsersPerDay = [.. byDay.Select(d => Point(Label(d), grouped.TryGetValue(d, out var g) ? g.Select(r => r.UserId).Distinct().Count() : 0, v => v.ToString("N0", CultureInfo.InvariantCulture) + " users"))];
        CostPerDay = [.. byDay.Select(d => Point(Label(d), grouped.TryGetValue(d, out var g) ? g.Sum(r => r.CostMicroUsd) / 1_000_000.0 : 0, v => v.ToString("$0.00##", CultureInfo.InvariantCulture)))];
        return Page();
    }

    private static ChartPoint Point(string label, double value, Func<double, string> text) => new(label, value, text(value));
}

public sealed record DashboardStats(
    DateTime Day,
    int Users,
    int ActiveUsers,
    int ActiveUsersWeek,
    int Turns,
    long Tokens,
    long CostMicroUsd,
    int Failed,
    int Refused,
    double? ErrorRate,
    int? P95LatencyMs,
    int FeedbackPositive,
    int FeedbackNegative)
{
    public static DashboardStats Empty { get; } = new(default, 0, 0, 0, 0, 0, 0, 0, 0, null, null, 0, 0);

    public string CostText => Money.Format(CostMicroUsd);

    public string ErrorRateText => ErrorRate is { } rate ? rate.ToString("0.#%", CultureInfo.InvariantCulture) : "—";

    public string P95Text => P95LatencyMs is { } ms ? (ms / 1000.0).ToString("0.0 s", CultureInfo.InvariantCulture) : "—";

    public string FeedbackText => FeedbackPositive + FeedbackNegative == 0
        ? "—"
        : ((double)FeedbackPositive / (FeedbackPositive + FeedbackNegative)).ToString("0%", CultureInfo.InvariantCulture) + " helpful";
}
