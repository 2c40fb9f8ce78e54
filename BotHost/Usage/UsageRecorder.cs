using ChatBot.BotHost.Quotas;
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

/// <summary>Tokens set aside for a turn when it was admitted, to be replaced by what it really used.</summary>
internal sealed record TokenReservation(DateTime ReservedAt, long Tokens);

internal sealed class UsageRecorder(IDbContextFactory<ChatDbContext> contexts, Telemetry.ChatBotMetrics metrics, TimeProvider clock)
{
    /// <summary>Writes the usage row and, in the same transaction, settles the turn's quota reservation to the real usage.</summary>
    public Task RecordAsync(TurnUsage usage, TokenReservation? reservation, CancellationToken cancellationToken) =>
        RecordAsync(usage, reservation, null, cancellationToken);

    /// <summary>
    /// As above, and runs <paramref name="alsoWrite"/> (the answer's delivery mark) in the same transaction: one commit
    /// ends the turn's bookkeeping.
    /// </summary>
    public async Task RecordAsync(TurnUsage usage, TokenReservation? reservation, Func<ChatDbContext, CancellationToken, Task>? alsoWrite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(usage);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Database.AutoSavepointsEnabled = false; // all or nothing: a failure rolls the transaction back
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (reservation is not null)
        {
            var actual = usage.Outcome == UsageOutcome.Refused ? 0 : usage.InputTokens + usage.OutputTokens;
            await QuotaService.SettleAsync(db, usage.UserId, reservation.ReservedAt, reservation.Tokens, actual, clock.GetUtcNow().UtcDateTime, cancellationToken);
        }

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
        if (alsoWrite is not null)
        {
            await alsoWrite(db, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        metrics.TurnEnded(usage.Channel, usage.Outcome, usage.Model, usage.InputTokens, usage.OutputTokens, usage.CostMicroUsd, usage.LatencyMs, usage.TimeToFirstTokenMs);
    }
}
