using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Ingestion;

/// <summary>
/// Queues again what a crash or a lost in-memory queue left behind: pending documents not touched for a while and
/// documents whose lease lapsed. Runs at start and every <c>Knowledge:RecoveryInterval</c>, only where jobs run.
/// </summary>
public sealed partial class IngestionRecovery(
    IDbContextFactory<ChatDbContext> contexts,
    IIngestionScheduler scheduler,
    IOptions<KnowledgeOptions> options,
    TimeProvider clock,
    ILogger<IngestionRecovery> logger) : BackgroundService
{
    /// <summary>
    /// Queues every unfinished document that nobody is working on; returns how many. At start every pending document
    /// counts (an in-memory queue starts empty); later only those untouched for a recovery interval.
    /// </summary>
    public async Task<int> RequeueAsync(bool atStart, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var quietSince = atStart ? now : now - options.Value.RecoveryInterval;
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var stranded = await context.Documents.AsNoTracking()
            .Where(d => (d.Status == DocumentStatus.Pending || d.Status == DocumentStatus.Processing)
                && (d.LeaseUntil == null ? d.UpdatedAt <= quietSince : d.LeaseUntil < now))
            .Select(d => new { d.Id, d.Version })
            .Take(1000)
            .ToListAsync(cancellationToken);
        foreach (var document in stranded)
        {
            scheduler.Enqueue(document.Id, document.Version);
        }

        if (stranded.Count > 0)
        {
            Log.Requeued(logger, stranded.Count);
        }

        return stranded.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunJobs)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.RecoveryInterval, clock);
        var atStart = true;
        do
        {
            try
            {
                await RequeueAsync(atStart, stoppingToken);
                atStart = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RecoveryFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Queued {Count} unfinished documents again")]
        public static partial void Requeued(ILogger logger, int count);

        [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Looking for unfinished documents failed")]
        public static partial void RecoveryFailed(ILogger logger, Exception error);
    }
}
