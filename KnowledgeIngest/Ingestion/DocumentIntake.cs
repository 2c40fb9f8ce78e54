using System.Security.Cryptography;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Documents;
using ChatBot.KnowledgeIngest.Extraction;
using ChatBot.KnowledgeIngest.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Ingestion;

/// <summary>
/// The one door into the knowledge base (chat uploads, the CLI, the portal, SharePoint sync). It refuses what can never
/// be indexed before storing anything, stores the blob and the document row, then queues the work. The same content
/// again is no new work; new content under the same source key becomes the next version.
/// </summary>
public sealed partial class DocumentIntake(
    IDbContextFactory<ChatDbContext> contexts,
    IBlobStore blobs,
    IIngestionScheduler scheduler,
    IOptions<KnowledgeOptions> options,
    TimeProvider clock,
    ILogger<DocumentIntake> logger)
{
    /// <summary>Adds a file (a chat upload: the same as <see cref="AddAsync"/>, named for the adapters).</summary>
    public Task<IntakeResult> IngestFromChatAsync(Stream content, DocumentUpload upload, CancellationToken cancellationToken) =>
        AddAsync(upload, content, cancellationToken);

    public async Task<IntakeResult> AddAsync(DocumentUpload upload, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(content);
        upload = upload with { FileName = SafeFileName(upload.FileName) };
        if (!DocumentFormats.TryDetect(upload.FileName, upload.ContentType, out _, out var contentType))
        {
            throw new DocumentRejectedException($"'{upload.FileName}' is not a supported file type. Supported: {DocumentFormats.SupportedExtensions}.");
        }

        var principals = CheckScope(upload);
        var temporary = Path.Combine(Path.GetTempPath(), "chatbot-upload-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (hash, size) = await CopyAndHashAsync(content, temporary, upload.FileName, cancellationToken);
            await blobs.PutAsync(hash, temporary, cancellationToken);
            var result = await RecordAsync(upload, principals, contentType, hash, size, cancellationToken);
            if (!result.IsUnchanged)
            {
                scheduler.Enqueue(result.DocumentId, result.Version);
            }

            Log.Accepted(logger, result.DocumentId, result.Version, upload.Source, size, result.IsUnchanged);
            return result;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Removes the document, its chunks (and so its index entries) and its blob when no other document shares it.</summary>
    public async Task<bool> DeleteAsync(Guid documentId, CancellationToken cancellationToken)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var document = await context.Documents.FirstOrDefaultAsync(d => d.Id == documentId, cancellationToken);
        if (document is null)
        {
            return false;
        }

        context.Documents.Remove(document);
        await context.SaveChangesAsync(cancellationToken);
        await DeleteBlobIfUnusedAsync(context, document.BlobName, cancellationToken);
        Log.Deleted(logger, documentId);
        return true;
    }

    /// <summary>Indexes the stored original again as a new version (after a parser fix, or a failed document).</summary>
    public async Task<IntakeResult?> ReindexAsync(Guid documentId, CancellationToken cancellationToken)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var document = await context.Documents.FirstOrDefaultAsync(d => d.Id == documentId, cancellationToken);
        if (document is null)
        {
            return null;
        }

        Restart(document, clock.GetUtcNow().UtcDateTime);
        await context.SaveChangesAsync(cancellationToken);
        scheduler.Enqueue(document.Id, document.Version);
        return new IntakeResult(document.Id, document.Status, document.Version, IsUnchanged: false);
    }

    /// <summary>
    /// The name as a person would read it: the last segment whichever separator a client used ('/' or '\\'), without
    /// control characters, at most 200 characters; "file" when nothing is left. Names are shown and stored, never used as paths.
    /// </summary>
    internal static string SafeFileName(string? name)
    {
        var last = (name ?? "").Split('/', '\\').LastOrDefault(p => p.Trim().Length > 0 && p.Trim() is not ("." or "..")) ?? "";
        var clean = new string([.. last.Where(c => !char.IsControl(c))]).Trim();
        if (clean.Length > 200)
        {
            var extension = Path.GetExtension(clean);
            clean = clean[..(200 - Math.Min(extension.Length, 20))] + extension[..Math.Min(extension.Length, 20)];
        }

        return clean.Length == 0 ? "file" : clean;
    }

    private async Task<IntakeResult> RecordAsync(
        DocumentUpload upload, List<string> principals, string contentType, string hash, long size, CancellationToken cancellationToken)
    {
        var sourceKey = upload.SourceKey ?? $"{upload.Source}:{upload.Scope}:{upload.ScopeKey}:{upload.FileName}".ToLowerInvariant();
        if (sourceKey.Length > 800)
        {
            sourceKey = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sourceKey)));
        }

        var now = clock.GetUtcNow().UtcDateTime;
        for (var attempt = 0; ; attempt++)
        {
            await using var context = await contexts.CreateDbContextAsync(cancellationToken);
            var existing = await context.Documents.Include(d => d.Principals).FirstOrDefaultAsync(d => d.SourceKey == sourceKey, cancellationToken)
                ?? (upload.Source == DocumentSource.SharePoint ? null : await SameContentSameScopeAsync(context, upload, hash, cancellationToken));
            if (existing is not null)
            {
                var sameAccess = existing.Scope == upload.Scope && existing.ScopeKey == upload.ScopeKey
                    && existing.Principals.Select(p => p.Principal).Order(StringComparer.Ordinal).SequenceEqual(principals.Order(StringComparer.Ordinal));
                if (existing.ContentHash == hash && sameAccess)
                {
                    return new IntakeResult(existing.Id, existing.Status, existing.Version, IsUnchanged: true);
                }

                var oldBlob = existing.BlobName;
                existing.ContentHash = hash;
                existing.BlobName = hash;
                existing.SizeBytes = size;
                existing.ContentType = contentType;
                existing.Scope = upload.Scope;
                existing.ScopeKey = upload.ScopeKey;
                existing.Principals.RemoveAll(p => !principals.Contains(p.Principal, StringComparer.Ordinal));
                existing.Principals.AddRange(principals
                    .Where(p => !existing.Principals.Any(e => e.Principal == p))
                    .Select(p => new DocumentPrincipal { DocumentId = existing.Id, Principal = p }));
                existing.Url = upload.Url ?? existing.Url;
                existing.NotifyReference = upload.NotifyReference;
                existing.UploadedByUserId = upload.UploadedByUserId ?? existing.UploadedByUserId;
                Restart(existing, now);
                await context.SaveChangesAsync(cancellationToken);
                if (oldBlob != hash)
                {
                    await DeleteBlobIfUnusedAsync(context, oldBlob, cancellationToken);
                }

                return new IntakeResult(existing.Id, existing.Status, existing.Version, IsUnchanged: false);
            }

            var document = new Document
            {
                Title = upload.Title ?? TitleFrom(upload.FileName),
                Source = upload.Source,
                SourceName = upload.FileName,
                SourceKey = sourceKey,
                Url = upload.Url,
                ContentType = contentType,
                SizeBytes = size,
                ContentHash = hash,
                BlobName = hash,
                Scope = upload.Scope,
                ScopeKey = upload.ScopeKey,
                Status = DocumentStatus.Pending,
                UploadedByUserId = upload.UploadedByUserId,
                NotifyReference = upload.NotifyReference,
                CreatedAt = now,
                UpdatedAt = now,
            };
            document.Principals = [.. principals.Select(p => new DocumentPrincipal { DocumentId = document.Id, Principal = p })];
            context.Documents.Add(document);
            try
            {
                await context.SaveChangesAsync(cancellationToken);
                return new IntakeResult(document.Id, document.Status, document.Version, IsUnchanged: false);
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // Another upload of the same source key won the race: go round once more and treat it as existing.
            }
        }
    }

    /// <summary>The same bytes already uploaded under another name with the same access: that document is the answer.</summary>
    private static Task<Document?> SameContentSameScopeAsync(ChatDbContext context, DocumentUpload upload, string hash, CancellationToken cancellationToken) =>
        upload.Scope == DocumentScope.Restricted
            ? Task.FromResult<Document?>(null)
            : context.Documents.Include(d => d.Principals)
                .FirstOrDefaultAsync(d => d.ContentHash == hash && d.Scope == upload.Scope && d.ScopeKey == upload.ScopeKey && d.Status != DocumentStatus.Failed, cancellationToken);

    private static void Restart(Document document, DateTime now)
    {
        document.Version++;
        document.Status = DocumentStatus.Pending;
        document.FailureReason = null;
        document.Attempts = 0;
        document.LeaseOwner = null;
        document.LeaseUntil = null;
        document.UpdatedAt = now;
    }

    private async Task DeleteBlobIfUnusedAsync(ChatDbContext context, string blobName, CancellationToken cancellationToken)
    {
        if (!await context.Documents.AnyAsync(d => d.BlobName == blobName, cancellationToken))
        {
            await blobs.DeleteAsync(blobName, cancellationToken);
        }
    }

    private static List<string> CheckScope(DocumentUpload upload)
    {
        switch (upload.Scope)
        {
            case DocumentScope.Organisation:
                return [];
            case DocumentScope.Channel or DocumentScope.Conversation when string.IsNullOrWhiteSpace(upload.ScopeKey):
                throw new DocumentRejectedException($"A {upload.Scope.ToString().ToLowerInvariant()} document needs the {upload.Scope.ToString().ToLowerInvariant()} it belongs to.");
            case DocumentScope.Channel or DocumentScope.Conversation:
                return [];
            case DocumentScope.Restricted:
                var principals = (upload.Principals ?? []).Select(p => p.Trim()).Where(p => p.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                if (principals.Count == 0)
                {
                    throw new DocumentRejectedException("A restricted document needs at least one user or group who may read it.");
                }

                foreach (var principal in principals)
                {
                    try
                    {
                        AccessKeys.ForPrincipal(principal);
                    }
                    catch (ArgumentException ex)
                    {
                        throw new DocumentRejectedException(ex.Message, ex);
                    }
                }

                return [.. principals.Select(p => p.ToLowerInvariant())];
            default:
                throw new DocumentRejectedException($"Unknown scope {upload.Scope}.");
        }
    }

    private async Task<(string Hash, long Size)> CopyAndHashAsync(Stream content, string path, string fileName, CancellationToken cancellationToken)
    {
        var limit = options.Value.MaxFileBytes;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long size = 0;
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                if (size > limit)
                {
                    throw new DocumentRejectedException($"'{fileName}' is larger than {limit / (1024 * 1024):N0} MB, the limit.");
                }

                sha.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        if (size == 0)
        {
            throw new DocumentRejectedException($"'{fileName}' is empty.");
        }

        return (Convert.ToHexStringLower(sha.GetHashAndReset()), size);
    }

    /// <summary>"travel-policy_2024.pdf" → "travel policy 2024".</summary>
    internal static string TitleFrom(string fileName)
    {
        var name = Path.GetFileNameWithoutExtension(fileName).Replace('_', ' ').Replace('-', ' ').Trim();
        name = string.Join(' ', name.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return name.Length == 0 ? fileName : name.Length > 300 ? name[..300] : name;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Document {DocumentId} v{Version} accepted from {Source} ({Bytes} bytes, unchanged: {Unchanged})")]
        public static partial void Accepted(ILogger logger, Guid documentId, int version, DocumentSource source, long bytes, bool unchanged);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Document {DocumentId} deleted")]
        public static partial void Deleted(ILogger logger, Guid documentId);
    }
}
