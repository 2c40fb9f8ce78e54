using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Privacy;

/// <inheritdoc cref="IPersonalData"/>
internal sealed class PersonalData(
    IDbContextFactory<ChatDbContext> contexts,
    DocumentIntake documents,
    AuditLog audit,
    TimeProvider clock) : IPersonalData
{
    public const string ErasedName = "Deleted user";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<JsonObject?> ExportAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Include(u => u.Identities).SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null)
        {
            return null;
        }

        var userName = await db.LocalAccounts.AsNoTracking().Where(a => a.UserId == userId).Select(a => a.UserName).FirstOrDefaultAsync(cancellationToken);
        // Private conversations whole; in shared ones, only the person's own messages (the rest is other people's).
        var conversationRows = await db.Conversations.AsNoTracking()
            .Where(c => c.OwnerUserId == userId || c.Messages.Any(m => m.UserId == userId))
            .OrderBy(c => c.CreatedAt)
            .Select(c => new { c.Id, Channel = c.Channel.ToString(), Kind = c.Kind.ToString(), c.Title, c.CreatedAt, c.ArchivedAt })
            .ToListAsync(cancellationToken);
        var messages = (await db.Messages.AsNoTracking()
            .Where(m => m.Conversation!.OwnerUserId == userId || m.UserId == userId)
            .OrderBy(m => m.Id)
            .Select(m => new { m.ConversationId, m.Id, Role = m.Role.ToString(), m.Content, m.Model, m.Feedback, m.FeedbackComment, m.CreatedAt })
            .ToListAsync(cancellationToken))
            .ToLookup(m => m.ConversationId);
        var conversations = conversationRows.Select(c => new
        {
            c.Id,
            c.Channel,
            c.Kind,
            c.Title,
            c.CreatedAt,
            c.ArchivedAt,
            Messages = messages[c.Id].Select(m => new { m.Id, m.Role, m.Content, m.Model, m.Feedback, m.FeedbackComment, m.CreatedAt }),
        });
        var usage = await db.UsageRecords.AsNoTracking().Where(u => u.UserId == userId).OrderBy(u => u.Id)
            .Select(u => new { u.CreatedAt, Channel = u.Channel.ToString(), u.Model, u.InputTokens, u.OutputTokens, u.CostMicroUsd, Outcome = u.Outcome.ToString() })
            .ToListAsync(cancellationToken);
        var uploaded = await db.Documents.AsNoTracking().Where(d => d.UploadedByUserId == userId).OrderBy(d => d.CreatedAt)
            .Select(d => new { d.Id, d.Title, Scope = d.Scope.ToString(), Status = d.Status.ToString(), d.SizeBytes, d.CreatedAt })
            .ToListAsync(cancellationToken);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId).OrderBy(k => k.CreatedAt)
            .Select(k => new { k.Name, k.Prefix, k.Scopes, k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt })
            .ToListAsync(cancellationToken);

        var export = new
        {
            ExportedAt = clock.GetUtcNow().UtcDateTime,
            User = new
            {
                user.Id,
                user.DisplayName,
                user.Email,
                UserName = userName,
                Role = user.Role.ToString(),
                user.IsSuspended,
                user.CreatedAt,
                user.LastSeenAt,
            },
            Identities = user.Identities.Select(i => new { Channel = i.Channel.ToString(), i.TenantId, i.ExternalUserId, i.DisplayName, i.Email, i.CreatedAt }),
            Conversations = conversations,
            Usage = usage,
            Documents = uploaded,
            ApiKeys = keys,
        };
        return JsonSerializer.SerializeToNode(export, Json)!.AsObject();
    }

    public async Task<HistoryDeletion> ForgetHistoryAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var privateConversations = await db.Conversations.Where(c => c.OwnerUserId == userId).Select(c => c.Id).ToListAsync(cancellationToken);
        int messages, conversations;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            messages = await db.Messages.Where(m => m.UserId == userId).ExecuteDeleteAsync(cancellationToken);
            messages += await db.Messages.Where(m => m.Conversation!.OwnerUserId == userId).ExecuteDeleteAsync(cancellationToken);
            conversations = await db.Conversations.Where(c => c.OwnerUserId == userId).ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var files = await DeleteConversationFilesAsync(db, documents, privateConversations, cancellationToken);
        return new HistoryDeletion(conversations, messages, files);
    }

    /// <summary>
    /// Files shared in these conversations could only be used there: they go with them (index entries and stored
    /// original). Returns how many were deleted. Used by <c>forget</c>, erasure and retention.
    /// </summary>
    internal static async Task<int> DeleteConversationFilesAsync(ChatDbContext db, DocumentIntake documents, IReadOnlyCollection<Guid> conversationIds, CancellationToken cancellationToken)
    {
        var keys = conversationIds.Select(id => id.ToString()).ToList();
        var shared = await db.Documents.Where(d => d.Scope == DocumentScope.Conversation && keys.Contains(d.ScopeKey!)).Select(d => d.Id).ToListAsync(cancellationToken);
        var deleted = 0;
        foreach (var id in shared)
        {
            deleted += await documents.DeleteAsync(id, cancellationToken) ? 1 : 0;
        }

        return deleted;
    }

    public async Task<ErasureOutcome> EraseAsync(Guid userId, string actor, Guid? actorId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null || user.DisplayName == ErasedName && user.Email is null && user.IsSuspended)
        {
            return user is null ? ErasureOutcome.NotFound : ErasureOutcome.Done;
        }

        if (actorId == userId)
        {
            return ErasureOutcome.Self;
        }

        if (user.Role == UserRole.Admin)
        {
            return ErasureOutcome.Admin; // demote first: erasing an admin must be a deliberate two-step act
        }

        var history = await ForgetHistoryAsync(userId, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var identities = await db.ChannelIdentities.Where(i => i.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.LocalAccounts.Where(a => a.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        var keys = await db.ApiKeys.Where(k => k.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.Documents.Where(d => d.UploadedByUserId == userId).ExecuteUpdateAsync(s => s.SetProperty(d => d.UploadedByUserId, (Guid?)null), cancellationToken);
        user.DisplayName = ErasedName;
        user.Email = null;
        user.NormalizedEmail = null;
        user.IsSuspended = true;
        user.Role = UserRole.User;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await audit.WriteAsync(actor, actorId, "user.erased", "user", userId.ToString(),
            new { history.Conversations, history.Messages, history.Documents, identities, apiKeys = keys }, cancellationToken);
        return ErasureOutcome.Done;
    }
}
