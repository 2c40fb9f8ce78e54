using System.Text.Json;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Conversations;

/// <summary>Where the bot is installed (rows of <see cref="BotInstallation"/>) and which threads it is part of.</summary>
internal sealed class ChannelInstallations(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock) : IChannelInstallations
{
    public async Task<bool> InstalledAsync(ChannelInstallation installation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(installation);
        var channel = (Channel)installation.Channel;
        var now = clock.GetUtcNow().UtcDateTime;
        for (var attempt = 0; ; attempt++)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var row = await db.BotInstallations.SingleOrDefaultAsync(
                i => i.Channel == channel && i.TenantId == installation.TenantId && i.ConversationId == installation.ConversationId, cancellationToken);
            var isNew = row is null || !row.IsActive;
            if (row is null)
            {
                row = new BotInstallation { Channel = channel, TenantId = installation.TenantId, ConversationId = installation.ConversationId, AddressJson = "", InstalledAt = now };
                db.BotInstallations.Add(row);
            }

            row.Kind = (ConversationKind)installation.Type;
            row.AddressJson = JsonSerializer.Serialize(installation.Address);
            row.TeamId = installation.TeamId ?? row.TeamId;
            row.TeamName = installation.TeamName ?? row.TeamName;
            row.TeamGroupId = installation.TeamGroupId ?? row.TeamGroupId;
            row.IsActive = true;
            row.RemovedAt = null;
            row.UpdatedAt = now;
            if (isNew)
            {
                row.InstalledAt = now;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return isNew;
            }
            catch (DbUpdateException) when (attempt < 2)
            {
                // conversationUpdate and installationUpdate arrive together: the other one stored it.
            }
        }
    }

    public async Task RemovedAsync(ChannelKind channel, string tenantId, string conversationId, CancellationToken cancellationToken)
    {
        var kind = (Channel)channel;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.BotInstallations
            .Where(i => i.Channel == kind && i.TenantId == tenantId && i.ConversationId == conversationId)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.IsActive, false).SetProperty(i => i.RemovedAt, now).SetProperty(i => i.UpdatedAt, now), cancellationToken);
    }

    public Task<ChannelInstallation?> FindAsync(ChannelKind channel, string tenantId, string conversationId, CancellationToken cancellationToken) =>
        FindFirstAsync(channel, tenantId, [conversationId], cancellationToken);

    public async Task<ChannelInstallation?> FindFirstAsync(ChannelKind channel, string tenantId, IReadOnlyList<string> conversationIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversationIds);
        var kind = (Channel)channel;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.BotInstallations.AsNoTracking()
            .Where(i => i.Channel == kind && i.TenantId == tenantId && conversationIds.Contains(i.ConversationId) && i.IsActive)
            .ToListAsync(cancellationToken);
        var first = conversationIds.Select(id => rows.Find(r => r.ConversationId == id)).FirstOrDefault(r => r is not null);
        return first is null ? null : ToInstallation(channel, first);
    }

    public async Task<ChannelInstallation?> FindTeamAsync(ChannelKind channel, string tenantId, string teamName, CancellationToken cancellationToken)
    {
        var kind = (Channel)channel;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.BotInstallations.AsNoTracking()
            .Where(i => i.Channel == kind && i.TenantId == tenantId && i.IsActive && i.TeamId != null && i.TeamName != null)
            .ToListAsync(cancellationToken);
        var row = rows.FirstOrDefault(i => string.Equals(i.TeamName!.Trim(), teamName.Trim(), StringComparison.OrdinalIgnoreCase));
        return row is null ? null : ToInstallation(channel, row);
    }

    private static ChannelInstallation ToInstallation(ChannelKind channel, BotInstallation row) =>
        new(channel, row.TenantId, row.ConversationId, (ConversationType)row.Kind,
            JsonSerializer.Deserialize<Dictionary<string, string>>(row.AddressJson) ?? [], row.TeamId, row.TeamName, row.TeamGroupId);

    public async Task<bool> IsRemovedAsync(ChannelKind channel, string tenantId, string conversationId, CancellationToken cancellationToken)
    {
        var kind = (Channel)channel;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.BotInstallations.AnyAsync(
            i => i.Channel == kind && i.TenantId == tenantId && i.ConversationId == conversationId && !i.IsActive, cancellationToken);
    }

    public async Task<bool> InThreadAsync(ChannelKind channel, string tenantId, string conversationId, string threadId, CancellationToken cancellationToken)
    {
        var kind = (Channel)channel;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Conversations.AnyAsync(
            c => c.Channel == kind && c.TenantId == tenantId && c.ExternalId == conversationId && c.ThreadId == threadId, cancellationToken);
    }
}
