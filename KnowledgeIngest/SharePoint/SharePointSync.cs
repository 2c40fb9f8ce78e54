using System.Text.RegularExpressions;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Extraction;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Graph.Drives.Item.Items.Item.Delta;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>What one sync pass did.</summary>
public sealed record SyncReport(string Source, int Added, int Changed, int Removed, int Skipped, int Pages, bool FullEnumeration, IReadOnlyList<string> SkippedFiles);

/// <summary>
/// One sync pass of a SharePoint source through Graph's drive delta: page by page, the link to continue from is saved
/// after each page, so a pass that crashes resumes at the page it was on, and an item already taken (same content tag,
/// same access) is not taken again. New and changed files are downloaded and ingested with their permissions as the
/// document's access; deleted files, files moved out of the folder, and files no one ChatBot knows may read are
/// removed. An expired delta link (410) starts a full enumeration, after which whatever was not seen is pruned.
/// </summary>
public sealed partial class SharePointSync(
    GraphClients graph,
    DocumentIntake intake,
    IDbContextFactory<ChatDbContext> contexts,
    IOptions<KnowledgeOptions> knowledge,
    TimeProvider clock,
    ILogger<SharePointSync> logger)
{
    private static readonly string[] SelectedFields =
        ["id", "name", "file", "folder", "root", "deleted", "parentReference", "cTag", "eTag", "size", "webUrl", "lastModifiedDateTime"];

    public async Task<SyncReport> SyncAsync(long sourceId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var source = await db.SharePointSources.SingleOrDefaultAsync(s => s.Id == sourceId, cancellationToken)
            ?? throw new InvalidOperationException($"SharePoint source {sourceId} does not exist.");
        var run = new Run(source) { FullEnumeration = source.IsEnumerating }; // a pass resumed in the middle of one
        source.LastSyncStartedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            await ResolveDriveAsync(db, source, cancellationToken);
            if (source.DeltaLink is null)
            {
                StartEnumeration(source, run);
                await db.SaveChangesAsync(cancellationToken);
            }

            while (true)
            {
                DeltaGetResponse? page;
                try
                {
                    page = await NextPageAsync(source, cancellationToken);
                }
                catch (ODataError error) when (error.ResponseStatusCode == 410)
                {
                    // The delta link expired: enumerate everything again, then prune what was not seen.
                    Log.DeltaExpired(logger, source.Id);
                    source.DeltaLink = null;
                    StartEnumeration(source, run);
                    await db.SaveChangesAsync(cancellationToken);
                    continue;
                }

                await ApplyAsync(db, source, run, page?.Value ?? [], cancellationToken);
                run.Pages++;
                if (page?.OdataNextLink is { } next)
                {
                    source.DeltaLink = next;
                    await db.SaveChangesAsync(cancellationToken);
                    continue;
                }

                source.DeltaLink = page?.OdataDeltaLink ?? throw new InvalidOperationException("Graph ended a delta page with neither a next link nor a delta link.");
                if (source.IsEnumerating)
                {
                    await PruneAsync(db, source, run, cancellationToken);
                    source.IsEnumerating = false;
                }

                break;
            }

            source.LastSyncedAt = clock.GetUtcNow().UtcDateTime;
            source.LastError = null;
            source.ItemCount = await db.SharePointItems.CountAsync(i => i.SourceId == source.Id && i.DocumentId != null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            Log.Synced(logger, source.Id, run.Added, run.Changed, run.Removed, run.Skipped.Count, run.Pages);
            return run.Report();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            source.LastError = Describe(ex);
            await db.SaveChangesAsync(CancellationToken.None);
            Log.Failed(logger, source.Id, source.LastError);
            throw;
        }
    }

    private static void StartEnumeration(SharePointSource source, Run run)
    {
        source.Generation++;
        source.IsEnumerating = true;
        run.FullEnumeration = true;
    }

    private Task<DeltaGetResponse?> NextPageAsync(SharePointSource source, CancellationToken cancellationToken)
    {
        var delta = graph.Client.Drives[source.DriveId].Items["root"].Delta;
        return source.DeltaLink is { } link
            ? delta.WithUrl(link).GetAsDeltaGetResponseAsync(cancellationToken: cancellationToken)
            : delta.GetAsDeltaGetResponseAsync(c => { c.QueryParameters.Select = SelectedFields; c.QueryParameters.Top = 200; }, cancellationToken);
    }

    /// <summary>The site from its URL (<c>/sites/{host}:{path}</c>) and the library by its name (or the site's default one), once.</summary>
    private async Task ResolveDriveAsync(ChatDbContext db, SharePointSource source, CancellationToken cancellationToken)
    {
        if (source.DriveId is not null)
        {
            return;
        }

        var url = new Uri(source.SiteUrl);
        var path = url.AbsolutePath.TrimEnd('/');
        var site = await graph.Client.Sites["site"].WithUrl($"{graph.BaseUrl}/sites/{url.Host}:{(path.Length == 0 ? "/" : path)}").GetAsync(cancellationToken: cancellationToken)
            ?? throw new SharePointSourceException($"Graph does not know the site {source.SiteUrl}.");
        Drive? drive;
        if (source.Library.Length == 0)
        {
            drive = await graph.Client.Sites[site.Id].Drive.GetAsync(cancellationToken: cancellationToken);
        }
        else
        {
            var drives = await graph.Client.Sites[site.Id].Drives.GetAsync(cancellationToken: cancellationToken);
            drive = drives?.Value?.FirstOrDefault(d => string.Equals(d.Name, source.Library, StringComparison.OrdinalIgnoreCase));
        }

        source.SiteId = site.Id;
        source.DriveId = drive?.Id ?? throw new SharePointSourceException($"The site {source.SiteUrl} has no library named “{source.Library}”.");
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task ApplyAsync(ChatDbContext db, SharePointSource source, Run run, List<DriveItem> page, CancellationToken cancellationToken)
    {
        // The same item can appear more than once in a delta feed: its last appearance is its state.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var latest = page.AsEnumerable().Reverse().Where(i => i.Id is not null && seen.Add(i.Id)).Reverse();
        run.Folders ??= await db.SharePointItems.AsNoTracking()
            .Where(i => i.SourceId == source.Id && i.IsFolder)
            .ToDictionaryAsync(i => i.ItemId, i => (i.Name, i.ParentId), StringComparer.Ordinal, cancellationToken);
        foreach (var item in latest)
        {
            var row = await db.SharePointItems.SingleOrDefaultAsync(r => r.SourceId == source.Id && r.ItemId == item.Id, cancellationToken);
            if (item.Deleted is not null)
            {
                run.Folders.Remove(item.Id!);
                if (row is not null)
                {
                    await RemoveDocumentAsync(row, run, cancellationToken);
                    db.SharePointItems.Remove(row);
                    await db.SaveChangesAsync(cancellationToken);
                }

                continue;
            }

            if (row is null)
            {
                row = new SharePointItem { SourceId = source.Id, ItemId = item.Id!, Name = item.Name ?? "" };
                db.SharePointItems.Add(row);
            }

            row.Name = item.Root is not null ? "" : item.Name ?? row.Name;
            row.ParentId = item.ParentReference?.Id;
            row.IsFolder = item.Folder is not null || item.Root is not null;
            row.Generation = source.Generation;
            row.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            if (row.IsFolder)
            {
                run.Folders[row.ItemId] = (row.Name, row.ParentId);
            }

            if (item.File is not null)
            {
                await TakeFileAsync(db, source, run, item, row, cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private async Task TakeFileAsync(ChatDbContext db, SharePointSource source, Run run, DriveItem item, SharePointItem row, CancellationToken cancellationToken)
    {
        var path = PathOf(run.Folders!, row.ParentId, row.Name);
        var reason = OutOfScope(source, path, row.Name) ?? TooLargeOrUnsupported(item);
        SharePointAccess? access = null;
        if (reason is null)
        {
            access = await AccessOfAsync(source.DriveId!, item.Id!, run, cancellationToken);
            if (!access.IsReadable)
            {
                reason = access.Unmapped > 0
                    ? "shared only through SharePoint site groups, which ChatBot cannot resolve"
                    : "no one ChatBot knows may read it";
            }
        }

        if (reason is not null)
        {
            await RemoveDocumentAsync(row, run, cancellationToken);
            row.DocumentId = null;
            row.CTag = null;
            row.AccessHash = null;
            if (row.SkippedReason != reason && !reason.StartsWith("outside", StringComparison.Ordinal))
            {
                run.Skipped.Add($"{path}: {reason}");
            }

            row.SkippedReason = reason;
            return;
        }

        if (row.DocumentId is not null && row.CTag == item.CTag && row.AccessHash == access!.Hash)
        {
            return; // seen before: nothing changed (a rename or a move keeps the content tag)
        }

        try
        {
            await using var content = await graph.Client.Drives[source.DriveId].Items[item.Id].Content.GetAsync(cancellationToken: cancellationToken)
                ?? throw new SharePointSourceException($"Graph sent no content for {path}.");
            var result = await intake.AddAsync(
                new DocumentUpload(
                    row.Name,
                    DocumentSource.SharePoint,
                    access!.Organisation ? DocumentScope.Organisation : DocumentScope.Restricted,
                    Principals: access.Organisation ? null : access.Principals,
                    SourceKey: $"sharepoint:{source.DriveId}:{item.Id}",
                    Url: item.WebUrl),
                content,
                cancellationToken);
            if (!result.IsUnchanged)
            {
                if (row.DocumentId is null)
                {
                    run.Added++;
                }
                else
                {
                    run.Changed++;
                }
            }

            row.DocumentId = result.DocumentId;
            row.CTag = item.CTag;
            row.AccessHash = access.Hash;
            row.SkippedReason = null;
        }
        catch (DocumentRejectedException ex)
        {
            row.SkippedReason = ex.Message;
            run.Skipped.Add($"{path}: {ex.Message}");
        }
    }

    /// <summary>The item's effective permissions (every page), with users named only by id looked up for their email.</summary>
    private async Task<SharePointAccess> AccessOfAsync(string driveId, string itemId, Run run, CancellationToken cancellationToken)
    {
        var permissions = new List<Permission>();
        var page = await graph.Client.Drives[driveId].Items[itemId].Permissions.GetAsync(cancellationToken: cancellationToken);
        while (page is not null)
        {
            permissions.AddRange(page.Value ?? []);
            page = page.OdataNextLink is { } next
                ? await graph.Client.Drives[driveId].Items[itemId].Permissions.WithUrl(next).GetAsync(cancellationToken: cancellationToken)
                : null;
        }

        var access = SharePointAccess.From(permissions);
        if (access.UnresolvedUserIds.Count == 0)
        {
            return access;
        }

        var emails = new List<string>();
        foreach (var id in access.UnresolvedUserIds)
        {
            if (!run.Emails.TryGetValue(id, out var email))
            {
                try
                {
                    var user = await graph.Client.Users[id].GetAsync(c => c.QueryParameters.Select = ["mail", "userPrincipalName"], cancellationToken);
                    email = user?.Mail ?? user?.UserPrincipalName;
                }
                catch (ODataError error) when (error.ResponseStatusCode == 404)
                {
                    email = null; // a deleted user: no access
                }

                run.Emails[id] = email;
            }

            if (email is not null)
            {
                emails.Add(email);
            }
        }

        return access.WithUsers(emails);
    }

    private async Task RemoveDocumentAsync(SharePointItem row, Run run, CancellationToken cancellationToken)
    {
        if (row.DocumentId is { } documentId && await intake.DeleteAsync(documentId, cancellationToken))
        {
            run.Removed++;
        }
    }

    /// <summary>After a full enumeration: what the library no longer has goes (documents and rows).</summary>
    private async Task PruneAsync(ChatDbContext db, SharePointSource source, Run run, CancellationToken cancellationToken)
    {
        var gone = await db.SharePointItems.Where(i => i.SourceId == source.Id && i.Generation < source.Generation).ToListAsync(cancellationToken);
        foreach (var row in gone)
        {
            await RemoveDocumentAsync(row, run, cancellationToken);
            db.SharePointItems.Remove(row);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>"Policies/2026/travel.docx": delta does not return paths, so they come from the folders seen so far.</summary>
    private static string PathOf(Dictionary<string, (string Name, string? ParentId)> folders, string? parentId, string name)
    {
        var parts = new List<string> { name };
        for (var depth = 0; parentId is not null && depth < 64 && folders.TryGetValue(parentId, out var parent) && parent.Name.Length > 0; depth++)
        {
            parts.Insert(0, parent.Name);
            parentId = parent.ParentId;
        }

        return string.Join('/', parts);
    }

    private static string? OutOfScope(SharePointSource source, string path, string name)
    {
        var folder = source.Folder.Trim('/');
        if (folder.Length > 0 && !path.StartsWith(folder + "/", StringComparison.OrdinalIgnoreCase))
        {
            return "outside the folder";
        }

        var include = Patterns(source.Include);
        if (include.Count > 0 && !include.Any(p => p.IsMatch(name)))
        {
            return "outside the include patterns";
        }

        return Patterns(source.Exclude).Any(p => p.IsMatch(name)) ? "outside: excluded by a pattern" : null;
    }

    private string? TooLargeOrUnsupported(DriveItem item)
    {
        var max = knowledge.Value.MaxFileBytes;
        if (item.Size > max)
        {
            return $"larger than the {max / (1024 * 1024)} MB limit ({item.Size / (1024 * 1024)} MB)";
        }

        return DocumentFormats.TryDetect(item.Name ?? "", item.File?.MimeType, out _, out _) ? null : "not a supported file type";
    }

    /// <summary>Simple wildcards: * and ?, case-insensitive, on the file name.</summary>
    private static List<Regex> Patterns(string lines) =>
        [.. lines.Split(['\n', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => new Regex("^" + Regex.Escape(p).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
                RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))];

    private static string Describe(Exception ex) => ex switch
    {
        ODataError { ResponseStatusCode: 429 or 503 } => "Graph is throttling ChatBot; the next sync carries on where this one stopped.",
        ODataError { ResponseStatusCode: 401 or 403 } odata => $"Graph refused access ({odata.Error?.Code ?? odata.ResponseStatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)}): grant the app Sites.Read.All (or Files.Read.All) and admin consent.",
        ODataError odata => $"Graph answered {odata.ResponseStatusCode}: {odata.Error?.Message ?? odata.Message}",
        _ => ex.Message,
    };

    /// <summary>Counters of one pass, and the emails looked up during it.</summary>
    private sealed class Run(SharePointSource source)
    {
        public int Added { get; set; }

        public int Changed { get; set; }

        public int Removed { get; set; }

        public int Pages { get; set; }

        public bool FullEnumeration { get; set; }

        public List<string> Skipped { get; } = [];

        public Dictionary<string, string?> Emails { get; } = new(StringComparer.Ordinal);

        /// <summary>The source's folders (id → name, parent), read once per pass and kept up to date by it.</summary>
        public Dictionary<string, (string Name, string? ParentId)>? Folders { get; set; }

        public SyncReport Report() => new(source.DisplayName, Added, Changed, Removed, Skipped.Count, Pages, FullEnumeration, Skipped);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4610, Level = LogLevel.Information, Message = "SharePoint source {SourceId} synced: {Added} added, {Changed} changed, {Removed} removed, {Skipped} skipped, {Pages} pages")]
        public static partial void Synced(ILogger logger, long sourceId, int added, int changed, int removed, int skipped, int pages);

        [LoggerMessage(EventId = 4611, Level = LogLevel.Warning, Message = "SharePoint source {SourceId}: the delta link expired; enumerating the library again")]
        public static partial void DeltaExpired(ILogger logger, long sourceId);

        [LoggerMessage(EventId = 4612, Level = LogLevel.Error, Message = "SharePoint source {SourceId} failed to sync: {Error}")]
        public static partial void Failed(ILogger logger, long sourceId, string error);
    }
}

/// <summary>A source that cannot be synced as configured (unknown site or library); the message says which.</summary>
public sealed class SharePointSourceException : Exception
{
    public SharePointSourceException(string message)
        : base(message)
    {
    }

    public SharePointSourceException()
    {
    }

    public SharePointSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
