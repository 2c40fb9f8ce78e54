using System.Collections.Concurrent;
using System.Diagnostics;
using ChatBot.Adapters.Turns;

namespace ChatBot.Adapters.Tests;

/// <summary>Previews of a streamed answer: the first words at once, then at most one per interval, none after the end.</summary>
public sealed class PacedTextTests
{
    private static readonly TimeSpan LongInterval = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FirstWords_GoOutAtOnce_AndFinishing_SendsNoLastPreview_SoTheFinalIsNotDelayed()
    {
        var sent = new ConcurrentQueue<string>();
        await using var text = new PacedText(LongInterval, (t, _) => { sent.Enqueue(t); return Task.FromResult(true); });

        text.Append("Hello", CancellationToken.None);
        await WaitUntilAsync(() => !sent.IsEmpty);
        text.Append(" world", CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await text.FinishAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"finishing waited {clock.Elapsed}");
        Assert.Equal(["Hello"], sent);
        Assert.Equal(5, text.SentLength);
        Assert.Equal("Hello world", text.Text); // the final message carries the rest
    }

    [Fact]
    public async Task AnswerDoneBeforeAnyPreview_StillShowsItsFirstWords()
    {
        var sent = new ConcurrentQueue<string>();
        await using var text = new PacedText(LongInterval, (t, _) => { sent.Enqueue(t); return Task.FromResult(true); });

        text.Append("Short answer.", CancellationToken.None);
        await text.FinishAsync();

        Assert.Equal(["Short answer."], sent);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }
}
