namespace ChatBot.BotHost.Inbox;

/// <summary>
/// Writes in groups (group commit): items that arrive while a write is under way go together in the next write, so a
/// burst costs a few transactions, not one each, and no item waits behind the others' commits one by one. The first
/// caller while nothing is being written writes at once (a lone item is not delayed) and leaves whatever queued behind
/// it to a background drain, so each caller waits for at most the write under way and its own.
/// </summary>
/// <param name="write">
/// Writes one batch and completes each entry (<see cref="Entry.Complete"/> or <see cref="Entry.Fail"/>); an exception
/// fails every entry of the batch it left incomplete.
/// </param>
internal sealed class GroupCommit<TItem, TResult>(Func<IReadOnlyList<GroupCommit<TItem, TResult>.Entry>, Task> write, int maxBatch)
{
    private readonly Lock _sync = new();
    private List<Entry> _queue = [];
    private bool _writing;

    /// <summary>Queues <paramref name="item"/> and returns when the write that holds it has completed it.</summary>
    public async Task<TResult> WriteAsync(TItem item, CancellationToken cancellationToken)
    {
        var entry = new Entry(item);
        bool writer;
        lock (_sync)
        {
            _queue.Add(entry);
            writer = !_writing;
            _writing = true;
        }

        if (writer && await WriteNextBatchAsync())
        {
            _ = Task.Run(DrainAsync, CancellationToken.None);
        }

        return await entry.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task DrainAsync()
    {
        while (await WriteNextBatchAsync())
        {
        }
    }

    /// <summary>Writes up to maxBatch queued entries; false when the queue is empty afterwards (no writer left).</summary>
    private async Task<bool> WriteNextBatchAsync()
    {
        List<Entry> batch;
        lock (_sync)
        {
            if (_queue.Count <= maxBatch)
            {
                batch = _queue;
                _queue = [];
            }
            else
            {
                batch = _queue[..maxBatch];
                _queue.RemoveRange(0, maxBatch);
            }
        }

        if (batch.Count > 0)
        {
            try
            {
                await write(batch);
            }
            catch (Exception ex)
            {
                foreach (var entry in batch)
                {
                    entry.Fail(ex);
                }
            }
        }

        lock (_sync)
        {
            if (_queue.Count > 0)
            {
                return true;
            }

            _writing = false;
            return false;
        }
    }

    /// <summary>One queued item and the result its caller waits for.</summary>
    public sealed class Entry(TItem item)
    {
        public TItem Item { get; } = item;

        internal TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(TResult result) => Done.TrySetResult(result);

        public void Fail(Exception exception) => Done.TrySetException(exception);
    }
}
