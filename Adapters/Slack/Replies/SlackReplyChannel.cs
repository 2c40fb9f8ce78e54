using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack.Api;
using ChatBot.Adapters.Slack.Installs;
using ChatBot.Adapters.Slack.Events;
using ChatBot.Adapters.Turns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack.Replies;

/// <summary>Answers Slack turns in their thread, streamed with Slack's chat streaming.</summary>
internal sealed class SlackReplyChannel(SlackBotApi api, IOptions<SlackOptions> options, ILoggerFactory loggers) : IReplyChannel
{
    public ChannelKind Channel => ChannelKind.Slack;

    public IReplyWriter Open(InboundTurn turn, long turnId)
    {
        ArgumentNullException.ThrowIfNull(turn);
        return new SlackReplyWriter(api, turn.ReplyAddress, TimeSpan.FromSeconds(options.Value.StreamIntervalSeconds), loggers.CreateLogger<SlackReplyWriter>());
    }
}

/// <summary>
/// One Slack answer. Words are streamed (<c>chat.startStream</c>, then <c>chat.appendStream</c> with what is new, at most
/// once per interval) and the stream is closed with <c>chat.stopStream</c> carrying the sources and feedback buttons.
/// When Slack refuses to stream (an old client, a channel type) the answer is posted and then updated with
/// <c>chat.update</c> at the same pace. <c>stopped_by_user</c> ends the stream quietly and stops the model. Text beyond
/// one message's limit is sent as further messages in the thread.
/// </summary>
internal sealed partial class SlackReplyWriter : IReplyWriter
{
    private readonly SlackBotApi _api;
    private readonly IReadOnlyDictionary<string, string> _address;
    private readonly ILogger _logger;
    private readonly PacedText _text;
    private readonly CancellationTokenSource _stopped = new();
    private string? _ts;
    private bool _fallback;
    private bool _reacted;

    public SlackReplyWriter(SlackBotApi api, IReadOnlyDictionary<string, string> address, TimeSpan interval, ILogger logger)
    {
        _api = api;
        _address = address;
        _logger = logger;
        _text = new PacedText(interval, PreviewAsync);
    }

    public CancellationToken UserStopped => _stopped.Token;

    private string Channel => _address[SlackAddress.Channel];

    private string ThreadTs => _address[SlackAddress.ThreadTs];

    private bool IsDirectMessage => _address.GetValueOrDefault(SlackAddress.ChannelType) == "im";

    /// <summary>A slash command's answer: posted whole to its response URL (no thread to stream into).</summary>
    private string? ResponseUrl => _address.GetValueOrDefault(SlackAddress.ResponseUrl) is { Length: > 0 } url ? url : null;

    public async Task SetStatusAsync(string status, CancellationToken cancellationToken)
    {
        if (_ts is not null || ResponseUrl is not null)
        {
            return;
        }

        if (!IsDirectMessage)
        {
            // Channels have no assistant status: an 👀 on the question says it is being worked on.
            await ReactAsync(cancellationToken);
            return;
        }

        try
        {
            await _api.CallAsync(_address, "assistant.threads.setStatus", new Dictionary<string, object?> { ["channel_id"] = Channel, ["thread_ts"] = ThreadTs, ["status"] = status }, cancellationToken);
        }
        catch (SlackApiException)
        {
            // A status is a nicety: a thread Slack does not treat as an assistant thread refuses it.
        }
    }

    private async Task ReactAsync(CancellationToken cancellationToken)
    {
        if (_reacted || _address.GetValueOrDefault(SlackAddress.MessageTs) is not { Length: > 0 } messageTs)
        {
            return;
        }

        _reacted = true;
        try
        {
            await _api.CallAsync(_address, "reactions.add", new Dictionary<string, object?> { ["channel"] = Channel, ["timestamp"] = messageTs, ["name"] = "eyes" }, cancellationToken);
        }
        catch (SlackApiException)
        {
            // A reaction is a nicety (already_reacted, a missing reactions:write scope…).
        }
    }

    public Task AppendAsync(string delta, CancellationToken cancellationToken)
    {
        if (ResponseUrl is null)
        {
            _text.Append(delta, cancellationToken);
        }

        return Task.CompletedTask;
    }

    public async Task<string?> CompleteAsync(FinalReply reply, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reply);
        await _text.FinishAsync();
        if (_stopped.IsCancellationRequested)
        {
            return _ts;
        }

        var messages = SlackMessages.Build(reply);
        if (ResponseUrl is { } responseUrl)
        {
            await RespondAsync(responseUrl, messages, reply.Kind == ReplyKind.Answer ? "in_channel" : "ephemeral", cancellationToken);
            return null;
        }

        var first = messages[0];
        string firstTs;
        if (_ts is not null && !_fallback)
        {
            // chat.stopStream right away: it ends the stream with the rest of the words, it does not re-render the
            // message (the pacing is for appends and for chat.update, which Slack limits per message).
            // The streamed words stay when the final text goes on from them; otherwise the message is replaced.
            var streamed = _text.SentText;
            var firstPart = FirstPart(reply.Text, messages);
            var continues = firstPart.StartsWith(streamed, StringComparison.Ordinal);
            await StopStreamAsync(continues ? firstPart[streamed.Length..] : null, continues && messages.Count == 1 ? Trailing(first.Blocks) : null, cancellationToken);
            if (!continues)
            {
                await UpdateAsync(first, cancellationToken);
            }

            firstTs = _ts!;
        }
        else if (_ts is not null)
        {
            await _text.WaitForIntervalAsync(cancellationToken);
            await UpdateAsync(first, cancellationToken);
            firstTs = _ts!;
        }
        else
        {
            firstTs = await PostAsync(first, cancellationToken);
        }

        foreach (var more in messages.Skip(1))
        {
            await PostAsync(more, cancellationToken);
        }

        return firstTs;
    }

    public async Task FailAsync(string userMessage, CancellationToken cancellationToken)
    {
        await _text.FinishAsync();
        if (_ts is not null && !_fallback && !_stopped.IsCancellationRequested)
        {
            try
            {
                await StopStreamAsync("\n\n" + userMessage, null, cancellationToken);
                return;
            }
            catch (SlackApiException)
            {
                // Say it in a message of its own.
            }
        }

        var message = new SlackMessage(userMessage, new JsonArray(new JsonObject { ["type"] = "markdown", ["text"] = userMessage }));
        if (ResponseUrl is { } responseUrl)
        {
            await RespondAsync(responseUrl, [message], "ephemeral", cancellationToken);
            return;
        }

        await PostAsync(message, cancellationToken);
    }

    /// <summary>A slash command's answer: the question (for the others in the channel), then the answer's messages.</summary>
    private async Task RespondAsync(string responseUrl, IReadOnlyList<SlackMessage> messages, string visibility, CancellationToken cancellationToken)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var blocks = messages[i].Blocks.DeepClone().AsArray();
            if (i == 0 && _address.GetValueOrDefault(SlackAddress.Question) is { Length: > 0 } question && visibility == "in_channel")
            {
                blocks.Insert(0, new JsonObject
                {
                    ["type"] = "context",
                    ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = $"<@{_address[SlackAddress.UserId]}> asked: {SlackMessages.Escape(question)}" }),
                });
            }

            await _api.PostToResponseUrlAsync(responseUrl, new JsonObject { ["response_type"] = visibility, ["text"] = messages[i].Text, ["blocks"] = blocks }, cancellationToken);
        }
    }

    /// <summary>
    /// Shows the words so far: start or extend the stream, or (when Slack will not stream) post and update. False ends
    /// the previews (stopped, failed, or more text than one message holds: the rest follows in further messages).
    /// </summary>
    private async Task<bool> PreviewAsync(string text, CancellationToken cancellationToken)
    {
        if (text.Length > SlackMessages.MaxTextPerMessage)
        {
            return false;
        }

        try
        {
            if (_ts is null)
            {
                try
                {
                    var started = await _api.CallAsync(_address, "chat.startStream", StreamStart(text), cancellationToken);
                    _ts = (string?)started["ts"];
                }
                catch (SlackApiException ex) when (ex.Error != "stopped_by_user" && !ex.IsAuthError)
                {
                    Log.StreamRefused(_logger, ex.Error);
                    _fallback = true;
                    var posted = await _api.CallAsync(_address, "chat.postMessage", new Dictionary<string, object?> { ["channel"] = Channel, ["thread_ts"] = ThreadTs, ["markdown_text"] = text }, cancellationToken);
                    _ts = (string?)posted["ts"];
                }
            }
            else if (_fallback)
            {
                await _api.CallAsync(_address, "chat.update", new Dictionary<string, object?> { ["channel"] = Channel, ["ts"] = _ts, ["markdown_text"] = text }, cancellationToken);
            }
            else
            {
                await _api.CallAsync(_address, "chat.appendStream", new Dictionary<string, object?> { ["channel"] = Channel, ["ts"] = _ts, ["markdown_text"] = text[_text.SentLength..] }, cancellationToken);
            }

            return true;
        }
        catch (SlackApiException ex) when (ex.Error == "stopped_by_user")
        {
            Log.UserStopped(_logger);
            _stopped.Cancel();
            return false;
        }
        catch (SlackApiException ex)
        {
            // The preview stops here; the final message still carries the whole answer.
            Log.PreviewFailed(_logger, ex.Error);
            return false;
        }
    }

    private Dictionary<string, object?> StreamStart(string text)
    {
        var arguments = new Dictionary<string, object?> { ["channel"] = Channel, ["thread_ts"] = ThreadTs, ["markdown_text"] = text };
        if (!IsDirectMessage)
        {
            // Streams in channels name the person they answer.
            arguments["recipient_user_id"] = _address[SlackAddress.UserId];
            arguments["recipient_team_id"] = _address[SlackAddress.TeamId];
        }

        return arguments;
    }

    private async Task StopStreamAsync(string? text, JsonArray? blocks, CancellationToken cancellationToken)
    {
        var arguments = new Dictionary<string, object?> { ["channel"] = Channel, ["ts"] = _ts };
        if (!string.IsNullOrEmpty(text))
        {
            arguments["markdown_text"] = text;
        }

        if (blocks is { Count: > 0 })
        {
            arguments["blocks"] = blocks;
        }

        try
        {
            await _api.CallAsync(_address, "chat.stopStream", arguments, cancellationToken);
        }
        catch (SlackApiException ex) when (ex.Error == "stopped_by_user")
        {
            _stopped.Cancel();
        }
    }

    private Task<JsonObject> UpdateAsync(SlackMessage message, CancellationToken cancellationToken) =>
        _api.CallAsync(_address, "chat.update", new Dictionary<string, object?> { ["channel"] = Channel, ["ts"] = _ts, ["text"] = message.Text, ["blocks"] = message.Blocks }, cancellationToken);

    private async Task<string> PostAsync(SlackMessage message, CancellationToken cancellationToken)
    {
        var posted = await _api.CallAsync(_address, "chat.postMessage", new Dictionary<string, object?>
        {
            ["channel"] = Channel, ["thread_ts"] = ThreadTs, ["text"] = message.Text, ["blocks"] = message.Blocks,
        }, cancellationToken);
        return (string)posted["ts"]!;
    }

    /// <summary>The blocks after the text (sources, feedback): what stopStream adds under the streamed words.</summary>
    private static JsonArray Trailing(JsonArray blocks) => new([.. blocks.Skip(1).Select(b => b!.DeepClone())]);

    private static string FirstPart(string text, IReadOnlyList<SlackMessage> messages) =>
        messages.Count == 1 ? text : SlackMessages.Split(text, SlackMessages.MaxTextPerMessage)[0];

    public async ValueTask DisposeAsync()
    {
        await _text.DisposeAsync();
        _stopped.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 830, Level = LogLevel.Information, Message = "Slack would not stream ({Error}); posting and updating instead")]
        public static partial void StreamRefused(ILogger logger, string error);

        [LoggerMessage(EventId = 831, Level = LogLevel.Information, Message = "The user stopped the streamed answer")]
        public static partial void UserStopped(ILogger logger);

        [LoggerMessage(EventId = 832, Level = LogLevel.Warning, Message = "A streamed update failed ({Error}); the final message will carry the answer")]
        public static partial void PreviewFailed(ILogger logger, string error);
    }
}
