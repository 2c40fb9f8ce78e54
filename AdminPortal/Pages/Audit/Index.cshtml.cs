using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Audit;

/// <summary>Who did what, when: sign-ins, role and quota changes, suspensions, documents, forget requests. Newest first.</summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class AuditModel(ChatDbContext db) : PageModel
{
    public const int PageSize = 50;

    /// <summary>An action or its start ("user." finds every user action).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Action { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Actor { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? To { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<AuditEntry> Entries { get; private set; } = [];

    public IReadOnlyList<string> Actions { get; private set; } = [];

    public Paging Paging { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Actions = await db.AuditLog.AsNoTracking().Select(a => a.Action).Distinct().OrderBy(a => a).ToListAsync(cancellationToken);
        var entries = db.AuditLog.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(Action))
        {
            var action = Action.Trim();
            entries = entries.Where(a => a.Action.StartsWith(action));
        }

        if (!string.IsNullOrWhiteSpace(Actor))
        {
            var actor = Actor.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // EF Core turns ToLower().Contains() into LOWER(..) LIKE on every provider
            entries = entries.Where(a => a.Actor.ToLower().Contains(actor));
#pragma warning restore CA1304, CA1311, CA1862
        }

        if (From is { } from)
        {
            var start = from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            entries = entries.Where(a => a.At >= start);
        }

        if (To is { } to)
        {
            var end = to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            entries = entries.Where(a => a.At < end);
        }

        var total = await entries.CountAsync(cancellationToken);
        PageNumber = Paging.Clamp(PageNumber, total, PageSize);
        Paging = new Paging(PageNumber, PageSize, total, "/admin/audit", Request.Query);
        Entries = await entries.OrderByDescending(a => a.Id).Skip(Paging.Skip).Take(PageSize).ToListAsync(cancellationToken);
    }
}
