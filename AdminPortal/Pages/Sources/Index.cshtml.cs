using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.SharePoint;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.AdminPortal.Pages.Sources;

/// <summary>
/// Where documents come from: the SharePoint libraries (from <c>SharePoint:Sites</c> or added here) with their last
/// sync, what they hold, what was skipped and the last error, "sync now", add and remove; and every other source
/// (uploads here, chat, the CLI) with its counts and latest activity.
/// </summary>
[Authorize(Policy = PortalPolicies.Knowledge)]
public sealed class SourcesModel(
    ChatDbContext db,
    SharePointSources sources,
    ISharePointSyncTrigger trigger,
    AuditLog audit,
    IOptions<GraphOptions> graph) : PageModel
{
    public bool GraphConfigured => graph.Value.Enabled;

    public IReadOnlyList<SharePointRow> SharePoint { get; private set; } = [];

    public IReadOnlyList<SourceRow> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var libraries = await db.SharePointSources.AsNoTracking().OrderBy(s => s.SiteUrl).ThenBy(s => s.Library).ThenBy(s => s.Folder).ToListAsync(cancellationToken);
        var skipped = await db.SharePointItems.AsNoTracking()
            .Where(i => i.SkippedReason != null && !i.SkippedReason.StartsWith("outside"))
            .GroupBy(i => i.SourceId)
            .Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var examples = (await db.SharePointItems.AsNoTracking()
                .Where(i => i.SkippedReason != null && !i.SkippedReason.StartsWith("outside"))
                .OrderByDescending(i => i.UpdatedAt)
                .Take(500)
                .Select(i => new { i.SourceId, i.Name, i.SkippedReason })
                .ToListAsync(cancellationToken))
            .ToLookup(i => i.SourceId, i => (i.Name, Reason: i.SkippedReason!));
        SharePoint = [.. libraries.Select(s => new SharePointRow(s, skipped.GetValueOrDefault(s.Id), [.. examples[s.Id].Take(20)]))];

        var visible = User.IsInRole(PortalPolicies.AdminRole) ? db.Documents.AsNoTracking() : db.Documents.AsNoTracking().Where(d => d.Scope != DocumentScope.Conversation);
        // SharePoint documents group by their library; uploads, chat files and CLI imports by where they came from.
        var rows = await visible
            .GroupBy(d => new { d.Source, Name = d.Source == DocumentSource.SharePoint ? d.SourceName : "" })
            .Select(g => new
            {
                g.Key.Source,
                g.Key.Name,
                Documents = g.Count(),
                Ready = g.Count(d => d.Status == DocumentStatus.Ready),
                Failed = g.Count(d => d.Status == DocumentStatus.Failed),
                Chunks = g.Sum(d => d.ChunkCount),
                Bytes = g.Sum(d => d.SizeBytes),
                LastIndexed = g.Max(d => d.IndexedAt),
            })
            .ToListAsync(cancellationToken);
        Rows = [.. rows
            .Select(r => new SourceRow(r.Source, r.Name.Length > 0 ? r.Name : Describe(r.Source), r.Documents, r.Ready, r.Failed, r.Chunks, r.Bytes, r.LastIndexed))
            .OrderBy(r => r.Source).ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase)];
    }

    public async Task<IActionResult> OnPostSyncAsync(long id, CancellationToken cancellationToken)
    {
        if (!GraphConfigured || !await db.SharePointSources.AnyAsync(s => s.Id == id && s.IsEnabled, cancellationToken))
        {
            return NotFound();
        }

        trigger.SyncNow(id);
        await AuditAsync("source.sync.requested", id, null, cancellationToken);
        TempData["Notice"] = "Sync started. Refresh in a moment to see what it found.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostAddAsync(string? siteUrl, string? library, string? folder, string? include, string? exclude, CancellationToken cancellationToken)
    {
        if (!GraphConfigured)
        {
            TempData["Error"] = "SharePoint needs Graph:TenantId, Graph:ClientId and Graph:ClientSecret in the configuration first.";
            return RedirectToPage();
        }

        try
        {
            var source = await sources.AddAsync(siteUrl ?? "", library, folder, include, exclude, cancellationToken);
            trigger.Schedule(source.Id);
            trigger.SyncNow(source.Id);
            await AuditAsync("source.added", source.Id, new { source.SiteUrl, source.Library, source.Folder }, cancellationToken);
            TempData["Notice"] = $"Added {source.DisplayName}; its first sync has started.";
        }
        catch (SharePointSourceException ex)
        {
            TempData["Error"] = ex.Message;
        }

        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostRemoveAsync(long id, CancellationToken cancellationToken)
    {
        try
        {
            if (!await sources.RemoveAsync(id, cancellationToken))
            {
                return NotFound();
            }

            trigger.Unschedule(id);
            await AuditAsync("source.removed", id, null, cancellationToken);
            TempData["Notice"] = "Removed the source and the documents it brought.";
        }
        catch (SharePointSourceException ex)
        {
            TempData["Error"] = ex.Message;
        }

        return RedirectToPage();
    }

    private Task AuditAsync(string action, long sourceId, object? details, CancellationToken cancellationToken)
    {
        var actor = Actor.Of(User);
        return audit.WriteAsync(actor.Name, actor.UserId, action, "source", sourceId.ToString(System.Globalization.CultureInfo.InvariantCulture), details, cancellationToken);
    }

    private static string Describe(DocumentSource source) => source switch
    {
        DocumentSource.Upload => "Uploaded in the portal",
        DocumentSource.Chat => "Shared in chats",
        DocumentSource.Cli => "Imported with the CLI",
        _ => source.ToString(),
    };
}

public sealed record SharePointRow(SharePointSource Source, int Skipped, IReadOnlyList<(string Name, string Reason)> SkippedFiles);

public sealed record SourceRow(DocumentSource Source, string Name, int Documents, int Ready, int Failed, int Chunks, long Bytes, DateTime? LastIndexed);
