using Microsoft.AspNetCore.Mvc;
using ChatBot.AdminPortal;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Usage;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Api;

/// <summary>
/// <c>/api/v1/documents</c> (scope <c>documents</c>, knowledge owners and admins): list, upload for the organisation or
/// one channel, delete. <c>/api/v1/admin</c> (scope <c>admin</c>, admins): people, suspend and reactivate, usage. Every
/// change is audited under the key's owner.
/// </summary>
internal static class ApiDocumentsAndAdmin
{
    public sealed record DocumentView(Guid Id, string Title, string Status, string Scope, string? ScopeKey, long SizeBytes, int ChunkCount, string Source, string? Url, string? FailureReason, DateTime UpdatedAt);

    public sealed record UserView(Guid Id, string DisplayName, string? Email, string Role, bool Suspended, DateTime? LastSeenAt);

    public sealed record UsageLineView(Guid UserId, string DisplayName, int Turns, long InputTokens, long OutputTokens, decimal CostUsd);

    public static IEndpointRouteBuilder MapApiDocuments(this IEndpointRouteBuilder endpoints)
    {
        var documents = endpoints.MapGroup("/api/v1/documents").RequireAuthorization(ApiPolicies.Documents).WithTags("Documents").DisableAntiforgery();
        documents.MapGet("", ListDocumentsAsync).WithSummary("The knowledge base (not files people shared in their own chats).");
        documents.MapPost("", UploadAsync).WithMetadata(new DisableRequestSizeLimitAttribute()).WithSummary("Adds a file (multipart field 'file'; 'scope' = organisation or channel, with 'channelId').");
        documents.MapDelete("/{id:guid}", DeleteDocumentAsync).WithSummary("Removes a document from the index and storage.");
        return endpoints;
    }

    public static IEndpointRouteBuilder MapApiAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/v1/admin").RequireAuthorization(ApiPolicies.Admin).WithTags("Admin").DisableAntiforgery();
        admin.MapGet("/users", UsersAsync).WithSummary("People, optionally searched by name or email.");
        admin.MapPost("/users/{id:guid}/suspend", (Guid id, HttpContext http, UserSuspensions suspensions) => SetSuspendedAsync(id, true, http, suspensions)).WithSummary("Suspends a person at once in every channel.");
        admin.MapPost("/users/{id:guid}/reactivate", (Guid id, HttpContext http, UserSuspensions suspensions) => SetSuspendedAsync(id, false, http, suspensions)).WithSummary("Lets a suspended person back in.");
        admin.MapGet("/usage", UsageAsync).WithSummary("Turns, tokens and cost per person between two UTC dates (both included).");
        return endpoints;
    }

    private static async Task<List<DocumentView>> ListDocumentsAsync(ChatDbContext db, string? status, CancellationToken cancellationToken)
    {
        var documents = db.Documents.AsNoTracking().Where(d => d.Scope != DocumentScope.Conversation);
        if (Enum.TryParse<DocumentStatus>(status, ignoreCase: true, out var wanted))
        {
            documents = documents.Where(d => d.Status == wanted);
        }

        var rows = await documents.OrderByDescending(d => d.UpdatedAt).Take(1000).ToListAsync(cancellationToken);
        return [.. rows.Select(View)];
    }

    private static async Task<IResult> UploadAsync(HttpContext http, ChatDbContext db, DocumentIntake intake, AuditLog audit, IOptions<KnowledgeOptions> options)
    {
        var (form, problem) = await WebChat.WebChatUploads.ReadUploadFormAsync(http, options.Value.MaxFileBytes);
        if (form is null)
        {
            return problem!;
        }

        if (form.Files.GetFile("file") is not { } file || file.Length == 0)
        {
            return TypedResults.Problem("Send a non-empty file in a field named 'file'.", statusCode: StatusCodes.Status400BadRequest);
        }

        var scope = form["scope"].ToString().ToLowerInvariant() switch
        {
            "" or "organisation" or "organization" or "org" => DocumentScope.Organisation,
            "channel" => DocumentScope.Channel,
            _ => (DocumentScope?)null,
        };
        if (scope is null)
        {
            return TypedResults.Problem("scope is 'organisation' or 'channel' (with channelId).", statusCode: StatusCodes.Status400BadRequest);
        }

        var actor = ApiEndpoints.UserId(http.User);
        try
        {
            await using var content = file.OpenReadStream();
            var name = Path.GetFileName(file.FileName);
            var result = await intake.AddAsync(
                new DocumentUpload(name, DocumentSource.Upload, scope.Value, scope == DocumentScope.Channel ? form["channelId"].ToString().Trim() : null, ContentType: file.ContentType, UploadedByUserId: actor),
                content,
                http.RequestAborted);
            await audit.WriteAsync(http.User.Identity?.Name ?? "api", actor, "document.uploaded", "document", result.DocumentId.ToString(), new { name, scope = scope.ToString(), via = "api" }, http.RequestAborted);
            var document = await db.Documents.AsNoTracking().FirstAsync(d => d.Id == result.DocumentId, http.RequestAborted);
            return TypedResults.Accepted($"/api/v1/documents/{document.Id}", View(document));
        }
        catch (DocumentRejectedException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<IResult> DeleteDocumentAsync(Guid id, HttpContext http, ChatDbContext db, DocumentIntake intake, AuditLog audit)
    {
        var title = await db.Documents.Where(d => d.Id == id && d.Scope != DocumentScope.Conversation).Select(d => d.Title).FirstOrDefaultAsync(http.RequestAborted);
        if (title is null || !await intake.DeleteAsync(id, http.RequestAborted))
        {
            return TypedResults.NotFound();
        }

        await audit.WriteAsync(http.User.Identity?.Name ?? "api", ApiEndpoints.UserId(http.User), "document.deleted", "document", id.ToString(), new { title, via = "api" }, http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static async Task<List<UserView>> UsersAsync(ChatDbContext db, string? q, CancellationToken cancellationToken)
    {
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            var term = q.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // EF Core turns ToLower().Contains() into LOWER(..) LIKE on every provider
            users = users.Where(u => u.DisplayName.ToLower().Contains(term) || (u.NormalizedEmail != null && u.NormalizedEmail.Contains(term)));
#pragma warning restore CA1304, CA1311, CA1862
        }

        var rows = await users.OrderBy(u => u.DisplayName).Take(1000).ToListAsync(cancellationToken);
        return [.. rows.Select(u => new UserView(u.Id, u.DisplayName, u.Email, u.Role.ToString(), u.IsSuspended, u.LastSeenAt))];
    }

    private static async Task<IResult> SetSuspendedAsync(Guid id, bool suspended, HttpContext http, UserSuspensions suspensions) =>
        await suspensions.SetAsync(id, suspended, http.User.Identity?.Name ?? "api", ApiEndpoints.UserId(http.User), new { via = "api" }, http.RequestAborted) switch
        {
            SuspensionOutcome.NotFound => TypedResults.NotFound(),
            SuspensionOutcome.Self => TypedResults.Problem("A key cannot suspend its own owner.", statusCode: StatusCodes.Status400BadRequest),
            SuspensionOutcome.LastAdmin => TypedResults.Problem("This is the last active admin.", statusCode: StatusCodes.Status409Conflict),
            _ => TypedResults.NoContent(),
        };

    private static async Task<List<UsageLineView>> UsageAsync(ChatDbContext db, DateOnly? from, DateOnly? to, TimeProvider clock, CancellationToken cancellationToken)
    {
        var last = to ?? DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var first = from ?? last.AddDays(-29);
        var start = first.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var end = last.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var rows = await db.UsageRecords.AsNoTracking()
            .Where(u => u.CreatedAt >= start && u.CreatedAt < end)
            .GroupBy(u => u.UserId)
            .Select(g => new { UserId = g.Key, Turns = g.Count(), Input = g.Sum(u => (long)u.InputTokens), Output = g.Sum(u => (long)u.OutputTokens), Cost = g.Sum(u => u.CostMicroUsd) })
            .ToListAsync(cancellationToken);
        var ids = rows.Select(r => r.UserId).ToList();
        var names = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, cancellationToken);
        return [.. rows.Select(r => new UsageLineView(r.UserId, names.GetValueOrDefault(r.UserId, ""), r.Turns, r.Input, r.Output, r.Cost / 1_000_000m)).OrderByDescending(r => r.CostUsd)];
    }

    private static DocumentView View(Document d) =>
        new(d.Id, d.Title, d.Status.ToString().ToLowerInvariant(), d.Scope.ToString().ToLowerInvariant(), d.ScopeKey, d.SizeBytes, d.ChunkCount, d.Source.ToString().ToLowerInvariant(), d.Url, d.FailureReason, d.UpdatedAt);
}
