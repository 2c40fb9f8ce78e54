using ChatBot.KnowledgeIngest.SharePoint;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Knowledge;

/// <summary>
/// At start, when Graph is configured: the sources of <c>SharePoint:Sites</c> are written to the database and each
/// enabled source gets a recurring Hangfire job every <c>Graph:SyncIntervalMinutes</c> (sources never synced run at
/// once); jobs of disabled or deleted sources are removed.
/// </summary>
internal sealed partial class SharePointSchedule(
    SharePointSources sources,
    JobStorage storage,
    IBackgroundJobClient jobs,
    IOptions<GraphOptions> graph,
    ILogger<SharePointSchedule> logger) : IHostedService
{
    public const string JobPrefix = "sharepoint-";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!graph.Value.Enabled)
        {
            return;
        }

        var enabled = await sources.ApplyConfigurationAsync(cancellationToken);
        var interval = graph.Value.SyncIntervalMinutes;
        var cron = interval < 60 ? Cron.MinuteInterval(interval) : Cron.HourInterval(Math.Max(1, interval / 60));
        var recurring = new RecurringJobManager(storage);
        var wanted = enabled.Select(s => JobPrefix + s.Id).ToHashSet(StringComparer.Ordinal);
        using (var connection = storage.GetConnection())
        {
            foreach (var job in connection.GetRecurringJobs().Where(j => j.Id.StartsWith(JobPrefix, StringComparison.Ordinal) && !wanted.Contains(j.Id)))
            {
                recurring.RemoveIfExists(job.Id);
            }
        }

        foreach (var source in enabled)
        {
            var id = source.Id;
            recurring.AddOrUpdate<SharePointSyncJob>(JobPrefix + id, j => j.RunAsync(id, CancellationToken.None), cron);
            if (source.LastSyncedAt is null)
            {
                jobs.Enqueue<SharePointSyncJob>(j => j.RunAsync(id, CancellationToken.None));
            }
        }

        Log.Scheduled(logger, enabled.Count, interval);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 4630, Level = LogLevel.Information, Message = "{Count} SharePoint sources sync every {Minutes} minutes")]
        public static partial void Scheduled(ILogger logger, int count, int minutes);
    }
}

/// <summary>"Sync now": one pass of the source, queued in Hangfire like the recurring ones.</summary>
internal sealed class HangfireSharePointSyncTrigger(IBackgroundJobClient jobs) : ISharePointSyncTrigger
{
    public void SyncNow(long sourceId) => jobs.Enqueue<SharePointSyncJob>(j => j.RunAsync(sourceId, CancellationToken.None));
}
