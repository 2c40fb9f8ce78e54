using ChatBot.ChatData.Knowledge;
using Hangfire;

namespace ChatBot.KnowledgeIngest.Ingestion;

/// <summary>Queues the ingestion of one version of a document.</summary>
public interface IIngestionScheduler
{
    void Enqueue(Guid documentId, int version, TimeSpan delay = default);
}

/// <summary>Ingestion as Hangfire jobs (in-memory storage for SQLite, the server database's storage otherwise).</summary>
internal sealed class HangfireIngestionScheduler(IBackgroundJobClient jobs) : IIngestionScheduler
{
    public void Enqueue(Guid documentId, int version, TimeSpan delay = default)
    {
        if (delay > TimeSpan.Zero)
        {
            jobs.Schedule<IngestionJob>(job => job.RunAsync(documentId, version, CancellationToken.None), delay);
        }
        else
        {
            jobs.Enqueue<IngestionJob>(job => job.RunAsync(documentId, version, CancellationToken.None));
        }
    }
}

/// <summary>Indexing of a document ended (ready or failed): the host tells webhooks, and the uploader of a chat upload through the channel it came from.</summary>
public interface IIngestionNotifier
{
    Task DocumentFinishedAsync(Document document, CancellationToken cancellationToken);
}

internal sealed class NoIngestionNotifier : IIngestionNotifier
{
    public Task DocumentFinishedAsync(Document document, CancellationToken cancellationToken) => Task.CompletedTask;
}
