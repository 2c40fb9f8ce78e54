using System.Text;

namespace ChatBot.Adapters.Turns;

/// <summary>
/// The text of an answer as it is written, handed to a channel's preview (a stream update, a message edit) in the
/// background: at most once per interval, one send at a time, always the whole text so far. The pipeline's
/// <see cref="IReplyWriter.AppendAsync"/> never waits for the channel. The send returns false to stop previews (the
/// channel closed the stream, the text outgrew a message); the final message then carries everything. The interval is
/// the channel's real-time rate limit: it runs on the system clock, never the injected one (a test's frozen clock would
/// stall every preview after the first).
/// </summary>
public sealed class PacedText : IAsyncDisposable
{
    private readonly TimeSpan _interval;
    private readonly Func<string, CancellationToken, Task<bool>> _send;
    private readonly StringBuilder _text = new();
    private readonly SemaphoreSlim _more = new(0, 1);
    private readonly CancellationTokenSource _finish = new();
    private Task? _pump;
    private volatile bool _finished;
    private volatile bool _stopped;
    private int _sentLength;
    private DateTimeOffset _lastSend = DateTimeOffset.MinValue;

    public PacedText(TimeSpan interval, Func<string, CancellationToken, Task<bool>> send)
    {
        _interval = interval;
        _send = send;
    }

    /// <summary>How much of the text the channel has shown.</summary>
    public int SentLength => Volatile.Read(ref _sentLength);

    /// <summary>Whether previews ended early (the send said stop).</summary>
    public bool Stopped => _stopped;

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>The part of the text the channel has shown.</summary>
    public string SentText
    {
        get
        {
            lock (_text)
            {
                return _text.ToString(0, SentLength);
            }
        }
    }

    public void Append(string delta, CancellationToken cancellationToken)
    {
        lock (_text)
        {
            _text.Append(delta);
        }

        if (!_stopped && !_finished)
        {
            _pump ??= Task.Run(() => PumpAsync(cancellationToken), CancellationToken.None);
            Signal();
        }
    }

    /// <summary>Counts a send made outside the previews (a status, the final message) for the pacing.</summary>
    public void NoteSend() => _lastSend = TimeProvider.System.GetUtcNow();

    /// <summary>Waits until the channel may be called again.</summary>
    public async Task WaitForIntervalAsync(CancellationToken cancellationToken)
    {
        var wait = _lastSend + _interval - TimeProvider.System.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>
    /// Ends the previews. Once words are shown, no further preview is sent: the final message carries the whole text,
    /// and one more preview would only delay it by an interval. Before any are shown, the first words still go out
    /// (the channel's stream starts, so every answer looks the same). A preview already on its way is awaited.
    /// </summary>
    public async Task FinishAsync()
    {
        _finished = true;
        if (_pump is { } pump)
        {
            if (SentLength > 0)
            {
                await _finish.CancelAsync();
            }

            Signal();
            await pump;
        }
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        using var previews = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _finish.Token);
        try
        {
            while (true)
            {
                await WaitForIntervalAsync(previews.Token);
                var text = Text;
                if (text.Length > SentLength && !_stopped && (!_finished || SentLength == 0))
                {
                    if (await _send(text, cancellationToken))
                    {
                        Volatile.Write(ref _sentLength, text.Length);
                        NoteSend();
                    }
                    else
                    {
                        _stopped = true;
                    }
                }

                if (_finished || _stopped)
                {
                    return;
                }

                await _more.WaitAsync(previews.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Signal()
    {
        if (_more.CurrentCount > 0)
        {
            return; // One pending wake-up is enough; a wake-up per piece would throw on every one.
        }

        try
        {
            _more.Release();
        }
        catch (SemaphoreFullException)
        {
            // Another thread signalled in between.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await FinishAsync();
        _more.Dispose();
        _finish.Dispose();
    }
}
