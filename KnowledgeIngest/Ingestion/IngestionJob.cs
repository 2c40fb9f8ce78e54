using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Chunking;
using ChatBot.KnowledgeIngest.Documents;
using ChatBot.KnowledgeIngest.Extraction;
using ChatBot.KnowledgeIngest.Index;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Ingestion;

/// <summary>
/// Indexes one version of one document: claim (a lease in the document row) → extract → chunk → embed → write the new
/// chunks and mark it ready in one transaction. Our table, not the job queue, is the truth: a duplicate job finds the
/// lease taken or the version done and does nothing; a crash leaves a lapsed lease that <see cref="IngestionRecovery"/>
/// queues again. A file that can never be read fails at once with its reason; other errors are retried with back-off
/// up to <c>Knowledge:MaxAttempts</c>.
/// </summary>
public sealed partial class IngestionJob(
    IDbContextFactory<ChatDbContext> contexts,
    IBlobStore blobs,
    DocumentExtractor extractor,
    TextChunker chunker,
    ChunkEmbedder embedder,
    IVectorIndex vectors,
    IIngestionScheduler scheduler,
    IIngestionNotifier notifier,
    IOptions<KnowledgeOptions> options,
    TimeProvider clock,
    ILogger<IngestionJob> logger)
{
    private readonly string _worker = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    [AutomaticRetry(Attempts = 0)] // our own retries: the document row keeps the attempt count across restarts
    public async Task RunAsync(Guid documentId, int version, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!await ClaimAsync(documentId, version, cancellationToken))
        {
            Log.NotClaimed(logger, documentId, version);
            return;
        }

        using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renewal = RenewLeaseAsync(documentId, leaseLost);
        var started = clock.GetTimestamp();
        try
        {
            var chunks = await BuildChunksAsync(documentId, leaseLost.Token);
            var written = await WriteAsync(documentId, version, chunks.Title, chunks.Chunks, leaseLost.Token);
            if (written)
            {
                if (chunks.Chunks.Any(c => c.Embedding is not null))
                {
                    await SyncVectorsAsync(cancellationToken);
                }

                var elapsed = clock.GetElapsedTime(started).TotalMilliseconds;
                Log.Indexed(logger, documentId, version, chunks.Chunks.Count, elapsed);
                await NotifyAsync(documentId, cancellationToken);
            }
        }
        catch (ExtractionException ex)
        {
            await FailAsync(documentId, version, ex.Message, cancellationToken);
        }
        catch (OperationCanceledException) when (leaseLost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Log.LeaseLost(logger, documentId, version);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await RetryOrFailAsync(documentId, version, ex, o, cancellationToken);
        }
        finally
        {
            await leaseLost.CancelAsync();
            await renewal;
        }
    }

    private async Task<bool> ClaimAsync(Guid documentId, int version, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var until = now + options.Value.Lease;
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var claimed = await context.Documents
            .Where(d => d.Id == documentId && d.Version == version
                && (d.Status == DocumentStatus.Pending || d.Status == DocumentStatus.Processing)
                && (d.LeaseUntil == null || d.LeaseUntil < now))
            .ExecuteUpdateAsync(
                s => s.SetProperty(d => d.Status, DocumentStatus.Processing)
                    .SetProperty(d => d.LeaseOwner, _worker)
                    .SetProperty(d => d.LeaseUntil, until)
                    .SetProperty(d => d.Attempts, d => d.Attempts + 1)
                    .SetProperty(d => d.UpdatedAt, now),
                cancellationToken);
        return claimed == 1;
    }

    /// <summary>Extends the lease every third of its length; when it cannot (taken over), the work is cancelled.</summary>
    private Task RenewLeaseAsync(Guid documentId, CancellationTokenSource leaseLost) => Task.Run(async () =>
    {
        var period = options.Value.Lease / 3;
        using var timer = new PeriodicTimer(period, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(leaseLost.Token))
            {
                var now = clock.GetUtcNow().UtcDateTime;
                var until = now + options.Value.Lease;
                await using var context = await contexts.CreateDbContextAsync(leaseLost.Token);
                var renewed = await context.Documents
                    .Where(d => d.Id == documentId && d.LeaseOwner == _worker)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseUntil, until), leaseLost.Token);
                if (renewed == 0)
                {
                    await leaseLost.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the work ended or the lease was lost
        }
    });

    private async Task<(string? Title, List<DocumentChunk> Chunks)> BuildChunksAsync(Guid documentId, CancellationToken cancellationToken)
    {
        Document document;
        await using (var context = await contexts.CreateDbContextAsync(cancellationToken))
        {
            document = await context.Documents.AsNoTracking().Include(d => d.Principals).FirstAsync(d => d.Id == documentId, cancellationToken);
        }

        ExtractedDocument extracted;
        try
        {
            await using var content = await blobs.OpenReadAsync(document.BlobName, cancellationToken);
            extracted = await extractor.ExtractAsync(content, document.SourceName, document.ContentType, cancellationToken);
        }
        catch (FileNotFoundException ex)
        {
            throw new ExtractionException("The stored file is missing; upload it again.", ex);
        }

        // A title inside the file (PDF/Office properties, the first heading) beats one made from the file name.
        var title = document.Title == DocumentIntake.TitleFrom(document.SourceName) && !string.IsNullOrWhiteSpace(extracted.Title)
            ? extracted.Title!.Length > 400 ? extracted.Title[..400] : extracted.Title
            : document.Title;
        var drafts = chunker.Chunk(title, extracted);
        var embeddings = await embedder.EmbedAsync(drafts, cancellationToken);
        var keys = AccessKeys.Join(AccessKeys.ForDocument(document));
        var chunks = drafts.Select((c, i) => new DocumentChunk
        {
            DocumentId = documentId,
            Ordinal = i,
            Heading = c.Heading.Length > 1000 ? c.Heading[..1000] : c.Heading,
            Text = c.Text,
            Section = c.Section is { Length: > 1000 } s ? s[..1000] : c.Section,
            Page = c.Page,
            Tokens = c.Tokens,
            AccessKeys = keys,
            Embedding = embeddings?[i],
        }).ToList();
        return (title, chunks);
    }

    /// <summary>Replaces the chunks and marks the document ready, only while this worker still owns this version.</summary>
    private async Task<bool> WriteAsync(Guid documentId, int version, string? title, List<DocumentChunk> chunks, CancellationToken cancellationToken)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var marked = await context.Documents
            .Where(d => d.Id == documentId && d.Version == version && d.LeaseOwner == _worker)
            .ExecuteUpdateAsync(
                s => s.SetProperty(d => d.Status, DocumentStatus.Ready)
                    .SetProperty(d => d.Title, d => title ?? d.Title)
                    .SetProperty(d => d.ChunkCount, chunks.Count)
                    .SetProperty(d => d.FailureReason, (string?)null)
                    .SetProperty(d => d.LeaseOwner, (string?)null)
                    .SetProperty(d => d.LeaseUntil, (DateTime?)null)
                    .SetProperty(d => d.IndexedAt, now)
                    .SetProperty(d => d.UpdatedAt, now),
                cancellationToken);
        if (marked == 0)
        {
            Log.Superseded(logger, documentId, version);
            return false; // a newer version arrived, or the lease was taken over: leave everything to its owner
        }

        await context.DocumentChunks.Where(c => c.DocumentId == documentId).ExecuteDeleteAsync(cancellationToken);
        context.DocumentChunks.AddRange(chunks);
        await context.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task FailAsync(Guid documentId, int version, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        reason = reason.Length > 2000 ? reason[..2000] : reason;
        await using (var context = await contexts.CreateDbContextAsync(cancellationToken))
        {
            var failed = await context.Documents
                .Where(d => d.Id == documentId && d.Version == version && d.LeaseOwner == _worker)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(d => d.Status, DocumentStatus.Failed)
                        .SetProperty(d => d.FailureReason, reason)
                        .SetProperty(d => d.LeaseOwner, (string?)null)
                        .SetProperty(d => d.LeaseUntil, (DateTime?)null)
                        .SetProperty(d => d.UpdatedAt, now),
                    cancellationToken);
            if (failed == 0)
            {
                return;
            }
        }

        Log.Failed(logger, documentId, version, reason);
        await NotifyAsync(documentId, cancellationToken);
    }

    private async Task RetryOrFailAsync(Guid documentId, int version, Exception error, KnowledgeOptions o, CancellationToken cancellationToken)
    {
        int attempts;
        await using (var context = await contexts.CreateDbContextAsync(cancellationToken))
        {
            attempts = await context.Documents.Where(d => d.Id == documentId).Select(d => d.Attempts).FirstOrDefaultAsync(cancellationToken);
        }

        if (attempts >= o.MaxAttempts)
        {
            await FailAsync(documentId, version, $"Indexing failed {attempts} times; the last error: {error.Message}", cancellationToken);
            return;
        }

        // Back off 10 s, 40 s, 90 s, …; the lease is kept until then so recovery does not start it early.
        var delay = TimeSpan.FromSeconds(10 * attempts * attempts);
        var retryAt = clock.GetUtcNow().UtcDateTime + delay;
        await using (var context = await contexts.CreateDbContextAsync(cancellationToken))
        {
            await context.Documents
                .Where(d => d.Id == documentId && d.Version == version && d.LeaseOwner == _worker)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(d => d.Status, DocumentStatus.Pending)
                        .SetProperty(d => d.LeaseOwner, (string?)null)
                        .SetProperty(d => d.LeaseUntil, retryAt),
                    cancellationToken);
        }

        Log.WillRetry(logger, error, documentId, version, attempts, delay.TotalSeconds);
        scheduler.Enqueue(documentId, version, delay + TimeSpan.FromSeconds(1));
    }

    /// <summary>The vector index catches up (pgvector's column); a failure leaves it to the next ingestion, the document stays ready.</summary>
    private async Task SyncVectorsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await vectors.SyncAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.VectorSyncFailed(logger, ex);
        }
    }

    private async Task NotifyAsync(Guid documentId, CancellationToken cancellationToken)
    {
        try
        {
            await using var context = await contexts.CreateDbContextAsync(cancellationToken);
            var document = await context.Documents.AsNoTracking().FirstOrDefaultAsync(d => d.Id == documentId, cancellationToken);
            if (document is not null)
            {
                await notifier.DocumentFinishedAsync(document, cancellationToken); // webhooks for every document, a chat notice where one is due
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.NotifyFailed(logger, ex, documentId); // the document is indexed; a lost notice is not worth a retry of the work
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Document {DocumentId} v{Version} indexed: {Chunks} chunks in {Milliseconds:0} ms")]
        public static partial void Indexed(ILogger logger, Guid documentId, int version, int chunks, double milliseconds);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Document {DocumentId} v{Version} failed: {Reason}")]
        public static partial void Failed(ILogger logger, Guid documentId, int version, string reason);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Document {DocumentId} v{Version} attempt {Attempt} failed; retrying in {Seconds} s")]
        public static partial void WillRetry(ILogger logger, Exception error, Guid documentId, int version, int attempt, double seconds);

        [LoggerMessage(EventId = 4104, Level = LogLevel.Debug, Message = "Document {DocumentId} v{Version} not claimed (done, superseded or leased)")]
        public static partial void NotClaimed(ILogger logger, Guid documentId, int version);

        [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "Document {DocumentId} v{Version} superseded while indexing; result dropped")]
        public static partial void Superseded(ILogger logger, Guid documentId, int version);

        [LoggerMessage(EventId = 4106, Level = LogLevel.Warning, Message = "Document {DocumentId} v{Version}: lease lost, stopped")]
        public static partial void LeaseLost(ILogger logger, Guid documentId, int version);

        [LoggerMessage(EventId = 4108, Level = LogLevel.Warning, Message = "The vector index could not be brought up to date; the next ingestion retries")]
        public static partial void VectorSyncFailed(ILogger logger, Exception error);

        [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "Document {DocumentId}: the uploader could not be notified")]
        public static partial void NotifyFailed(ILogger logger, Exception error, Guid documentId);
    }
}
