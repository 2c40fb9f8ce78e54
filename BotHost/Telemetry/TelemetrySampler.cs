using System.Diagnostics.Metrics;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using ChatBot.ChatData.Knowledge;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Telemetry;

/// <summary>
/// Reads the database-backed gauges (inbox depth and age, documents and jobs by state) every
/// <c>Telemetry:SampleSeconds</c>, so a scrape never waits on the database and many scrapes cost one query each.
/// </summary>
internal sealed partial class TelemetrySampler(
    IDbContextFactory<ChatDbContext> contexts,
    IServiceProvider services,
    Microsoft.Extensions.Options.IOptions<TelemetryOptions> options,
    TimeProvider clock,
    ILogger<TelemetrySampler> logger) : BackgroundService
{
    private static readonly string[] InboxStates = ["pending", "processing"];
    private static readonly string[] DocumentStates = ["pending", "processing", "ready", "failed"];

    private static readonly Dictionary<string, long> None = [];

    private volatile Snapshot _snapshot = new(None, null, None, None);

    public IEnumerable<Measurement<long>> InboxDepth() =>
        _snapshot.Inbox.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("status", p.Key)));

    public IEnumerable<Measurement<double>> InboxOldestAge() =>
        _snapshot.OldestPendingSeconds is { } age ? [new Measurement<double>(age)] : [new Measurement<double>(0)];

    public IEnumerable<Measurement<long>> Documents() =>
        _snapshot.Documents.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("status", p.Key)));

    public IEnumerable<Measurement<long>> Jobs() =>
        _snapshot.Jobs.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("state", p.Key)));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SampleSeconds), clock);
        do
        {
            try
            {
                _snapshot = await SampleAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.SampleFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal async Task<Snapshot> SampleAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var inbox = await db.Inbox.AsNoTracking()
            .Where(i => i.Status == InboxStatus.Pending || i.Status == InboxStatus.Processing)
            .GroupBy(i => i.Status)
            .Select(g => new { g.Key, Count = g.LongCount(), Oldest = g.Min(i => i.ReceivedAt) })
            .ToListAsync(cancellationToken);
        var documents = await db.Documents.AsNoTracking()
            .GroupBy(d => d.Status)
            .Select(g => new { g.Key, Count = g.LongCount() })
            .ToListAsync(cancellationToken);

        var inboxCounts = InboxStates.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        foreach (var row in inbox)
        {
            inboxCounts[row.Key.ToString().ToLowerInvariant()] = row.Count;
        }

        var documentCounts = DocumentStates.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        foreach (var row in documents)
        {
            documentCounts[row.Key.ToString().ToLowerInvariant()] = row.Count;
        }

        var oldest = inbox.Where(r => r.Key == InboxStatus.Pending).Select(r => (DateTime?)r.Oldest).FirstOrDefault();
        var age = oldest is { } at ? Math.Max(0, (clock.GetUtcNow().UtcDateTime - at).TotalSeconds) : (double?)null;
        return new Snapshot(inboxCounts, age, documentCounts, JobCounts());
    }

    private Dictionary<string, long> JobCounts()
    {
        if (services.GetService<JobStorage>() is not { } storage)
        {
            return [];
        }

        var statistics = storage.GetMonitoringApi().GetStatistics();
        return new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["enqueued"] = statistics.Enqueued,
            ["scheduled"] = statistics.Scheduled,
            ["processing"] = statistics.Processing,
            ["failed"] = statistics.Failed,
        };
    }

    internal sealed record Snapshot(
        IReadOnlyDictionary<string, long> Inbox,
        double? OldestPendingSeconds,
        IReadOnlyDictionary<string, long> Documents,
        IReadOnlyDictionary<string, long> Jobs);

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Warning, Message = "Could not read the inbox and ingestion gauges")]
        public static partial void SampleFailed(ILogger logger, Exception exception);
    }
}
