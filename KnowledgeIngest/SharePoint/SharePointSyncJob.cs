using Hangfire;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>
/// The Hangfire job of a source (recurring, or "sync now"): one sync pass. Passes never overlap (a second one waits for
/// the lock); a failed pass is not retried by Hangfire — the next run carries on from the saved delta link.
/// </summary>
public sealed class SharePointSyncJob(SharePointSync sync)
{
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 3600)]
    public Task RunAsync(long sourceId, CancellationToken cancellationToken) => sync.SyncAsync(sourceId, cancellationToken);
}

/// <summary>The host's job queue for sources: a pass now (the portal's "sync now"), and each source's recurring pass.</summary>
public interface ISharePointSyncTrigger
{
    void SyncNow(long sourceId);

    void Schedule(long sourceId);

    void Unschedule(long sourceId);
}
