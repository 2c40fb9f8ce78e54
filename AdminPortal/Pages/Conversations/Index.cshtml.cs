using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Pages.Conversations;

/// <summary>Conversations as metadata (channel, kind, who, when, how many messages, feedback); never their text here.</summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class ConversationsModel(ChatDbContext db) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public Channel? Channel { get; set; }

    [BindProperty(SupportsGet = true)]
    public ConversationKind? Kind { get; set; }

    /// <summary>Only conversations with a thumbs-down.</summary>
    [BindProperty(SupportsGet = true)]
    public bool Negative { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<ConversationListRow> Rows { get; private set; } = [];

    public Paging Paging { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var conversations = db.Conversations.AsNoTracking();
        if (Channel is { } channel)
        {
            conversations = conversations.Where(c => c.Channel == channel);
        }

        if (Kind is { } kind)
        {
            conversations = conversations.Where(c => c.Kind == kind);
        }

        if (Negative)
        {
            conversations = conversations.Where(c => c.Messages.Any(m => m.Feedback < 0));
        }

        var total = await conversations.CountAsync(cancellationToken);
        PageNumber = Paging.Clamp(PageNumber, total, PageSize);
        Paging = new Paging(PageNumber, PageSize, total, "/admin/conversations", Request.Query);
        var page = await conversations
            .OrderByDescending(c => c.UpdatedAt).ThenBy(c => c.Id)
            .Skip(Paging.Skip).Take(PageSize)
            .Select(c => new
            {
                c.Id, c.Channel, c.Kind, c.OwnerUserId, c.CreatedAt, c.UpdatedAt,
                Messages = c.Messages.Count,
                Positive = c.Messages.Count(m => m.Feedback > 0),
                Negative = c.Messages.Count(m => m.Feedback < 0),
            })
            .ToListAsync(cancellationToken);
        var owners = page.Where(c => c.OwnerUserId != null).Select(c => c.OwnerUserId!.Value).Distinct().ToList();
        var names = await db.Users.AsNoTracking().Where(u => owners.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, cancellationToken);
        Rows = [.. page.Select(c => new ConversationListRow(
            c.Id, c.Channel, c.Kind, c.OwnerUserId, c.OwnerUserId is { } o ? names.GetValueOrDefault(o) : null,
            c.Messages, c.Positive, c.Negative, c.CreatedAt, c.UpdatedAt))];
    }
}

public sealed record ConversationListRow(
    Guid Id, Channel Channel, ConversationKind Kind, Guid? OwnerId, string? OwnerName, int Messages, int Positive, int Negative, DateTime CreatedAt, DateTime UpdatedAt);
