using ChatBot.BotHost.Inbox;

namespace ChatBot.BotHost.Tests.Inbox;

/// <summary>New turns wait while webhooks are storing theirs, so a burst is acknowledged first; never for long.</summary>
public sealed class InboxSignalTests
{
    [Fact]
    public async Task WhenAcceptsDone_WaitsWhileATurnIsBeingAccepted_AndReturnsWhenItIsStored()
    {
        using var signal = new InboxSignal();
        signal.AcceptStarted();
        signal.AcceptStarted();

        var waiting = signal.WhenAcceptsDoneAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        signal.AcceptEnded();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted); // one webhook still waits for its write

        signal.AcceptEnded();
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WhenAcceptsDone_GivesUpWaitingAfterTheLimit_SoTurnsStartDuringAnEndlessStream()
    {
        using var signal = new InboxSignal();
        signal.AcceptStarted();

        await signal.WhenAcceptsDoneAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(signal.WhenAcceptsDoneAsync(TimeSpan.Zero, CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public void WhenAcceptsDone_NothingBeingAccepted_ReturnsAtOnce()
    {
        using var signal = new InboxSignal();
        signal.AcceptStarted();
        signal.AcceptEnded();

        Assert.True(signal.WhenAcceptsDoneAsync(TimeSpan.FromMinutes(1), CancellationToken.None).IsCompletedSuccessfully);
    }
}
