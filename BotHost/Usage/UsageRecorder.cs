using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Usage;

/// <summary>One usage row per answered, failed or refused turn: what the usage pages and cost reports add up.</summary>
internal sealed record TurnUsage(
    Guid UserId,
    Channel Channel,
    Guid? ConversationId,
    string Model,
    long InputTokens,
    long OutputTokens,
    long CostMicroUsd,
    int LatencyMs,
    int? TimeToFirstTokenMs,
    UsageOutcome Outcome);

internal sealed class UsageRecorder(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock)
{
    public async Task RecordAsync(TurnUsage usage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(usage);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.UsageRecords.Add(new UsageRecord
        {
            UserId = usage.UserId,
            Channel = usage.Channel,
            ConversationId = usage.ConversationId,
            Model = usage.Model,
            InputTokens = (int)Math.Min(int.MaxValue, usage.InputTokens),
            OutputTokens = (int)Math.Min(int.MaxValue, usage.OutputTokens),
            CostMicroUsd = usage.CostMicroUsd,
            LatencyMs = usage.LatencyMs,
            TimeToFirstTokenMs = usage.TimeToFirstTokenMs,
            Outcome = usage.Outcome,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
    }
}
