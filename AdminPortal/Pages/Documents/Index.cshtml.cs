using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.AdminPortal.Pages.Documents;

/// <summary>
/// The knowledge base: every document with its status, scope, size, chunks, source and failure reason; upload,
/// re-index and delete. Knowledge owners manage it too, but do not see files people shared in their own
/// conversations (those stay between the person and the bot; admins see them).
/// </summary>
[Authorize(Policy = PortalPolicies.Knowledge)]
[DisableRequestSizeLimit] // the host gives file-taking endpoints the file limit (Knowledge:MaxFileBytes), not "unlimited"
public sealed class DocumentsModel(ChatDbContext db, DocumentIntake intake, AuditLog audit, IOptions<KnowledgeOptions> options) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public DocumentStatus? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public DocumentScope? Scope { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<DocumentRow> Rows { get; private set; } = [];

    public Paging Paging { get; private set; } = null!;

    public IReadOnlyDictionary<DocumentStatus, int> Counts { get; private set; } = new Dictionary<DocumentStatus, int>();

    public long MaxFileBytes => options.Value.MaxFileBytes;

    public bool IsAdmin => User.IsInRole(PortalPolicies.AdminRole);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var visible = Visible();
        Counts = await visible.GroupBy(d => d.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var documents = visible;
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var q = Q.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // EF Core turns ToLower().Contains() into LOWER(..) LIKE on every provider
            documents = documents.Where(d => d.Title.ToLower().Contains(q) || d.SourceName.ToLower().Contains(q));
#pragma warning restore CA1304, CA1311, CA1862
        }

        if (Status is { } status)
        {
            documents = documents.Where(d => d.Status == status);
        }

        if (Scope is { } scope)
        {
            documents = documents.Where(d => d.Scope == scope);
        }

        var total = await documents.CountAsync(cancellationToken);
        PageNumber = Paging.Clamp(PageNumber, total, PageSize);
        Paging = new Paging(PageNumber, PageSize, total, "/admin/documents", Request.Query);
        Rows = await documents
            .OrderByDescending(d => d.UpdatedAt).ThenBy(d => d.Id)
            .Skip(Paging.Skip).Take(PageSize)
            .Select(d => new DocumentRow(d.Id, d.Title, d.Source, d.SourceName, d.Url, d.Scope, d.ScopeKey, d.SizeBytes, d.ChunkCount, d.Status, d.FailureReason, d.Version, d.UpdatedAt, d.IndexedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Adds a file for the whole organisation, or for one Teams or Slack channel.</summary>
    public async Task<IActionResult> OnPostUploadAsync(IFormFile? file, DocumentScope scope, string? channelId, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return Back(error: "Choose a file to upload.");
        }

        if (file.Length > options.Value.MaxFileBytes)
        {
            return Back(error: $"“{file.FileName}” is larger than the {options.Value.MaxFileBytes / (1024 * 1024)} MB limit.");
        }

        if (scope is not (DocumentScope.Organisation or DocumentScope.Channel))
        {
            return Back(error: "Upload for the organisation or for one channel.");
        }

        var name = Path.GetFileName(file.FileName);
        var actor = Actor.Of(User);
        try
        {
            await using var content = file.OpenReadStream();
            var result = await intake.AddAsync(
                new DocumentUpload(name, DocumentSource.Upload, scope, scope == DocumentScope.Channel ? channelId?.Trim() : null, ContentType: file.ContentType, UploadedByUserId: actor.UserId),
                content,
                cancellationToken);
            await audit.WriteAsync(actor.Name, actor.UserId, "document.uploaded", "document", result.DocumentId.ToString(),
                new { name, scope = scope.ToString(), size = file.Length, unchanged = result.IsUnchanged }, cancellationToken);
            return Back(result.IsUnchanged ? $"“{name}” is already in the knowledge base; nothing changed." : $"“{name}” is uploaded and being indexed.");
        }
        catch (DocumentRejectedException ex)
        {
            return Back(error: ex.Message);
        }
    }

    public async Task<IActionResult> OnPostReindexAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await Visible().AnyAsync(d => d.Id == id, cancellationToken) || await intake.ReindexAsync(id, cancellationToken) is null)
        {
            return NotFound();
        }

        var actor = Actor.Of(User);
        await audit.WriteAsync(actor.Name, actor.UserId, "document.reindexed", "document", id.ToString(), null, cancellationToken);
        return Back("Re-indexing started.");
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        var title = await Visible().Where(d => d.Id == id).Select(d => d.Title).FirstOrDefaultAsync(cancellationToken);
        if (title is null || !await intake.DeleteAsync(id, cancellationToken))
        {
            return NotFound();
        }

        var actor = Actor.Of(User);
        await audit.WriteAsync(actor.Name, actor.UserId, "document.deleted", "document", id.ToString(), new { title }, cancellationToken);
        return Back($"Deleted “{title}”: it is gone from the index and from storage.");
    }

    private IQueryable<Document> Visible() =>
        IsAdmin ? db.Documents.AsNoTracking() : db.Documents.AsNoTracking().Where(d => d.Scope != DocumentScope.Conversation);

    private RedirectResult Back(string? notice = null, string? error = null)
    {
        TempData["Notice"] = notice;
        TempData["Error"] = error;
        return Redirect("/admin/documents");
    }
}

public sealed record DocumentRow(
    Guid Id, string Title, DocumentSource Source, string SourceName, string? Url, DocumentScope Scope, string? ScopeKey,
    long SizeBytes, int ChunkCount, DocumentStatus Status, string? FailureReason, int Version, DateTime UpdatedAt, DateTime? IndexedAt)
{
    public string SizeText => SizeBytes switch
    {
        >= 1024 * 1024 => (SizeBytes / (1024.0 * 1024)).ToString("0.0 MB", System.Globalization.CultureInfo.InvariantCulture),
        >= 1024 => (SizeBytes / 1024.0).ToString("0 KB", System.Globalization.CultureInfo.InvariantCulture),
        _ => SizeBytes + " B",
    };
}
