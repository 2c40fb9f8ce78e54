using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.ChatData.Users;

public enum SuspensionOutcome
{
    Done,
    Unchanged,
    NotFound,
    Self,
    LastAdmin,
}

/// <summary>
/// Suspending and reactivating people, the same from the portal and the API: nobody suspends themselves or the last
/// active admin; each change is audited and a suspension is sent to the <c>user.suspended</c> webhooks.
/// </summary>
public sealed class UserSuspensions(IDbContextFactory<ChatDbContext> contexts, AuditLog audit, IWebhookPublisher webhooks)
{
    public async Task<SuspensionOutcome> SetAsync(Guid userId, bool suspended, string actor, Guid? actorId, object? details, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var person = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (person is null)
        {
            return SuspensionOutcome.NotFound;
        }

        if (person.IsSuspended == suspended)
        {
            return SuspensionOutcome.Unchanged;
        }

        if (suspended && actorId == userId)
        {
            return SuspensionOutcome.Self;
        }

        if (suspended && person.Role == UserRole.Admin
            && !await db.Users.AnyAsync(u => u.Role == UserRole.Admin && !u.IsSuspended && u.Id != userId, cancellationToken))
        {
            return SuspensionOutcome.LastAdmin;
        }

        person.IsSuspended = suspended;
        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync(actor, actorId, suspended ? "user.suspended" : "user.reactivated", "user", userId.ToString(), details, cancellationToken);
        if (suspended)
        {
            await webhooks.PublishAsync(WebhookEvents.UserSuspended, new { userId, by = actorId }, cancellationToken);
        }

        return SuspensionOutcome.Done;
    }
}
