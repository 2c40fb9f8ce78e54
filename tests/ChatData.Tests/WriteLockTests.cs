using ChatBot.ChatData.Database;

namespace ChatBot.ChatData.Tests;

/// <summary>SQLite's in-process write queue: one writer at a time, urgent writers (a webhook waiting) first.</summary>
public sealed class WriteLockTests
{
    [Fact]
    public async Task Release_HandsTheLockToUrgentWaitersFirst_ThenTheOthersInOrder()
    {
        var gate = new WriteLock();
        await gate.WaitAsync(urgent: false, CancellationToken.None); // held
        var order = new List<string>();
        var first = Take(gate, false, "turn 1", order);
        var second = Take(gate, false, "turn 2", order);
        var webhook = Take(gate, true, "webhook", order);

        gate.Release();
        await Task.WhenAll(first, second, webhook);

        Assert.Equal(["webhook", "turn 1", "turn 2"], order);
    }

    [Fact]
    public async Task CancelledWaiter_IsSkipped_AndTheLockIsFreeAtTheEnd()
    {
        var gate = new WriteLock();
        await gate.WaitAsync(urgent: false, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var abandoned = gate.WaitAsync(urgent: false, cancel.Token);
        var next = gate.WaitAsync(urgent: false, CancellationToken.None);

        await cancel.CancelAsync();
        gate.Release();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await next; // the cancelled one was skipped
        gate.Release();
        Assert.True(gate.WaitAsync(urgent: false, CancellationToken.None).IsCompletedSuccessfully); // free again
    }

    private static async Task Take(WriteLock gate, bool urgent, string name, List<string> order)
    {
        await gate.WaitAsync(urgent, CancellationToken.None);
        lock (order)
        {
            order.Add(name);
        }

        gate.Release();
    }
}
