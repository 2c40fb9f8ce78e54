using System.Text.Json;
using ChatBot.ChatData.Database;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.ChatData.Audit;

/// <summary>Writes audit entries: who did what to what. Details never hold secrets or message text.</summary>
public sealed class AuditLog(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock)
{
    public async Task WriteAsync(
        string actor,
        Guid? actorUserId,
        string action,
        string? targetType,
        string? targetId,
        object? details,
        CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.AuditLog.Add(new AuditEntry
        {
            At = clock.GetUtcNow().UtcDateTime,
            Actor = actor,
            ActorUserId = actorUserId,
            Action = action,
            TargetType = targetType,
            TargetId = targetId,
            Details = details is null ? null : JsonSerializer.Serialize(details),
        });
        await db.SaveChangesAsync(cancellationToken);
    }
}
