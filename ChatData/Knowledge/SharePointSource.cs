namespace ChatBot.ChatData.Knowledge;

/// <summary>
/// A SharePoint document library (or a folder of one) kept indexed: where it is, which files count, and where its
/// delta sync stands. <see cref="DeltaLink"/> is Graph's link to continue from — the next page while a pass is under
/// way (saved after every page, so a crash resumes there), the delta link once it is done.
/// </summary>
public sealed class SharePointSource
{
    public long Id { get; set; }

    /// <summary>For example https://contoso.sharepoint.com/sites/hr.</summary>
    public required string SiteUrl { get; set; }

    /// <summary>The library's name; empty for the site's default library.</summary>
    public string Library { get; set; } = "";

    /// <summary>A folder inside the library ("Policies/2026"); empty for the whole library.</summary>
    public string Folder { get; set; } = "";

    /// <summary>File name patterns (* and ?) a file must match (none: every file), one per line.</summary>
    public string Include { get; set; } = "";

    /// <summary>File name patterns that leave a file out, one per line.</summary>
    public string Exclude { get; set; } = "";

    /// <summary>True for sources from <c>SharePoint:Sites</c> (managed in configuration), false for ones added in the portal.</summary>
    public bool FromConfiguration { get; set; }

    public bool IsEnabled { get; set; } = true;

    public string? SiteId { get; set; }

    public string? DriveId { get; set; }

    public string? DeltaLink { get; set; }

    /// <summary>Counts the full enumerations; items not seen in the latest one are pruned when it ends.</summary>
    public int Generation { get; set; }

    /// <summary>True while a full enumeration (first sync, or after Graph answered 410) is under way.</summary>
    public bool IsEnumerating { get; set; }

    public DateTime? LastSyncStartedAt { get; set; }

    public DateTime? LastSyncedAt { get; set; }

    public string? LastError { get; set; }

    public int ItemCount { get; set; }

    public DateTime CreatedAt { get; set; }

    public string DisplayName => $"{SiteUrl.TrimEnd('/')}{(Library.Length > 0 ? " / " + Library : "")}{(Folder.Length > 0 ? " / " + Folder : "")}";
}

/// <summary>
/// One drive item a source has seen: files (with the document made from them, or why they were skipped) and folders
/// (so a file's path, which delta does not return, can be worked out from its parents).
/// </summary>
public sealed class SharePointItem
{
    public long Id { get; set; }

    public long SourceId { get; set; }

    public required string ItemId { get; set; }

    public string? ParentId { get; set; }

    public required string Name { get; set; }

    public bool IsFolder { get; set; }

    /// <summary>The content tag: unchanged means the content did not change (a rename or a move keeps it).</summary>
    public string? CTag { get; set; }

    /// <summary>A hash of the item's mapped permissions: a change re-indexes it with the new access.</summary>
    public string? AccessHash { get; set; }

    public Guid? DocumentId { get; set; }

    public string? SkippedReason { get; set; }

    public int Generation { get; set; }

    public DateTime UpdatedAt { get; set; }
}
