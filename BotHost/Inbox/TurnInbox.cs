using System.Diagnostics;
using System.Text.Json;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Inbox;

/// <summary>
/// Stores verified turns, once per (channel, event id), and wakes the dispatcher. Turns that arrive while a write is
/// under way are stored together in the next write (<see cref="GroupCommit{TItem, TResult}"/>): a burst of webhooks
/// costs a few transactions, not one each. The first caller writes at once, so a lone turn is not delayed.
/// </summary>
internal sealed class TurnInbox(IDbContextFactory<ChatDbContext> contexts, InboxSignal signal, HostInstance host, TimeProvider clock) : ITurnInbox
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The most turns stored in one write.</summary>
    internal const int MaxBatch = 256;

    private GroupCommit<InboxItem, InboxReceipt>? _writes;

    private GroupCommit<InboxItem, InboxReceipt> Writes => LazyInitializer.EnsureInitialized(ref _writes, () => new(StoreAsync, MaxBatch));

    public Task<InboxReceipt> AcceptAsync(InboundTurn turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var item = new InboxItem
        {
            Channel = (Channel)turn.Channel,
            EventId = turn.EventId,
            ConversationKey = Truncate(turn.OrderingKey, 500),
            Payload = JsonSerializer.Serialize(turn with { ReceivedAt = clock.GetUtcNow().UtcDateTime }, Json),
            Status = InboxStatus.Pending,
            // The web chat and the API stream the answer from this process's memory: this host runs the turn.
            Affinity = turn.Channel is ChannelKind.Web or ChannelKind.Api ? host.Name : null,
            TraceParent = Activity.Current?.Id is { Length: <= 64 } parent && Activity.Current.IdFormat == ActivityIdFormat.W3C ? parent : null,
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };
        return AcceptItemAsync(item, cancellationToken);
    }

    private async Task<InboxReceipt> AcceptItemAsync(InboxItem item, CancellationToken cancellationToken)
    {
        signal.AcceptStarted();
        try
        {
            return await Writes.WriteAsync(item, cancellationToken);
        }
        finally
        {
            signal.AcceptEnded();
        }
    }

    private async Task StoreAsync(IReadOnlyList<GroupCommit<InboxItem, InboxReceipt>.Entry> batch)
    {
        // The channels wait for these writes (Slack gives up after 3 s): they go before the turns' own writes.
        using var urgent = DatabaseWritePriority.Urgent();
        try
        {
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            db.Inbox.AddRange(batch.Select(p => p.Item));
            await db.SaveChangesAsync(CancellationToken.None);
            foreach (var pending in batch)
            {
                pending.Complete(new InboxReceipt(pending.Item.Id, Duplicate: false));
            }
        }
        catch (DbUpdateException ex)
        {
            if (batch.Count == 1)
            {
                await FindDuplicateAsync(batch[0], ex);
            }
            else
            {
                // One of them is already stored (a retried or duplicated delivery): each on its own tells which.
                foreach (var pending in batch)
                {
                    pending.Item.Id = 0;
                    await StoreOneAsync(pending);
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Fail(ex);
            }
        }

        signal.Notify();
    }

    private async Task StoreOneAsync(GroupCommit<InboxItem, InboxReceipt>.Entry pending)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            db.Inbox.Add(pending.Item);
            await db.SaveChangesAsync(CancellationToken.None);
            pending.Complete(new InboxReceipt(pending.Item.Id, Duplicate: false));
        }
        catch (DbUpdateException ex)
        {
            await FindDuplicateAsync(pending, ex);
        }
        catch (Exception ex)
        {
            pending.Fail(ex);
        }
    }

    /// <summary>The unique (channel, event id) key refused the row: a retry or duplicate delivery. Anything else fails the turn.</summary>
    private async Task FindDuplicateAsync(GroupCommit<InboxItem, InboxReceipt>.Entry pending, DbUpdateException failure)
    {
        try
        {
            var (channel, eventId) = (pending.Item.Channel, pending.Item.EventId);
            await using var lookup = await contexts.CreateDbContextAsync(CancellationToken.None);
            var existing = await lookup.Inbox
                .Where(i => i.Channel == channel && i.EventId == eventId)
                .Select(i => (long?)i.Id)
                .FirstOrDefaultAsync(CancellationToken.None);
            if (existing is null)
            {
                pending.Fail(failure);
                return;
            }

            pending.Complete(new InboxReceipt(existing.Value, Duplicate: true));
        }
        catch (Exception ex)
        {
            pending.Fail(ex);
        }
    }

    public static InboundTurn Deserialize(InboxItem item) =>
        JsonSerializer.Deserialize<InboundTurn>(item.Payload, Json)
        ?? throw new InvalidOperationException($"Inbox item {item.Id} has an empty payload.");

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}

/// <summary>This process's name in leases and turn affinity: machine, process id and a random part (unique across restarts).</summary>
internal sealed class HostInstance
{
    public string Name { get; } = Create();

    private static string Create()
    {
        var name = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        return name.Length <= 100 ? name : name[^100..];
    }
}

/// <summary>
/// Wakes the dispatcher when a turn arrives or finishes, so it does not wait for the next poll; and tells it when
/// channels are waiting for turns to be stored, so a burst of webhooks is acknowledged before new turns start.
/// </summary>
internal sealed class InboxSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);
    private readonly Lock _accepts = new();
    private TaskCompletionSource? _acceptsDone; // set while turns are being accepted
    private int _accepting;

    public void AcceptStarted()
    {
        lock (_accepts)
        {
            _acceptsDone ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _accepting++;
        }
    }

    public void AcceptEnded()
    {
        TaskCompletionSource? done = null;
        lock (_accepts)
        {
            if (--_accepting == 0)
            {
                (done, _acceptsDone) = (_acceptsDone, null);
            }
        }

        done?.TrySetResult();
    }

    /// <summary>
    /// Waits while turns are being accepted, for at most <paramref name="atMost"/> of real time: it paces this process's
    /// own work, so it never waits on the injected clock (a test's frozen clock would make it wait forever).
    /// </summary>
    public async Task WhenAcceptsDoneAsync(TimeSpan atMost, CancellationToken cancellationToken)
    {
        Task? done;
        lock (_accepts)
        {
            done = _acceptsDone?.Task;
        }

        if (done is not null)
        {
            await done.WaitAsync(atMost, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public void Notify()
    {
        if (_semaphore.CurrentCount == 0)
        {
            try
            {
                _semaphore.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _semaphore.Dispose();
}
