using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Users;

/// <summary>
/// One person: linked identities, usage against quota, recent conversations (metadata), and the admin's levers —
/// role, suspension, quota override. Changes take effect at the person's next message (nothing is cached) and are
/// audited. An admin cannot demote or suspend themselves, nor remove the last active admin.
/// </summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class UserDetailsModel(ChatDbContext db, AuditLog audit, ApiKeys apiKeys, UserSuspensions suspensions, IPersonalData personalData, TimeProvider clock) : PageModel
{
    public IReadOnlyList<ApiKeyView> Keys { get; private set; } = [];

    /// <summary>A key just created for this person, shown this once.</summary>
    public string? NewKey { get; private set; }

    public User Person { get; private set; } = null!;

    public IReadOnlyList<ChannelIdentity> Identities { get; private set; } = [];

    public IReadOnlyList<ConversationRow> Conversations { get; private set; } = [];

    public long UsedToday { get; private set; }

    public long UsedThisMonth { get; private set; }

    public RoleQuota? RoleQuota { get; private set; }

    public int Turns30Days { get; private set; }

    public long Cost30DaysMicroUsd { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        var person = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (person is null)
        {
            return NotFound();
        }

        Person = person;
        Identities = await db.ChannelIdentities.AsNoTracking().Where(i => i.UserId == id).OrderBy(i => i.Channel).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        string day = QuotaCounter.DayPeriod(now), month = QuotaCounter.MonthPeriod(now);
        var counters = await db.QuotaCounters.AsNoTracking().Where(c => c.UserId == id && (c.Period == day || c.Period == month)).ToListAsync(cancellationToken);
        UsedToday = counters.Where(c => c.Period == day).Sum(c => c.Used);
        UsedThisMonth = counters.Where(c => c.Period == month).Sum(c => c.Used);
        RoleQuota = await db.RoleQuotas.AsNoTracking().SingleOrDefaultAsync(q => q.Role == person.Role, cancellationToken);
        var since = now.Date.AddDays(-29);
        var usage = await db.UsageRecords.AsNoTracking().Where(u => u.UserId == id && u.CreatedAt >= since).Select(u => u.CostMicroUsd).ToListAsync(cancellationToken);
        Turns30Days = usage.Count;
        Cost30DaysMicroUsd = usage.Sum();
        Keys = await apiKeys.ListAsync(id, cancellationToken);
        Conversations = await db.Conversations.AsNoTracking()
            .Where(c => c.OwnerUserId == id || c.Messages.Any(m => m.UserId == id))
            .OrderByDescending(c => c.UpdatedAt)
            .Take(10)
            .Select(c => new ConversationRow(c.Id, c.Channel, c.Kind, c.Messages.Count, c.Messages.Count(m => m.Feedback > 0), c.Messages.Count(m => m.Feedback < 0), c.CreatedAt, c.UpdatedAt))
            .ToListAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRoleAsync(Guid id, UserRole role, CancellationToken cancellationToken)
    {
        var person = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (person is null || !Enum.IsDefined(role))
        {
            return NotFound();
        }

        if (person.Role == role)
        {
            return Back();
        }

        if (person.Role == UserRole.Admin && await IsLastActiveAdminOrSelfAsync(person, cancellationToken) is { } refusal)
        {
            return Back(error: refusal);
        }

        var from = person.Role;
        person.Role = role;
        await db.SaveChangesAsync(cancellationToken);
        await AuditAsync("user.role.changed", person, new { from = from.ToString(), to = role.ToString() }, cancellationToken);
        return Back($"{person.DisplayName} is now {role}.");
    }

    public Task<IActionResult> OnPostSuspendAsync(Guid id, CancellationToken cancellationToken) => SetSuspendedAsync(id, true, cancellationToken);

    public Task<IActionResult> OnPostReactivateAsync(Guid id, CancellationToken cancellationToken) => SetSuspendedAsync(id, false, cancellationToken);

    /// <summary>The person's own limits; an empty field falls back to their role's.</summary>
    public async Task<IActionResult> OnPostQuotaAsync(Guid id, long? dailyTokens, long? monthlyTokens, int? messagesPerMinute, CancellationToken cancellationToken)
    {
        var person = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (person is null)
        {
            return NotFound();
        }

        if (dailyTokens < 0 || monthlyTokens < 0 || messagesPerMinute < 0)
        {
            return Back(error: "Limits cannot be negative. Leave a field empty to use the role's limit.");
        }

        var from = new { daily = person.DailyTokenQuota, monthly = person.MonthlyTokenQuota, perMinute = person.MessagesPerMinute };
        (person.DailyTokenQuota, person.MonthlyTokenQuota, person.MessagesPerMinute) = (dailyTokens, monthlyTokens, messagesPerMinute);
        await db.SaveChangesAsync(cancellationToken);
        await AuditAsync("user.quota.changed", person, new { from, to = new { daily = dailyTokens, monthly = monthlyTokens, perMinute = messagesPerMinute } }, cancellationToken);
        return Back("Quota saved.");
    }

    /// <summary>A key for this person (an integration acting as them), shown once; scopes beyond their role give nothing at use.</summary>
    public async Task<IActionResult> OnPostCreateKeyAsync(Guid id, string? name, string[]? scopes, int? expiresDays, CancellationToken cancellationToken)
    {
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return NotFound();
        }

        string? secret = null;
        try
        {
            var actor = Actor.Of(User);
            var created = await apiKeys.CreateAsync(id, string.IsNullOrWhiteSpace(name) ? "integration" : name.Trim(), scopes ?? [], expiresDays, actor.UserId, cancellationToken);
            await audit.WriteAsync(actor.Name, actor.UserId, "apikey.created", "user", id.ToString(), new { created.Key.Prefix, created.Key.Scopes, created.Key.ExpiresAt }, cancellationToken);
            secret = created.Secret;
        }
        catch (ArgumentException ex)
        {
            TempData["Error"] = ex.Message.Split(" (Parameter", StringSplitOptions.None)[0];
            return RedirectToPage();
        }

        var page = await OnGetAsync(id, cancellationToken);
        NewKey = secret;
        return page;
    }

    /// <summary>The person's data as a JSON download (audited: an export is a disclosure).</summary>
    public async Task<IActionResult> OnGetExportAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await personalData.ExportAsync(id, cancellationToken) is not { } export)
        {
            return NotFound();
        }

        var actor = Actor.Of(User);
        await audit.WriteAsync(actor.Name, actor.UserId, "user.exported", "user", id.ToString(), null, cancellationToken);
        var json = System.Text.Encoding.UTF8.GetBytes(export.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return File(json, "application/json", $"chatbot-user-{id}.json");
    }

    public async Task<IActionResult> OnPostEraseAsync(Guid id, string? confirm, CancellationToken cancellationToken)
    {
        if (!string.Equals(confirm?.Trim(), "ERASE", StringComparison.Ordinal))
        {
            return Back(error: "Type ERASE in the box to confirm; nothing was erased.");
        }

        var actor = Actor.Of(User);
        return await personalData.EraseAsync(id, actor.Name, actor.UserId, cancellationToken) switch
        {
            ErasureOutcome.NotFound => NotFound(),
            ErasureOutcome.Self => Back(error: "You cannot erase yourself; ask another admin."),
            ErasureOutcome.Admin => Back(error: "Admins cannot be erased; change their role first."),
            _ => Back("The person is erased: their history, identities, sign-in and keys are gone."),
        };
    }

    public async Task<IActionResult> OnPostRevokeKeyAsync(Guid id, Guid keyId, CancellationToken cancellationToken)
    {
        if (!await apiKeys.RevokeAsync(keyId, id, cancellationToken))
        {
            return NotFound();
        }

        var actor = Actor.Of(User);
        await audit.WriteAsync(actor.Name, actor.UserId, "apikey.revoked", "user", id.ToString(), new { key = keyId }, cancellationToken);
        return Back("Key revoked: programs using it are refused from now on.");
    }

    private async Task<IActionResult> SetSuspendedAsync(Guid id, bool suspended, CancellationToken cancellationToken)
    {
        var actor = Actor.Of(User);
        var name = await db.Users.Where(u => u.Id == id).Select(u => u.DisplayName).FirstOrDefaultAsync(cancellationToken);
        return await suspensions.SetAsync(id, suspended, actor.Name, actor.UserId, null, cancellationToken) switch
        {
            SuspensionOutcome.NotFound => NotFound(),
            SuspensionOutcome.Self => Back(error: "You cannot demote or suspend yourself; ask another admin."),
            SuspensionOutcome.LastAdmin => Back(error: "This is the last active admin; make someone else an admin first."),
            SuspensionOutcome.Unchanged => Back(),
            _ => Back(suspended ? $"{name} is suspended: ChatBot refuses their messages and sign-ins from now on." : $"{name} is active again."),
        };
    }

    private async Task<string?> IsLastActiveAdminOrSelfAsync(User person, CancellationToken cancellationToken)
    {
        if (Actor.Of(User).UserId == person.Id)
        {
            return "You cannot demote or suspend yourself; ask another admin.";
        }

        var otherAdmins = await db.Users.CountAsync(u => u.Role == UserRole.Admin && !u.IsSuspended && u.Id != person.Id, cancellationToken);
        return otherAdmins == 0 ? "This is the last active admin; make someone else an admin first." : null;
    }

    private Task AuditAsync(string action, User person, object? details, CancellationToken cancellationToken)
    {
        var actor = Actor.Of(User);
        return audit.WriteAsync(actor.Name, actor.UserId, action, "user", person.Id.ToString(), details, cancellationToken);
    }

    private RedirectToPageResult Back(string? notice = null, string? error = null)
    {
        TempData["Notice"] = notice;
        TempData["Error"] = error;
        return RedirectToPage();
    }
}

public sealed record ConversationRow(Guid Id, Channel Channel, ConversationKind Kind, int Messages, int Positive, int Negative, DateTime CreatedAt, DateTime UpdatedAt);
