using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>
/// The SharePoint sources: those in <c>SharePoint:Sites</c> (added or updated at start; removed ones are disabled, their
/// documents kept until someone deletes the source) and those added in the portal.
/// </summary>
public sealed class SharePointSources(IDbContextFactory<ChatDbContext> contexts, Ingestion.DocumentIntake intake, IOptions<SharePointOptions> options, TimeProvider clock)
{
    public async Task<IReadOnlyList<SharePointSource>> ApplyConfigurationAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var configured = options.Value.Sites
            .Select(s => (Url: Normalize(s.SiteUrl!), Library: (s.Library ?? "").Trim(), Folder: (s.Folder ?? "").Trim('/', ' '), s.Include, s.Exclude))
            .ToList();
        var existing = await db.SharePointSources.ToListAsync(cancellationToken);
        foreach (var site in configured)
        {
            var row = existing.FirstOrDefault(e => e.SiteUrl == site.Url && e.Library == site.Library && e.Folder == site.Folder);
            if (row is null)
            {
                row = new SharePointSource { SiteUrl = site.Url, Library = site.Library, Folder = site.Folder, CreatedAt = clock.GetUtcNow().UtcDateTime };
                db.SharePointSources.Add(row);
                existing.Add(row);
            }

            row.Include = string.Join('\n', site.Include);
            row.Exclude = string.Join('\n', site.Exclude);
            row.FromConfiguration = true;
            row.IsEnabled = true;
        }

        foreach (var gone in existing.Where(e => e.FromConfiguration && !configured.Any(c => c.Url == e.SiteUrl && c.Library == e.Library && c.Folder == e.Folder)))
        {
            gone.IsEnabled = false;
        }

        await db.SaveChangesAsync(cancellationToken);
        return [.. existing.Where(e => e.IsEnabled)];
    }

    public async Task<SharePointSource> AddAsync(string siteUrl, string? library, string? folder, string? include, string? exclude, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(siteUrl?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new SharePointSourceException("The site URL must be an https address such as https://contoso.sharepoint.com/sites/hr.");
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var url = Normalize(siteUrl!);
        var lib = (library ?? "").Trim();
        var dir = (folder ?? "").Trim('/', ' ');
        if (await db.SharePointSources.AnyAsync(s => s.SiteUrl == url && s.Library == lib && s.Folder == dir, cancellationToken))
        {
            throw new SharePointSourceException("That library (and folder) is already a source.");
        }

        var source = new SharePointSource
        {
            SiteUrl = url, Library = lib, Folder = dir, Include = (include ?? "").Trim(), Exclude = (exclude ?? "").Trim(), CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.SharePointSources.Add(source);
        await db.SaveChangesAsync(cancellationToken);
        return source;
    }

    /// <summary>Removes a source added in the portal, with every document it brought (from the index and storage).</summary>
    public async Task<bool> RemoveAsync(long sourceId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var source = await db.SharePointSources.SingleOrDefaultAsync(s => s.Id == sourceId, cancellationToken);
        if (source is null)
        {
            return false;
        }

        if (source.FromConfiguration)
        {
            throw new SharePointSourceException("This source comes from SharePoint:Sites in the configuration; remove it there.");
        }

        var documents = await db.SharePointItems.Where(i => i.SourceId == sourceId && i.DocumentId != null).Select(i => i.DocumentId!.Value).ToListAsync(cancellationToken);
        foreach (var documentId in documents)
        {
            await intake.DeleteAsync(documentId, cancellationToken);
        }

        db.SharePointSources.Remove(source);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private static string Normalize(string siteUrl) => siteUrl.Trim().TrimEnd('/');
}
