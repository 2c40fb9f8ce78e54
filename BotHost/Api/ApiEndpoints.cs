using Microsoft.AspNetCore.Mvc;
using System.Security.Claims;
using ChatBot.Adapters.Turns;
using ChatBot.Adapters.Web;
using ChatBot.BotHost.Models;
using ChatBot.BotHost.Pipeline;
using ChatBot.BotHost.Conversations;
using ChatBot.BotHost.Quotas;
using ChatBot.BotHost.WebChat;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.Extensions.Options;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Api;

/// <summary>
/// REST <c>/api/v1</c> for programs, authenticated with personal API keys (scope <c>chat</c>): who am I and my usage,
/// my API conversations (list, create, read, rename, archive, delete) and chatting in them, whole or streamed as
/// server-sent events, with files added to a conversation to ask about. The same pipeline, roles, quotas and audit as every channel; usage is recorded under "Api".
/// </summary>
internal static class ApiEndpoints
{
    public const string Tenant = "api";

    public sealed record MeView(Guid Id, string DisplayName, string? Email, string Role, IReadOnlyList<string> Scopes, IReadOnlyList<string> Models);

    public sealed record UsageView(long TokensToday, long? DailyLimit, long TokensThisMonth, long? MonthlyLimit, int? MessagesPerMinute, DateTime DayResetsAt, DateTime MonthResetsAt);

    public sealed record ConversationView(Guid Id, string? Title, DateTime CreatedAt, DateTime UpdatedAt, bool Archived);

    public sealed record ConversationWithMessages(Guid Id, string? Title, DateTime CreatedAt, DateTime UpdatedAt, bool Archived, IReadOnlyList<MessageView> Messages);

    public sealed record MessageView(long Id, string Role, string Text, IReadOnlyList<Citation> Citations, string? Model, int Feedback, DateTime CreatedAt);

    public sealed record CreateConversationRequest(string? Title);

    public sealed record RenameRequest(string Title);

    /// <param name="Stream">Answer as server-sent events (also when the request accepts text/event-stream).</param>
    public sealed record ChatRequest(string Text, string? Model, bool? Stream, Guid? ClientMessageId);

    public sealed record FileView(Guid DocumentId, string Name, string Status);

    public sealed record ChatResponse(long? MessageId, string Kind, string Text, IReadOnlyList<Citation> Citations, string? Model);

    public static IEndpointRouteBuilder MapApiV1(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/api/v1").RequireAuthorization(ApiPolicies.Chat).WithTags("Chat");
        v1.MapGet("/me", Me).WithSummary("Who the key acts for: role, scopes and the models they may use.");
        v1.MapGet("/me/usage", UsageAsync).WithSummary("Tokens used today and this month against the quota.");
        v1.MapGet("/me/export", ExportAsync).WithSummary("Everything ChatBot keeps about the key's owner, as JSON (conversations, own messages in shared chats, usage, files, keys without secrets).");
        v1.MapGet("/conversations", ListAsync).WithSummary("My API conversations, newest first.");
        v1.MapPost("/conversations", CreateAsync).WithSummary("Starts a conversation.");
        v1.MapGet("/conversations/{id:guid}", GetAsync).WithSummary("A conversation with its messages.");
        v1.MapPatch("/conversations/{id:guid}", RenameAsync).WithSummary("Renames a conversation.");
        v1.MapPost("/conversations/{id:guid}/archive", ArchiveAsync).WithSummary("Archives a conversation (it stays readable).");
        v1.MapDelete("/conversations/{id:guid}", DeleteAsync).WithSummary("Deletes a conversation and its messages.");
        v1.MapPost("/conversations/{id:guid}/files", UploadFileAsync).DisableAntiforgery().WithMetadata(new DisableRequestSizeLimitAttribute())
            .WithSummary("Adds a file to the conversation (multipart field 'file'), to ask about there; indexing runs in the background.");
        v1.MapPost("/conversations/{id:guid}/messages", ChatAsync)
            .WithSummary("Sends a message; the answer comes whole (JSON) or streamed (server-sent events: accepted, status, delta, final, error).")
            .Produces<ChatResponse>()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return endpoints;
    }

    private static MeView Me(ClaimsPrincipal principal, ModelCatalog catalog)
    {
        var role = Enum.TryParse<UserRole>(principal.FindFirstValue(ClaimTypes.Role), out var r) ? r : UserRole.User;
        return new MeView(
            UserId(principal),
            principal.FindFirstValue(ClaimTypes.Name) ?? "",
            principal.FindFirstValue(ClaimTypes.Email),
            role.ToString(),
            [.. principal.FindAll(ApiKeyAuthenticationHandler.ScopeClaim).Select(c => c.Value)],
            catalog.IsExtractive ? ["extractive"] : [.. catalog.AllowedFor(role).Select(m => m.Id)]);
    }

    private static async Task<IResult> UsageAsync(ClaimsPrincipal principal, ChatDbContext db, QuotaService quotas, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == UserId(principal), cancellationToken);
        var status = await quotas.StatusAsync(user, cancellationToken);
        return TypedResults.Ok(new UsageView(status.UsedToday, status.Limits.DailyTokens, status.UsedThisMonth, status.Limits.MonthlyTokens, status.Limits.MessagesPerMinute, status.DayResetsAt, status.MonthResetsAt));
    }

    private static async Task<IResult> ExportAsync(ClaimsPrincipal principal, ChatData.Users.IPersonalData personalData, CancellationToken cancellationToken) =>
        await personalData.ExportAsync(UserId(principal), cancellationToken) is { } export
            ? TypedResults.Text(export.ToJsonString(), "application/json")
            : TypedResults.NotFound();

    private static async Task<List<ConversationView>> ListAsync(ClaimsPrincipal principal, ChatDbContext db, bool? archived, CancellationToken cancellationToken)
    {
        var rows = await Owned(db, principal).Select(c => new { c.ExternalId, c.Title, c.CreatedAt, c.UpdatedAt, c.ArchivedAt, c.Generation }).ToListAsync(cancellationToken);
        return [.. rows
            .GroupBy(c => c.ExternalId)
            .Select(g => new ConversationView(Guid.Parse(g.Key), g.OrderBy(c => c.Generation).Select(c => c.Title).FirstOrDefault(t => t is not null), g.Min(c => c.CreatedAt), g.Max(c => c.UpdatedAt), g.All(c => c.ArchivedAt != null)))
            .Where(c => archived is null || c.Archived == archived)
            .OrderByDescending(c => c.UpdatedAt)
            .Take(500)];
    }

    private static async Task<IResult> CreateAsync(CreateConversationRequest? request, ClaimsPrincipal principal, ChatDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var title = request?.Title?.Trim();
        if (title is { Length: > 200 })
        {
            return TypedResults.Problem("A title has at most 200 characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var id = Guid.NewGuid();
        db.Conversations.Add(new Conversation
        {
            Channel = Channel.Api, TenantId = Tenant, ExternalId = id.ToString(), Kind = ConversationKind.Personal,
            OwnerUserId = UserId(principal), Title = string.IsNullOrEmpty(title) ? null : title, CreatedAt = now, UpdatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/conversations/{id}", new ConversationView(id, title, now, now, false));
    }

    private static async Task<IResult> GetAsync(Guid id, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var generations = await Owned(db, principal, id).ToListAsync(cancellationToken);
        if (generations.Count == 0)
        {
            return TypedResults.NotFound();
        }

        var ids = generations.Select(g => g.Id).ToList();
        var messages = await db.Messages.AsNoTracking().Where(m => ids.Contains(m.ConversationId)).OrderBy(m => m.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ConversationWithMessages(
            id,
            generations.OrderBy(g => g.Generation).Select(g => g.Title).FirstOrDefault(t => t is not null),
            generations.Min(g => g.CreatedAt),
            generations.Max(g => g.UpdatedAt),
            generations.All(g => g.ArchivedAt != null),
            [.. messages.Select(m => new MessageView(m.Id, m.Role == MessageRole.User ? "user" : "assistant", m.Content, CitationJson.Read(m.CitationsJson), m.Model, m.Feedback, m.CreatedAt))]));
    }

    private static async Task<IResult> RenameAsync(Guid id, RenameRequest request, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var title = request.Title?.Trim() ?? "";
        if (title.Length is 0 or > 200)
        {
            return TypedResults.Problem("A title has 1 to 200 characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        var updated = await Owned(db, principal, id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Title, title), cancellationToken);
        return updated == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    private static async Task<IResult> ArchiveAsync(Guid id, ClaimsPrincipal principal, ChatDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var updated = await Owned(db, principal, id).ExecuteUpdateAsync(s => s.SetProperty(c => c.ArchivedAt, now), cancellationToken);
        return updated == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    private static async Task<IResult> DeleteAsync(Guid id, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var deleted = await Owned(db, principal, id).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    private static async Task<IResult> ChatAsync(Guid id, ChatRequest request, HttpContext http, ChatDbContext db, ITurnInbox inbox, WebChatFeeds feeds, TimeProvider clock)
    {
        var text = request.Text?.Trim() ?? "";
        if (text.Length == 0 || text.Length > WebChatEndpoints.MaxMessageLength)
        {
            return TypedResults.Problem($"The text must have between 1 and {WebChatEndpoints.MaxMessageLength} characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (await Owned(db, http.User, id).AnyAsync(http.RequestAborted) is false && await db.Conversations.AnyAsync(c => c.ExternalId == id.ToString() && c.Channel == Channel.Api, http.RequestAborted))
        {
            return TypedResults.NotFound(); // someone else's
        }

        var turn = Turn(http.User, id, text, request.Model, request.ClientMessageId ?? Guid.NewGuid(), clock);
        var receipt = await inbox.AcceptAsync(turn, http.RequestAborted);
        var stream = request.Stream == true || http.Request.Headers.Accept.Any(a => a?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);
        if (stream)
        {
            await WebChatEndpoints.StreamAsync(http, receipt, feeds);
            return TypedResults.Empty;
        }

        var final = await WebChatEndpoints.FinalAsync(receipt, feeds, http.RequestAborted);
        return final switch
        {
            { Name: "final", Data: WebMessageView view } => TypedResults.Ok(new ChatResponse(view.MessageId, view.Kind, view.Text, view.Citations, view.Model)),
            { Name: "duplicate" } => TypedResults.Conflict(new { error = "This clientMessageId was already sent; its answer is in the conversation." }),
            { Name: "error" } e => TypedResults.Problem(Message(e.Data), statusCode: StatusCodes.Status502BadGateway),
            _ => TypedResults.Problem("The answer did not arrive.", statusCode: StatusCodes.Status504GatewayTimeout),
        };
    }

    private static async Task<IResult> UploadFileAsync(Guid id, HttpContext http, ChatDbContext db, ConversationStore conversations, DocumentIntake intake, IOptions<KnowledgeOptions> options, TimeProvider clock)
    {
        var (form, problem) = await WebChatUploads.ReadUploadFormAsync(http, options.Value.MaxFileBytes);
        if (form is null)
        {
            return problem!;
        }

        if (form.Files.GetFile("file") is not { Length: > 0 } file)
        {
            return TypedResults.Problem("Send a non-empty file in a field named 'file'.", statusCode: StatusCodes.Status400BadRequest);
        }

        var userId = UserId(http.User);
        var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == userId, http.RequestAborted);
        if (user.IsSuspended)
        {
            return TypedResults.Problem("Your access to ChatBot is suspended.", statusCode: StatusCodes.Status403Forbidden);
        }

        var conversation = await conversations.GetOrCreateAsync(Turn(http.User, id, "", null, Guid.NewGuid(), clock), user, http.RequestAborted);
        if (conversation.OwnerUserId != user.Id)
        {
            return TypedResults.NotFound();
        }

        try
        {
            await using var content = file.OpenReadStream();
            var result = await intake.IngestFromChatAsync(
                content,
                new DocumentUpload(Path.GetFileName(file.FileName), DocumentSource.Chat, DocumentScope.Conversation, conversation.Id.ToString(), ContentType: file.ContentType, UploadedByUserId: user.Id),
                http.RequestAborted);
            return TypedResults.Accepted($"/api/v1/conversations/{id}/files/{result.DocumentId}", new FileView(result.DocumentId, Path.GetFileName(file.FileName), result.Status.ToString().ToLowerInvariant()));
        }
        catch (DocumentRejectedException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>A message of the key's owner in one of their API conversations.</summary>
    public static InboundTurn Turn(ClaimsPrincipal principal, Guid conversationId, string text, string? model, Guid clientMessageId, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(clock);
        var userId = UserId(principal).ToString();
        return new InboundTurn
        {
            Channel = ChannelKind.Api,
            EventId = $"{userId}:{clientMessageId:N}",
            TenantId = Tenant,
            Conversation = new ConversationReference(conversationId.ToString(), "", ConversationType.Personal),
            User = new UserReference(userId, principal.FindFirstValue(ClaimTypes.Name) ?? userId, principal.FindFirstValue(ClaimTypes.Email)),
            Text = text,
            RequestedModel = string.IsNullOrWhiteSpace(model) ? null : model,
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };
    }

    private static string Message(object data) => data.GetType().GetProperty("message")?.GetValue(data) as string ?? "The answer failed.";

    private static IQueryable<Conversation> Owned(ChatDbContext db, ClaimsPrincipal principal, Guid? id = null)
    {
        var userId = UserId(principal);
        var conversations = db.Conversations.Where(c => c.Channel == Channel.Api && c.TenantId == Tenant && c.OwnerUserId == userId);
        if (id is { } conversationId)
        {
            var externalId = conversationId.ToString();
            conversations = conversations.Where(c => c.ExternalId == externalId);
        }

        return conversations;
    }

    public static Guid UserId(ClaimsPrincipal principal) => Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier)!);
}
