using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ChatBot.ChatData.Database;

/// <summary>
/// SQLite takes one writer at a time, and Microsoft.Data.Sqlite waits for the write lock by sleeping inside SQLite,
/// which blocks a thread-pool thread per waiting writer: under load the pool starves and everything slows down.
/// This gate queues the writers of one database file in-process on an async semaphore instead, so a waiting writer
/// holds no thread. It is taken for a transaction (from start to commit, rollback or the connection closing) and
/// for a single write statement outside a transaction. Reads never wait: WAL lets them run beside the writer.
/// Writers marked urgent (<see cref="DatabaseWritePriority.Urgent"/>: storing an inbound turn before the channel's
/// acknowledgement) go before the queued ones, so a webhook is not answered late because turns are busy writing.
/// </summary>
internal sealed class SqliteWriteGate : DbCommandInterceptor, IDbTransactionInterceptor, IDbConnectionInterceptor
{
    private static readonly ConcurrentDictionary<string, WriteLock> Gates = new(StringComparer.Ordinal);

    private readonly ConditionalWeakTable<DbConnection, Holder> _held = new();

    public static SqliteWriteGate Instance { get; } = new();

    // Transactions: the gate from BEGIN to COMMIT / ROLLBACK.
    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        Acquire(connection);
        return result;
    }

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        await AcquireAsync(connection, cancellationToken);
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Release(transaction.Connection);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Release(transaction.Connection);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Release(transaction.Connection);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Release(transaction.Connection);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData)
    {
        if (eventData.Action is "Commit" or "Rollback")
        {
            Release(transaction.Connection);
        }
    }

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionFailed(transaction, eventData);
        return Task.CompletedTask;
    }

    // A transaction abandoned without commit or rollback ends when its connection closes.
    public void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Release(connection);

    public Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Release(connection);
        return Task.CompletedTask;
    }

    // Single write statements outside a transaction (ExecuteUpdate, ExecuteDelete, one-row SaveChanges).
    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        if (IsStandaloneWrite(command))
        {
            Acquire(command.Connection!);
        }

        return result;
    }

    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (IsStandaloneWrite(command))
        {
            await AcquireAsync(command.Connection!, cancellationToken);
        }

        return result;
    }

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        ReleaseStandalone(command);
        return result;
    }

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        ReleaseStandalone(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (IsStandaloneWrite(command))
        {
            Acquire(command.Connection!);
        }

        return result;
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (IsStandaloneWrite(command))
        {
            await AcquireAsync(command.Connection!, cancellationToken);
        }

        return result;
    }

    public override InterceptionResult DataReaderClosing(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        ReleaseStandalone(command);
        return result;
    }

    public override ValueTask<InterceptionResult> DataReaderClosingAsync(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        ReleaseStandalone(command);
        return ValueTask.FromResult(result);
    }

    public override void CommandFailed(DbCommand command, CommandErrorEventData eventData) => ReleaseStandalone(command);

    public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        ReleaseStandalone(command);
        return Task.CompletedTask;
    }

    private static bool IsStandaloneWrite(DbCommand command) =>
        command.Transaction is null && command.Connection is not null && !IsRead(command.CommandText);

    private static bool IsRead(string sql)
    {
        var text = sql.AsSpan().TrimStart();
        return text.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("PRAGMA", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("WITH", StringComparison.OrdinalIgnoreCase);
    }

    private static WriteLock GateOf(DbConnection connection) => Gates.GetOrAdd(connection.DataSource, _ => new WriteLock());

    private void Acquire(DbConnection connection)
    {
        if (Holds(connection))
        {
            return;
        }

        var gate = GateOf(connection);
        gate.WaitAsync(DatabaseWritePriority.IsUrgent, CancellationToken.None).GetAwaiter().GetResult();
        _held.AddOrUpdate(connection, new Holder(gate));
    }

    private async Task AcquireAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (Holds(connection))
        {
            return;
        }

        var gate = GateOf(connection);
        await gate.WaitAsync(DatabaseWritePriority.IsUrgent, cancellationToken);
        _held.AddOrUpdate(connection, new Holder(gate));
    }

    private bool Holds(DbConnection connection) => _held.TryGetValue(connection, out var holder) && holder.Held;

    private void ReleaseStandalone(DbCommand command)
    {
        if (command.Transaction is null && command.Connection is { } connection)
        {
            Release(connection);
        }
    }

    private void Release(DbConnection? connection)
    {
        if (connection is not null && _held.TryGetValue(connection, out var holder) && holder.Held)
        {
            holder.Held = false;
            _held.Remove(connection);
            holder.Gate.Release();
        }
    }

    private sealed class Holder(WriteLock gate)
    {
        public WriteLock Gate { get; } = gate;

        public bool Held { get; set; } = true;
    }
}

/// <summary>One writer at a time; when it leaves, the longest-waiting urgent writer goes next, then the others in order.</summary>
internal sealed class WriteLock
{
    private readonly object _sync = new();
    private readonly Queue<TaskCompletionSource> _urgent = new();
    private readonly Queue<TaskCompletionSource> _normal = new();
    private bool _held;

    public Task WaitAsync(bool urgent, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_sync)
        {
            if (!_held)
            {
                _held = true;
                return Task.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (urgent ? _urgent : _normal).Enqueue(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            // A cancelled waiter stays queued and is skipped when its turn comes.
            var registration = cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken));
            _ = waiter.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return waiter.Task;
    }

    public void Release()
    {
        lock (_sync)
        {
            while (_urgent.TryDequeue(out var next) || _normal.TryDequeue(out next))
            {
                if (next.TrySetResult())
                {
                    return; // handed over: still held, now by that waiter
                }
            }

            _held = false;
        }
    }
}
