using System.Diagnostics;
using System.Text.Json;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Inbox;

/// <summary>Stores verified turns, once per (channel, event id), and wakes the dispatcher.</summary>
internal sealed class TurnInbox(IDbContextFactory<ChatDbContext> contexts, InboxSignal signal, HostInstance host, TimeProvider clock) : ITurnInbox
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<InboxReceipt> AcceptAsync(InboundTurn turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var channel = (Channel)turn.Channel;
        var item = new InboxItem
        {
            Channel = channel,
            EventId = turn.EventId,
            ConversationKey = Truncate(turn.OrderingKey, 500),
            Payload = JsonSerializer.Serialize(turn with { ReceivedAt = clock.GetUtcNow().UtcDateTime }, Json),
            Status = InboxStatus.Pending,
            // The web chat and the API stream the answer from this process's memory: this host runs the turn.
            Affinity = turn.Channel is ChannelKind.Web or ChannelKind.Api ? host.Name : null,
            TraceParent = Activity.Current?.Id is { Length: <= 64 } parent && Activity.Current.IdFormat == ActivityIdFormat.W3C ? parent : null,
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };

        // The channel waits for this write (Slack gives up after 3 s): it goes before the turns' own writes.
        using var urgent = DatabaseWritePriority.Urgent();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Inbox.Add(item);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The unique (channel, event id) key: a retry or duplicate delivery. Anything else is rethrown.
            await using var lookup = await contexts.CreateDbContextAsync(cancellationToken);
            var existing = await lookup.Inbox
                .Where(i => i.Channel == channel && i.EventId == turn.EventId)
                .Select(i => (long?)i.Id)
                .FirstOrDefaultAsync(cancellationToken);
            if (existing is null)
            {
                throw;
            }

            return new InboxReceipt(existing.Value, Duplicate: true);
        }

        signal.Notify();
        return new InboxReceipt(item.Id, Duplicate: false);
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

/// <summary>Wakes the dispatcher when a turn arrives or finishes, so it does not wait for the next poll.</summary>
internal sealed class InboxSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

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
