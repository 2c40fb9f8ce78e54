using ChatBot.Adapters.Teams.Activities;
using ChatBot.Adapters.Teams.Connector;
using ChatBot.Adapters.Turns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Teams.Replies;

/// <summary>Answers Teams turns: streamed in personal chats, one message in group chats and channels.</summary>
internal sealed class TeamsReplyChannel(ConnectorClient connector, IOptions<TeamsOptions> options, ILoggerFactory loggers) : IReplyChannel
{
    public ChannelKind Channel => ChannelKind.Teams;

    public IReplyWriter Open(InboundTurn turn, long turnId)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var teams = options.Value;
        return new TeamsReplyWriter(connector, turn.ReplyAddress, turn.Conversation.Type == ConversationType.Personal,
            TimeSpan.FromSeconds(teams.StreamIntervalSeconds), TimeSpan.FromSeconds(teams.StreamLimitSeconds), loggers.CreateLogger<TeamsReplyWriter>());
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
    private readonly TimeSpan _streamLimit;
    private readonly ILogger _logger;
    private readonly PacedText _text;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly CancellationTokenSource _stopped = new();
    private string? _streamId;
    private int _sequence;
    private DateTimeOffset _streamStarted;
    private bool _streamClosed;
    private bool _typingSent;

    public TeamsReplyWriter(ConnectorClient connector, IReadOnlyDictionary<string, string> address, bool stream, TimeSpan interval, TimeSpan streamLimit, ILogger logger)
    {
        _connector = connector;
        _address = address;
        _stream = stream;
        _streamLimit = streamLimit;
        _logger = logger;
        _text = new PacedText(interval, PreviewAsync);
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
            // Progress notes are cosmetic: the first one opens the stream; later ones only before any text.
            if (_streamClosed || _text.SentLength > 0 || _streamId is not null)
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
        if (_stream)
        {
            _text.Append(delta, cancellationToken);
        }

        return Task.CompletedTask;
    }

    public async Task<string?> CompleteAsync(FinalReply reply, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reply);
        await _text.FinishAsync();
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

        await _text.WaitForIntervalAsync(cancellationToken);
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
        await _text.FinishAsync();
        var notice = new FinalReply(userMessage, ReplyKind.Notice, [], []);
        if (_stream && _streamId is not null && !_stopped.IsCancellationRequested)
        {
            await _text.WaitForIntervalAsync(cancellationToken);
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

    /// <summary>One streaming update with the text so far; false ends the updates (closed, stopped, past the limit).</summary>
    private async Task<bool> PreviewAsync(string text, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken);
        try
        {
            if (_streamClosed || (_streamId is not null && TimeProvider.System.GetUtcNow() - _streamStarted > _streamLimit))
            {
                _streamClosed = true;
                return false;
            }

            await SendStreamUpdateAsync("streaming", text, cancellationToken);
            return !_streamClosed;
        }
        catch (ConnectorException ex)
        {
            // Updates are a preview; the final message still carries the whole answer.
            Log.StreamUpdateFailed(_logger, ex.Status, ex.Code);
            _streamClosed = true;
            return false;
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task SendStreamUpdateAsync(string streamType, string text, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _connector.SendAsync(ServiceUrl, ConversationId, TeamsMessages.StreamUpdate(streamType, text, ++_sequence, _streamId), null, cancellationToken);
            _text.NoteSend();
            if (_streamId is null)
            {
                _streamId = response.Id;
                _streamStarted = TimeProvider.System.GetUtcNow();
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
        await _text.DisposeAsync();
        _stopped.Dispose();
        _send.Dispose();
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
