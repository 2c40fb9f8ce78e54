using ChatBot.BotHost.Inbox;

namespace ChatBot.BotHost.Tests.Inbox;

/// <summary>The group commit the inbox uses for storing turns and marking them finished.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task LoneItem_IsWrittenAtOnce_InABatchOfItsOwn()
    {
        var batches = new List<int[]>();
        var commit = new GroupCommit<int, int>(batch => Record(batches, batch), maxBatch: 10);

        Assert.Equal(70, await commit.WriteAsync(7, CancellationToken.None));
        Assert.Equal([7], Assert.Single(batches));
    }

    [Fact]
    public async Task ItemsArrivingDuringAWrite_GoTogetherInTheNextWrites_NoMoreThanMaxBatchEach()
    {
        var batches = new List<int[]>();
        var firstWrite = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var commit = new GroupCommit<int, int>(async batch =>
        {
            if (batches.Count == 0)
            {
                await firstWrite.Task; // the first write is slow: the others queue behind it
            }

            await Record(batches, batch);
        }, maxBatch: 3);

        var first = commit.WriteAsync(0, CancellationToken.None);
        var queued = Enumerable.Range(1, 7).Select(i => commit.WriteAsync(i, CancellationToken.None)).ToList();
        Assert.False(first.IsCompleted);
        firstWrite.SetResult();

        var results = await Task.WhenAll(queued.Prepend(first));
        Assert.Equal([0, 10, 20, 30, 40, 50, 60, 70], results);
        Assert.Equal([[0], [1, 2, 3], [4, 5, 6], [7]], batches);
    }

    [Fact]
    public async Task FailedWrite_FailsItsOwnItems_AndTheNextItemIsStillWritten()
    {
        var commit = new GroupCommit<int, int>(batch => batch[0].Item < 0
            ? throw new InvalidOperationException("disk full")
            : Record([], batch), maxBatch: 10);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => commit.WriteAsync(-1, CancellationToken.None));
        Assert.Equal("disk full", failure.Message);
        Assert.Equal(20, await commit.WriteAsync(2, CancellationToken.None)); // the writer was handed back
    }

    [Fact]
    public async Task CallerThatStopsWaiting_IsCancelled_WhileItsItemIsStillWritten()
    {
        var write = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = new List<int[]>();
        var commit = new GroupCommit<int, int>(async batch =>
        {
            await write.Task;
            await Record(written, batch);
        }, maxBatch: 10);
        var first = commit.WriteAsync(1, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var impatient = commit.WriteAsync(2, cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        write.SetResult();

        Assert.Equal(10, await first);
        Assert.Equal(30, await commit.WriteAsync(3, CancellationToken.None));
        Assert.Equal([1, 2, 3], written.SelectMany(b => b)); // 2 was written though nobody waited for it
    }

    private static Task Record(List<int[]> batches, IReadOnlyList<GroupCommit<int, int>.Entry> batch)
    {
        batches.Add([.. batch.Select(e => e.Item)]);
        foreach (var entry in batch)
        {
            entry.Complete(entry.Item * 10);
        }

        return Task.CompletedTask;
    }
}
