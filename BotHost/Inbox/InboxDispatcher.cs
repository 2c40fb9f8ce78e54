using System.Collections.Concurrent;
using System.Diagnostics;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Inbox;

/// <summary>What the dispatcher runs for each leased turn.</summary>
internal interface ITurnProcessor
{
    /// <summary>Runs the turn. Exceptions mean "try again later"; user-facing failures are answered inside.</summary>
    Task ProcessAsync(InboxItem item, CancellationToken cancellationToken);

    /// <summary>The turn failed <see cref="InboxOptions.MaxAttempts"/> times: tell the user, record it.</summary>
    Task GiveUpAsync(InboxItem item, CancellationToken cancellationToken);
}

/// <summary>
/// Runs inbox turns: in order within a conversation (only the oldest unfinished turn of a conversation can be leased),
/// in parallel across conversations. A lease claimed by one conditional UPDATE and renewed while the turn runs means
/// a crash or a second host neither loses nor doubles a turn: an expired lease is taken over.
/// </summary>
internal sealed partial class InboxDispatcher(
    IDbContextFactory<ChatDbContext> contexts,
    ITurnProcessor processor,
    InboxSignal signal,
    HostInstance host,
    IOptions<InboxOptions> options,
    IOptions<Hosting.HostingOptions> hosting,
    TimeProvider clock,
    ILogger<InboxDispatcher> logger) : BackgroundService
{
    /// <summary>The most turns marked finished in one write.</summary>
    private const int MaxCompletionsPerWrite = 256;

    /// <summary>How long new turns wait at most for a burst of webhooks to be stored.</summary>
    private static readonly TimeSpan AcceptsFirstAtMost = TimeSpan.FromMilliseconds(250);

    private readonly string _owner = host.Name;
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private GroupCommit<Completion, bool>? _completions;

    public string Owner => _owner;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var free = o.MaxConcurrentTurns - _running.Count;
                if (free > 0)
                {
                    // Channels waiting for their webhook's answer go first: new turns start when the burst is stored.
                    await signal.WhenAcceptsDoneAsync(AcceptsFirstAtMost, stoppingToken);
                    foreach (var item in await ClaimAsync(free, stoppingToken))
                    {
                        _running[item.Id] = RunAsync(item, stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break; // shutting down: the running turns are awaited below
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ClaimFailed(logger, ex);
            }

            try
            {
                await signal.WaitAsync(o.Poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(_running.Values);
    }

    /// <summary>Leases up to <paramref name="max"/> turns that are the oldest unfinished turn of their conversation.</summary>
    internal async Task<List<InboxItem>> ClaimAsync(int max, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var running = _running.Keys.ToList();
        // Turns bound to this host; and, unless this is a web-only host, unbound ones and bound ones whose host is gone.
        var shared = hosting.Value.RunsSharedTurns;
        var orphanedBefore = now - options.Value.AffinityGrace;
        var candidates = await db.Inbox
            .Where(i => (i.Status == InboxStatus.Pending || (i.Status == InboxStatus.Processing && i.LeaseUntil < now))
                && (i.Affinity == _owner || (shared && (i.Affinity == null || i.ReceivedAt < orphanedBefore)))
                && !running.Contains(i.Id)
                && !db.Inbox.Any(o => o.ConversationKey == i.ConversationKey && o.Id < i.Id
                    && (o.Status == InboxStatus.Pending || o.Status == InboxStatus.Processing)))
            .OrderBy(i => i.Id)
            .Select(i => i.Id)
            .Take(max)
            .ToListAsync(cancellationToken);

        if (candidates.Count == 0)
        {
            return [];
        }

        // One statement claims the whole batch; the rows that now carry our lease are the ones we won.
        var leaseUntil = now + options.Value.Lease;
        await db.Inbox
            .Where(i => candidates.Contains(i.Id) && (i.Status == InboxStatus.Pending || (i.Status == InboxStatus.Processing && i.LeaseUntil < now)))
            .ExecuteUpdateAsync(
                s => s.SetProperty(i => i.Status, InboxStatus.Processing)
                    .SetProperty(i => i.LeaseOwner, _owner)
                    .SetProperty(i => i.LeaseUntil, leaseUntil)
                    .SetProperty(i => i.Attempts, i => i.Attempts + 1),
                cancellationToken);
        var claimed = await db.Inbox.AsNoTracking()
            .Where(i => candidates.Contains(i.Id) && i.LeaseOwner == _owner && i.Status == InboxStatus.Processing && i.LeaseUntil == leaseUntil)
            .OrderBy(i => i.Id)
            .ToListAsync(cancellationToken);
        return claimed;
    }

    private async Task RunAsync(InboxItem item, CancellationToken stoppingToken)
    {
        await Task.Yield();
        // The turn continues the trace of the request that stored it (webhook, web chat, API).
        ActivityContext.TryParse(item.TraceParent, null, out var parent);
        using var activity = Telemetry.ChatBotMetrics.Activities.StartActivity("chatbot.turn", ActivityKind.Internal, parent);
        activity?.SetTag("chatbot.turn.id", item.Id);
        activity?.SetTag("chatbot.channel", item.Channel.ToString());
        activity?.SetTag("chatbot.turn.attempt", item.Attempts);
        using var turnCts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewal = RenewLeaseAsync(item.Id, turnCts);
        var o = options.Value;
        try
        {
            if (item.Attempts > o.MaxAttempts)
            {
                try
                {
                    await processor.GiveUpAsync(item, turnCts.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The channel may be what is failing: the turn still ends here, recorded as failed.
                    Log.GiveUpNotDelivered(logger, item.Id, ex);
                }

                await FinishAsync(item.Id, InboxStatus.Failed, $"Gave up after {o.MaxAttempts} attempts.");
                Log.GaveUp(logger, item.Id, o.MaxAttempts);
            }
            else
            {
                await processor.ProcessAsync(item, turnCts.Token);
                await FinishAsync(item.Id, InboxStatus.Done, null);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: hand the turn back at once so a restart (or another host) continues it.
            await ReleaseAsync(item.Id, TimeSpan.Zero);
        }
        catch (OperationCanceledException) when (turnCts.IsCancellationRequested)
        {
            Log.LeaseLost(logger, item.Id);
        }
        catch (Exception ex)
        {
            var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, item.Attempts)));
            Log.TurnFailed(logger, item.Id, item.Attempts, backoff.TotalSeconds, ex);
            await ReleaseAsync(item.Id, backoff);
        }
        finally
        {
            await turnCts.CancelAsync();
            await renewal;
            _running.TryRemove(item.Id, out _);
            signal.Notify(); // the conversation's next turn may now run
        }
    }

    /// <summary>Extends the lease every third of its length; cancels the turn when the lease was lost to another host.</summary>
    private Task RenewLeaseAsync(long id, CancellationTokenSource turnCts) => Task.Run(async () =>
    {
        var lease = options.Value.Lease;
        using var timer = new PeriodicTimer(lease / 3, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(turnCts.Token))
            {
                await using var db = await contexts.CreateDbContextAsync(turnCts.Token);
                var until = clock.GetUtcNow().UtcDateTime + lease;
                var kept = await db.Inbox
                    .Where(i => i.Id == id && i.LeaseOwner == _owner && i.Status == InboxStatus.Processing)
                    .ExecuteUpdateAsync(s => s.SetProperty(i => i.LeaseUntil, until), turnCts.Token);
                if (kept == 0)
                {
                    await turnCts.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The turn ended.
        }
        catch (Exception ex)
        {
            Log.RenewFailed(logger, id, ex);
        }
    });

    /// <summary>
    /// Marks a turn finished (true once written). Turns that finish while another completion is being written are
    /// marked together in the next write (one transaction), so a wave of turns ending at once does not queue for the
    /// writer one by one.
    /// </summary>
    private Task<bool> FinishAsync(long id, InboxStatus status, string? error) =>
        LazyInitializer.EnsureInitialized(ref _completions, () => new(WriteCompletionsAsync, MaxCompletionsPerWrite))
            .WriteAsync(new Completion(id, status, error), CancellationToken.None);

    private async Task WriteCompletionsAsync(IReadOnlyList<GroupCommit<Completion, bool>.Entry> batch)
    {
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        await using var transaction = batch.Count > 1 ? await db.Database.BeginTransactionAsync(CancellationToken.None) : null;
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var outcome in batch.GroupBy(e => (e.Item.Status, e.Item.Error)))
        {
            var (status, error) = outcome.Key;
            var ids = outcome.Select(e => e.Item.Id).ToList();
            await db.Inbox
                .Where(i => ids.Contains(i.Id) && i.LeaseOwner == _owner)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(i => i.Status, status)
                        .SetProperty(i => i.CompletedAt, now)
                        .SetProperty(i => i.LeaseOwner, (string?)null)
                        .SetProperty(i => i.LeaseUntil, (DateTime?)null)
                        .SetProperty(i => i.Error, error),
                    CancellationToken.None);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(CancellationToken.None);
        }

        foreach (var entry in batch)
        {
            entry.Complete(true);
        }
    }

    private sealed record Completion(long Id, InboxStatus Status, string? Error);

    /// <summary>Gives the lease back; the turn becomes claimable again after <paramref name="delay"/>.</summary>
    private async Task ReleaseAsync(long id, TimeSpan delay)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            var until = clock.GetUtcNow().UtcDateTime + delay;
            await db.Inbox
                .Where(i => i.Id == id && i.LeaseOwner == _owner)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.LeaseOwner, (string?)null).SetProperty(i => i.LeaseUntil, until));
        }
        catch (Exception ex)
        {
            // The lease expires by itself.
            Log.ReleaseFailed(logger, id, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Could not claim inbox turns")]
        public static partial void ClaimFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Turn {TurnId} failed on attempt {Attempt}; retrying in {BackoffSeconds} s")]
        public static partial void TurnFailed(ILogger logger, long turnId, int attempt, double backoffSeconds, Exception exception);

        [LoggerMessage(EventId = 202, Level = LogLevel.Error, Message = "Turn {TurnId} gave up after {Attempts} attempts")]
        public static partial void GaveUp(ILogger logger, long turnId, int attempts);

        [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Turn {TurnId} lost its lease to another host and was stopped here")]
        public static partial void LeaseLost(ILogger logger, long turnId);

        [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Could not renew the lease of turn {TurnId}")]
        public static partial void RenewFailed(ILogger logger, long turnId, Exception exception);

        [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Could not release the lease of turn {TurnId}")]
        public static partial void ReleaseFailed(ILogger logger, long turnId, Exception exception);

        [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Turn {TurnId}: the user could not be told that it failed")]
        public static partial void GiveUpNotDelivered(ILogger logger, long turnId, Exception exception);
    }
}
