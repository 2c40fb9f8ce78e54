using ChatBot.ChatData.Knowledge;

namespace ChatBot.KnowledgeIngest.Ingestion;

/// <summary>A file handed to the knowledge base, and who may see it.</summary>
/// <param name="FileName">The original file name; its extension picks the extractor.</param>
/// <param name="SourceKey">What identifies "the same document" for new versions; defaults to source, scope and file name.</param>
/// <param name="Principals">For <see cref="DocumentScope.Restricted"/>: "user:&lt;email&gt;" and "group:&lt;id&gt;" entries.</param>
/// <param name="NotifyReference">An opaque channel address; the uploader is told there when indexing ends.</param>
public sealed record DocumentUpload(
    string FileName,
    DocumentSource Source,
    DocumentScope Scope,
    string? ScopeKey = null,
    IReadOnlyList<string>? Principals = null,
    string? ContentType = null,
    string? Title = null,
    string? SourceKey = null,
    string? Url = null,
    Guid? UploadedByUserId = null,
    string? NotifyReference = null);

/// <summary>What happened to an upload.</summary>
/// <param name="IsUnchanged">The same content was already there: no new work was queued.</param>
public sealed record IntakeResult(Guid DocumentId, DocumentStatus Status, int Version, bool IsUnchanged);

/// <summary>The upload was refused before anything was stored; the message says why, for the uploader.</summary>
public sealed class DocumentRejectedException : Exception
{
    public DocumentRejectedException(string message)
        : base(message)
    {
    }

    public DocumentRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DocumentRejectedException()
    {
    }
}
