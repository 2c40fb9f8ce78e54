using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.SharePoint;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.AdminPortal.Pages.Sources;

/// <summary>
/// Where documents come from: the SharePoint libraries in <c>SharePoint:Sites</c> with what is indexed from each, and
/// every other source (uploads here, chat, the CLI) with its counts and latest activity.
/// </summary>
[Authorize(Policy = PortalPolicies.Knowledge)]
public sealed class SourcesModel(ChatDbContext db, IOptions<SharePointOptions> sharePoint, IOptions<GraphOptions> graph) : PageModel
{
    public IReadOnlyList<SharePointSiteOptions> Sites => sharePoint.Value.Sites;

    public bool GraphConfigured => graph.Value.Enabled;

    public IReadOnlyList<SourceRow> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
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

    private static string Describe(DocumentSource source) => source switch
    {
        DocumentSource.Upload => "Uploaded in the portal",
        DocumentSource.Chat => "Shared in chats",
        DocumentSource.Cli => "Imported with the CLI",
        _ => source.ToString(),
    };
}

public sealed record SourceRow(DocumentSource Source, string Name, int Documents, int Ready, int Failed, int Chunks, long Bytes, DateTime? LastIndexed);
