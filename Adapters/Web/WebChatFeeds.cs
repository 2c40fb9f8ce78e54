using System.Collections.Concurrent;
using System.Threading.Channels;

namespace ChatBot.Adapters.Web;

/// <summary>One event of a web chat answer, as sent over server-sent events.</summary>
/// <param name="Name">status, delta, final or error.</param>
/// <param name="Data">The event's JSON payload.</param>
public sealed record WebChatEvent(string Name, object Data);

/// <summary>
/// Buffers each web turn's events between the pipeline (which may start before the browser listens) and the SSE
/// response. A feed is created by whichever side comes first and dropped once read to the end, or after a while unread.
/// </summary>
public sealed class WebChatFeeds(TimeProvider clock)
{
    private static readonly TimeSpan UnreadLifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<long, Feed> _feeds = new();

    public ChannelWriter<WebChatEvent> Writer(long turnId) => Get(turnId).Events.Writer;

    public ChannelReader<WebChatEvent> Reader(long turnId) => Get(turnId).Events.Reader;

    public void Remove(long turnId) => _feeds.TryRemove(turnId, out _);

    /// <summary>Drops feeds nobody read (the browser went away); called now and then.</summary>
    public void Sweep()
    {
        var cutoff = clock.GetUtcNow() - UnreadLifetime;
        foreach (var (id, feed) in _feeds)
        {
            if (feed.CreatedAt < cutoff)
            {
                _feeds.TryRemove(id, out _);
            }
        }
    }

    private Feed Get(long turnId)
    {
        if (_feeds.Count > 1024)
        {
            Sweep();
        }

        return _feeds.GetOrAdd(turnId, _ => new Feed(Channel.CreateUnbounded<WebChatEvent>(new UnboundedChannelOptions { SingleReader = true }), clock.GetUtcNow()));
    }

    private sealed record Feed(Channel<WebChatEvent> Events, DateTimeOffset CreatedAt);
}
