using System.Globalization;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Dashboard;

/// <summary>Today's figures for admins, straight from the usage records.</summary>
[Authorize(Roles = "Admin")]
public sealed class DashboardModel(ChatDbContext db, TimeProvider clock) : PageModel
{
    public DashboardStats Stats { get; private set; } = DashboardStats.Empty;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var day = clock.GetUtcNow().UtcDateTime.Date;
        var today = db.UsageRecords.AsNoTracking().Where(u => u.CreatedAt >= day);
        var byOutcome = await today
            .GroupBy(u => u.Outcome)
            .Select(g => new { Outcome = g.Key, Count = g.Count(), Tokens = g.Sum(u => (long)u.InputTokens + u.OutputTokens), Cost = g.Sum(u => u.CostMicroUsd) })
            .ToListAsync(cancellationToken);
        Stats = new DashboardStats(
            day,
            Users: await db.Users.CountAsync(cancellationToken),
            ActiveUsers: await today.Select(u => u.UserId).Distinct().CountAsync(cancellationToken),
            Turns: byOutcome.Sum(o => o.Count),
            Tokens: byOutcome.Sum(o => o.Tokens),
            CostMicroUsd: byOutcome.Sum(o => o.Cost),
            Failed: byOutcome.Where(o => o.Outcome == UsageOutcome.Failed).Sum(o => o.Count),
            Refused: byOutcome.Where(o => o.Outcome == UsageOutcome.Refused).Sum(o => o.Count));
    }
}

public sealed record DashboardStats(DateTime Day, int Users, int ActiveUsers, int Turns, long Tokens, long CostMicroUsd, int Failed, int Refused)
{
    public static DashboardStats Empty { get; } = new(default, 0, 0, 0, 0, 0, 0, 0);

    public string CostText => (CostMicroUsd / 1_000_000m).ToString("$0.00##", CultureInfo.InvariantCulture);
}
