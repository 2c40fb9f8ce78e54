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
    ISharePointSyncTrigger trigger,
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
        var wanted = enabled.Select(s => JobPrefix + s.Id).ToHashSet(StringComparer.Ordinal);
        var recurring = new RecurringJobManager(storage);
        using (var connection = storage.GetConnection())
        {
            foreach (var job in connection.GetRecurringJobs().Where(j => j.Id.StartsWith(JobPrefix, StringComparison.Ordinal) && !wanted.Contains(j.Id)))
            {
                recurring.RemoveIfExists(job.Id);
            }
        }

        foreach (var source in enabled)
        {
            trigger.Schedule(source.Id);
            if (source.LastSyncedAt is null)
            {
                trigger.SyncNow(source.Id);
            }
        }

        Log.Scheduled(logger, enabled.Count, graph.Value.SyncIntervalMinutes);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 4630, Level = LogLevel.Information, Message = "{Count} SharePoint sources sync every {Minutes} minutes")]
        public static partial void Scheduled(ILogger logger, int count, int minutes);
    }
}

/// <summary>Passes of a source as Hangfire jobs: now, and every <c>Graph:SyncIntervalMinutes</c>.</summary>
internal sealed class HangfireSharePointSyncTrigger(IBackgroundJobClient jobs, JobStorage storage, IOptions<GraphOptions> graph) : ISharePointSyncTrigger
{
    public void SyncNow(long sourceId) => jobs.Enqueue<SharePointSyncJob>(j => j.RunAsync(sourceId, CancellationToken.None));

    public void Schedule(long sourceId)
    {
        var interval = graph.Value.SyncIntervalMinutes;
        var cron = interval < 60 ? Cron.MinuteInterval(interval) : Cron.HourInterval(Math.Max(1, interval / 60));
        new RecurringJobManager(storage).AddOrUpdate<SharePointSyncJob>(SharePointSchedule.JobPrefix + sourceId, j => j.RunAsync(sourceId, CancellationToken.None), cron);
    }

    public void Unschedule(long sourceId) => new RecurringJobManager(storage).RemoveIfExists(SharePointSchedule.JobPrefix + sourceId);
}
