using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Quotas;

/// <summary>Each role's daily and monthly token quota and messages per minute (empty: unlimited). People's own overrides win.</summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class QuotasModel(ChatDbContext db, AuditLog audit) : PageModel
{
    public IReadOnlyList<RoleQuota> Quotas { get; private set; } = [];

    public IReadOnlyDictionary<UserRole, int> Overrides { get; private set; } = new Dictionary<UserRole, int>();

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var stored = await db.RoleQuotas.AsNoTracking().ToListAsync(cancellationToken);
        Quotas = [.. Enum.GetValues<UserRole>().Select(r => stored.SingleOrDefault(q => q.Role == r) ?? new RoleQuota { Role = r })];
        Overrides = await db.Users.AsNoTracking()
            .Where(u => u.DailyTokenQuota != null || u.MonthlyTokenQuota != null || u.MessagesPerMinute != null)
            .GroupBy(u => u.Role)
            .Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
    }

    public async Task<IActionResult> OnPostAsync(UserRole role, long? dailyTokens, long? monthlyTokens, int? messagesPerMinute, CancellationToken cancellationToken)
    {
        if (!Enum.IsDefined(role))
        {
            return BadRequest();
        }

        if (dailyTokens < 0 || monthlyTokens < 0 || messagesPerMinute < 0)
        {
            TempData["Error"] = "Limits cannot be negative. Leave a field empty for no limit.";
            return RedirectToPage();
        }

        var quota = await db.RoleQuotas.SingleOrDefaultAsync(q => q.Role == role, cancellationToken);
        if (quota is null)
        {
            quota = new RoleQuota { Role = role };
            db.RoleQuotas.Add(quota);
        }

        var from = new { daily = quota.DailyTokens, monthly = quota.MonthlyTokens, perMinute = quota.MessagesPerMinute };
        (quota.DailyTokens, quota.MonthlyTokens, quota.MessagesPerMinute) = (dailyTokens, monthlyTokens, messagesPerMinute);
        await db.SaveChangesAsync(cancellationToken);
        var actor = Actor.Of(User);
        await audit.WriteAsync(actor.Name, actor.UserId, "quota.role.changed", "role", role.ToString(), new { from, to = new { daily = dailyTokens, monthly = monthlyTokens, perMinute = messagesPerMinute } }, cancellationToken);
        TempData["Notice"] = $"Saved the {role} quota. It applies from each person's next message.";
        return RedirectToPage();
    }
}
