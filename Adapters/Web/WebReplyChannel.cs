using System.Globalization;
using System.Threading.Channels;
using ChatBot.Adapters.Turns;

namespace ChatBot.Adapters.Web;

/// <summary>Answers web chat (and API) turns into their feed, which the waiting SSE response relays at once.</summary>
public sealed class WebReplyChannel(WebChatFeeds feeds, ChannelKind channel) : IReplyChannel
{
    public ChannelKind Channel => channel;

    public IReplyWriter Open(InboundTurn turn, long turnId) => new WebReplyWriter(feeds.Writer(turnId));

    private sealed class WebReplyWriter(ChannelWriter<WebChatEvent> events) : IReplyWriter
    {
        public Task SetStatusAsync(string status, CancellationToken cancellationToken) =>
            events.WriteAsync(new WebChatEvent("status", new { text = status }), cancellationToken).AsTask();

        public Task AppendAsync(string delta, CancellationToken cancellationToken) =>
            events.WriteAsync(new WebChatEvent("delta", new { text = delta }), cancellationToken).AsTask();

        public async Task<string?> CompleteAsync(FinalReply reply, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(reply);
            await events.WriteAsync(new WebChatEvent("final", WebMessageView.From(reply)), cancellationToken);
            events.TryComplete();
            return reply.MessageId?.ToString(CultureInfo.InvariantCulture);
        }

        public async Task FailAsync(string userMessage, CancellationToken cancellationToken)
        {
            await events.WriteAsync(new WebChatEvent("error", new { message = userMessage }), cancellationToken);
            events.TryComplete();
        }

        public ValueTask DisposeAsync()
        {
            // A turn that ends without an answer (feedback, a crash) still ends the feed.
            events.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>An answer as the web chat shows it: Markdown rendered to safe HTML, numbered citations, buttons.</summary>
public sealed record WebMessageView(
    long? MessageId,
    string Kind,
    string Text,
    string Html,
    IReadOnlyList<Citation> Citations,
    IReadOnlyList<ReplyAction> Actions,
    string? Model)
{
    public static WebMessageView From(FinalReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return new WebMessageView(
            reply.MessageId,
            reply.Kind == ReplyKind.Answer ? "answer" : "notice",
            reply.Text,
            SafeMarkdown.ToHtml(reply.Text),
            [.. reply.Citations.Select(c => c with { Url = SafeMarkdown.IsSafeUrl(c.Url) ? c.Url : null })],
            reply.Actions,
            reply.Model);
    }
}
