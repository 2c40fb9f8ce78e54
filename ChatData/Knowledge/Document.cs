namespace ChatBot.ChatData.Knowledge;

/// <summary>Where a document came from.</summary>
public enum DocumentSource
{
    Upload = 0,
    Chat = 1,
    Cli = 2,
    SharePoint = 3,
}

/// <summary>Who may retrieve a document's passages.</summary>
public enum DocumentScope
{
    /// <summary>Everyone in the organisation.</summary>
    Organisation = 0,

    /// <summary>Conversations in one Teams team/channel or Slack channel (<see cref="Document.ScopeKey"/>).</summary>
    Channel = 1,

    /// <summary>One conversation (<see cref="Document.ScopeKey"/> is the conversation id).</summary>
    Conversation = 2,

    /// <summary>Only the users and groups in <see cref="Document.Principals"/>, and only in personal chats.</summary>
    Restricted = 3,
}

public enum DocumentStatus
{
    Pending = 0,
    Processing = 1,
    Ready = 2,
    Failed = 3,
}

/// <summary>
/// One document of the knowledge base. The row is written before any work, so a crash never loses a document:
/// pending and processing rows with a lapsed lease are picked up again.
/// </summary>
public sealed class Document
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public required string Title { get; set; }

    public DocumentSource Source { get; set; }

    /// <summary>The original file name or URL, as shown in citations and printed by <c>search --json</c>.</summary>
    public required string SourceName { get; set; }

    /// <summary>What makes two uploads "the same document" (a new version rather than a new document). Unique.</summary>
    public required string SourceKey { get; set; }

    /// <summary>A link for citations (SharePoint URL, channel file link); uploads are linked through the portal.</summary>
    public string? Url { get; set; }

    public required string ContentType { get; set; }

    public long SizeBytes { get; set; }

    /// <summary>SHA-256 of the content, lower-case hex. The same content again is no new work.</summary>
    public required string ContentHash { get; set; }

    /// <summary>The blob holding the original bytes (named by content hash, shared by identical documents).</summary>
    public required string BlobName { get; set; }

    public DocumentScope Scope { get; set; }

    /// <summary>The channel or conversation the scope names; null for organisation and restricted documents.</summary>
    public string? ScopeKey { get; set; }

    public List<DocumentPrincipal> Principals { get; set; } = [];

    public DocumentStatus Status { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>Incremented by each new content under the same <see cref="SourceKey"/>.</summary>
    public int Version { get; set; } = 1;

    public int ChunkCount { get; set; }

    public int Attempts { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTime? LeaseUntil { get; set; }

    public Guid? UploadedByUserId { get; set; }

    /// <summary>Opaque channel address to tell the uploader when indexing ends (chat uploads).</summary>
    public string? NotifyReference { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? IndexedAt { get; set; }
}

/// <summary>An ACL entry of a restricted document: <c>user:&lt;email&gt;</c> or <c>group:&lt;id&gt;</c>.</summary>
public sealed class DocumentPrincipal
{
    public Guid DocumentId { get; set; }

    public required string Principal { get; set; }
}

/// <summary>One passage of a document, with what a citation needs and the access keys the index filters on.</summary>
public sealed class DocumentChunk
{
    public long Id { get; set; }

    public Guid DocumentId { get; set; }

    public int Ordinal { get; set; }

    /// <summary>"Title — Section": indexed with a higher weight than the text.</summary>
    public required string Heading { get; set; }

    public required string Text { get; set; }

    public string? Section { get; set; }

    /// <summary>PDF page or slide number.</summary>
    public int? Page { get; set; }

    public int Tokens { get; set; }

    /// <summary>Space-separated hashed access tokens (see KnowledgeIngest's AccessKeys); matched inside the query.</summary>
    public required string AccessKeys { get; set; }

    /// <summary>The passage's embedding as little-endian float32, when an embedding model is configured.</summary>
    public byte[]? Embedding { get; set; }
}
