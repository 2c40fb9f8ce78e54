using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.AdminPortal.Pages.Conversations;

/// <summary>
/// One conversation's messages as metadata (who, when, tokens, model, latency, feedback). Their text, the title and
/// feedback comments appear only with <c>Admin:ShowConversationContent</c>, and each such view is audited.
/// </summary>
[Authorize(Policy = PortalPolicies.Admin)]
public sealed class ConversationDetailsModel(ChatDbContext db, IOptions<AdminOptions> options, ChatData.Audit.AuditLog audit) : PageModel
{
    public Conversation Conversation { get; private set; } = null!;

    public string? OwnerName { get; private set; }

    public IReadOnlyList<Message> Messages { get; private set; } = [];

    public bool ShowContent => options.Value.ShowConversationContent;

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (conversation is null)
        {
            return NotFound();
        }

        Conversation = conversation;
        OwnerName = conversation.OwnerUserId is { } owner ? await db.Users.Where(u => u.Id == owner).Select(u => u.DisplayName).FirstOrDefaultAsync(cancellationToken) : null;
        Messages = await db.Messages.AsNoTracking().Where(m => m.ConversationId == id).OrderBy(m => m.Id).Take(500).ToListAsync(cancellationToken);
        if (ShowContent)
        {
            var actor = Actor.Of(User);
            await audit.WriteAsync(actor.Name, actor.UserId, "conversation.content.viewed", "conversation", id.ToString(), null, cancellationToken);
        }

        return Page();
    }
}
