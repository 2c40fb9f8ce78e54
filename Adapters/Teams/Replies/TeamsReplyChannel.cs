using System.Text;
using ChatBot.Adapters.Teams.Activities;
using ChatBot.Adapters.Teams.Connector;
using ChatBot.Adapters.Turns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Teams.Replies;

/// <summary>Answers Teams turns: streamed in personal chats, one message in group chats and channels.</summary>
internal sealed class TeamsReplyChannel(ConnectorClient connector, IOptions<TeamsOptions> options, TimeProvider clock, ILoggerFactory loggers) : IReplyChannel
{
    public ChannelKind Channel => ChannelKind.Teams;

    public IReplyWriter Open(InboundTurn turn, long turnId)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var teams = options.Value;
        return new TeamsReplyWriter(connector, turn.ReplyAddress, turn.Conversation.Type == ConversationType.Personal,
            TimeSpan.FromSeconds(teams.StreamIntervalSeconds), TimeSpan.FromSeconds(teams.StreamLimitSeconds), clock, loggers.CreateLogger<TeamsReplyWriter>());
    }
}

/// <summary>
/// One Teams answer. In a personal chat it follows the Teams streaming protocol: an informative update (the stream
/// id comes back), cumulative text updates with a rising <c>streamSequence</c> sent one at a time and at most one a
/// second, then the final message with <c>streamType: final</c> carrying the AI label, citations and feedback. When
/// the user presses Stop (403 "cancelled by user") it stops sending and tells the pipeline through
/// <see cref="UserStopped"/>. Near the two-minute limit it stops updating and ends the stream; if Teams has already
/// closed it, the final text replaces the streamed message with an update. Elsewhere one final message.
/// </summary>
internal sealed partial class TeamsReplyWriter : IReplyWriter
{
    private readonly ConnectorClient _connector;
    private readonly IReadOnlyDictionary<string, string> _address;
    private readonly bool _stream;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _streamLimit;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly StringBuilder _text = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly CancellationTokenSource _stopped = new();
    private readonly SemaphoreSlim _more = new(0, 1);
    private Task? _pump;
    private string? _streamId;
    private int _sequence;
    private int _sentLength;
    private DateTimeOffset _lastSend = DateTimeOffset.MinValue;
    private DateTimeOffset _streamStarted;
    private bool _streamClosed;
    private bool _finished;
    private bool _typingSent;

    public TeamsReplyWriter(ConnectorClient connector, IReadOnlyDictionary<string, string> address, bool stream, TimeSpan interval, TimeSpan streamLimit, TimeProvider clock, ILogger logger)
    {
        _streamLimit = streamLimit;
        _connector = connector;
        _address = address;
        _stream = stream;
        _interval = interval;
        _clock = clock;
        _logger = logger;
    }

    public CancellationToken UserStopped => _stopped.Token;

    private string ServiceUrl => _address[TeamsTurns.Address.ServiceUrl];

    private string ConversationId => _address[TeamsTurns.Address.ConversationId];

    private string? ActivityId => _address.TryGetValue(TeamsTurns.Address.ActivityId, out var id) ? id : null;

    public async Task SetStatusAsync(string status, CancellationToken cancellationToken)
    {
        if (!_stream)
        {
            if (!_typingSent)
            {
                _typingSent = true;
                await TryAsync(() => _connector.SendAsync(ServiceUrl, ConversationId, new System.Text.Json.Nodes.JsonObject { ["type"] = "typing" }, null, cancellationToken));
            }

            return;
        }

        await _send.WaitAsync(cancellationToken);
        try
        {
            // Progress notes are cosmetic: only the first, or one when the interval allows and no text has come yet.
            if (_streamClosed || _sentLength > 0 || (_streamId is not null && _clock.GetUtcNow() - _lastSend < _interval))
            {
                return;
            }

            await SendStreamUpdateAsync("informative", status, cancellationToken);
        }
        finally
        {
            _send.Release();
        }
    }

    public Task AppendAsync(string delta, CancellationToken cancellationToken)
    {
        lock (_text)
        {
            _text.Append(delta);
        }

        if (_stream && !_streamClosed)
        {
            _pump ??= Task.Run(() => PumpAsync(cancellationToken), CancellationToken.None);
            Signal();
        }

        return Task.CompletedTask;
    }

    public async Task<string?> CompleteAsync(FinalReply reply, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reply);
        await StopPumpAsync();
        if (!_stream)
        {
            var sent = await _connector.SendAsync(ServiceUrl, ConversationId, TeamsMessages.Final(reply, null, null), ActivityId, cancellationToken);
            return sent.Id;
        }

        if (_stopped.IsCancellationRequested)
        {
            // The user pressed Stop: Teams keeps what was streamed and accepts nothing more on this stream.
            return _streamId;
        }

        if (_streamId is null)
        {
            var sent = await _connector.SendAsync(ServiceUrl, ConversationId, TeamsMessages.Final(reply, null, null), null, cancellationToken);
            return sent.Id;
        }

        await WaitForIntervalAsync(cancellationToken);
        try
        {
            await _connector.SendAsync(ServiceUrl, ConversationId, TeamsMessages.Final(reply, _streamId, null), null, cancellationToken);
        }
        catch (ConnectorException ex) when (ex.Status == 403 && IsCancelled(ex))
        {
            _stopped.Cancel();
            return _streamId;
        }
        catch (ConnectorException ex) when (ex.Status == 403)
        {
            // The stream was closed (time limit): replace the streamed message with the final one.
            Log.StreamClosed(_logger, ex.Code);
            var replacement = TeamsMessages.Final(reply, null, null);
            replacement["id"] = _streamId;
            await _connector.UpdateAsync(ServiceUrl, ConversationId, _streamId, replacement, cancellationToken);
        }

        return _streamId;
    }

    public async Task FailAsync(string userMessage, CancellationToken cancellationToken)
    {
        await StopPumpAsync();
        var notice = new FinalReply(userMessage, ReplyKind.Notice, [], []);
        if (_stream && _streamId is not null && !_stopped.IsCancellationRequested)
        {
            await WaitForIntervalAsync(cancellationToken);
            try
            {
                await _connector.SendAsync(ServiceUrl, ConversationId, TeamsMessages.Final(notice, _streamId, null), null, cancellationToken);
                return;
            }
            catch (ConnectorException ex) when (ex.Status == 403)
            {
                // The stream is closed; say it in a message of its own.
            }
        }

        await _connector.SendAsync(ServiceUrl, ConversationId, TeamsMessages.Text(userMessage), _stream ? null : ActivityId, cancellationToken);
    }

    /// <summary>Sends the text gathered so far, at most once per interval, until the answer is complete.</summary>
    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await WaitForIntervalAsync(cancellationToken);
                string text;
                lock (_text)
                {
                    text = _text.ToString();
                }

                if (text.Length > _sentLength && !_streamClosed)
                {
                    await _send.WaitAsync(cancellationToken);
                    try
                    {
                        if (_streamId is not null && _clock.GetUtcNow() - _streamStarted > _streamLimit)
                        {
                            _streamClosed = true;
                        }
                        else
                        {
                            await SendStreamUpdateAsync("streaming", text, cancellationToken);
                            _sentLength = text.Length;
                        }
                    }
                    finally
                    {
                        _send.Release();
                    }
                }

                if (_finished || _streamClosed)
                {
                    return;
                }

                await _more.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ConnectorException ex)
        {
            // Updates are a preview; the final message still carries the whole answer.
            Log.StreamUpdateFailed(_logger, ex.Status, ex.Code);
            _streamClosed = true;
        }
    }

    private async Task SendStreamUpdateAsync(string streamType, string text, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _connector.SendAsync(ServiceUrl, ConversationId, TeamsMessages.StreamUpdate(streamType, text, ++_sequence, _streamId), null, cancellationToken);
            _lastSend = _clock.GetUtcNow();
            if (_streamId is null)
            {
                _streamId = response.Id;
                _streamStarted = _lastSend;
            }
        }
        catch (ConnectorException ex) when (ex.Status == 403)
        {
            _streamClosed = true;
            if (IsCancelled(ex))
            {
                Log.UserStopped(_logger);
                _stopped.Cancel();
            }
            else
            {
                Log.StreamClosed(_logger, ex.Code);
            }
        }
    }

    private async Task StopPumpAsync()
    {
        _finished = true;
        if (_pump is { } pump)
        {
            Signal();
            await pump;
        }
    }

    /// <summary>Wakes the pump (one pending signal is enough).</summary>
    private void Signal()
    {
        try
        {
            _more.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private async Task WaitForIntervalAsync(CancellationToken cancellationToken)
    {
        var wait = _lastSend + _interval - _clock.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _clock, cancellationToken);
        }
    }

    private static bool IsCancelled(ConnectorException ex) => ex.Message.Contains("cancel", StringComparison.OrdinalIgnoreCase);

    private async Task TryAsync(Func<Task> send)
    {
        try
        {
            await send();
        }
        catch (ConnectorException ex)
        {
            Log.StreamUpdateFailed(_logger, ex.Status, ex.Code);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopPumpAsync();
        _stopped.Dispose();
        _send.Dispose();
        _more.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 720, Level = LogLevel.Information, Message = "The user stopped the streamed answer")]
        public static partial void UserStopped(ILogger logger);

        [LoggerMessage(EventId = 721, Level = LogLevel.Information, Message = "Teams closed the stream ({Code})")]
        public static partial void StreamClosed(ILogger logger, string code);

        [LoggerMessage(EventId = 722, Level = LogLevel.Warning, Message = "A streaming update failed ({Status} {Code}); the final message will carry the answer")]
        public static partial void StreamUpdateFailed(ILogger logger, int status, string code);
    }
}
