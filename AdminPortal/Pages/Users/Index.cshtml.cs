using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Users;

/// <summary>Everyone who has used ChatBot, searchable by name or email and filtered by role, channel and status.</summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class UsersModel(ChatDbContext db) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public UserRole? Role { get; set; }

    [BindProperty(SupportsGet = true)]
    public Channel? Channel { get; set; }

    /// <summary>"active" or "suspended"; anything else: both.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<UserRow> Rows { get; private set; } = [];

    public Paging Paging { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var q = Q.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // EF Core turns ToLower().Contains() into LOWER(..) LIKE on every provider
            users = users.Where(u => u.DisplayName.ToLower().Contains(q) || (u.NormalizedEmail != null && u.NormalizedEmail.Contains(q)));
#pragma warning restore CA1304, CA1311, CA1862
        }

        if (Role is { } role)
        {
            users = users.Where(u => u.Role == role);
        }

        if (Channel is { } channel)
        {
            users = users.Where(u => u.Identities.Any(i => i.Channel == channel));
        }

        users = Status switch
        {
            "active" => users.Where(u => !u.IsSuspended),
            "suspended" => users.Where(u => u.IsSuspended),
            _ => users,
        };
        var total = await users.CountAsync(cancellationToken);
        PageNumber = Paging.Clamp(PageNumber, total, PageSize);
        Paging = new Paging(PageNumber, PageSize, total, "/admin/users", Request.Query);
        var page = await users
            .OrderBy(u => u.DisplayName).ThenBy(u => u.Id)
            .Skip(Paging.Skip).Take(PageSize)
            .ToListAsync(cancellationToken);
        var ids = page.Select(u => u.Id).ToList();
        var channels = (await db.ChannelIdentities.AsNoTracking().Where(i => ids.Contains(i.UserId)).Select(i => new { i.UserId, i.Channel }).ToListAsync(cancellationToken))
            .ToLookup(i => i.UserId, i => i.Channel);
        Rows = [.. page.Select(u => new UserRow(u.Id, u.DisplayName, u.Email, u.Role, u.IsSuspended, u.LastSeenAt, [.. channels[u.Id].Distinct().Order()]))];
    }
}

public sealed record UserRow(Guid Id, string DisplayName, string? Email, UserRole Role, bool IsSuspended, DateTime? LastSeenAt, List<Channel> Channels);
