using Microsoft.AspNetCore.Mvc;
using System.Security.Claims;
using ChatBot.Adapters.Turns;
using ChatBot.Adapters.Web;
using ChatBot.BotHost.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.WebChat;

/// <summary>
/// A file attached in the web chat becomes a document of that conversation (only its participants' questions there
/// use it). The upload answers at once with the document id; the page polls its status until it is indexed or failed.
/// Cross-site forms can post multipart bodies without asking, so the upload must carry a header only our page sets.
/// </summary>
internal static class WebChatUploads
{
    public const string RequiredHeader = "X-ChatBot-Upload";

    public sealed record UploadView(Guid DocumentId, string Title, string Status, int ChunkCount, string? FailureReason);

    public static IEndpointRouteBuilder MapWebChatUploads(this IEndpointRouteBuilder endpoints)
    {
        var chat = endpoints.MapGroup("/api/chat").RequireAuthorization();
        chat.MapPost("/conversations/{conversationId:guid}/documents", UploadAsync).DisableAntiforgery().WithMetadata(new DisableRequestSizeLimitAttribute());
        chat.MapGet("/documents/{documentId:guid}", StatusAsync);
        return endpoints;
    }

    private static async Task<IResult> UploadAsync(
        Guid conversationId,
        HttpContext http,
        ChatDbContext db,
        ConversationStore conversations,
        DocumentIntake intake,
        IOptions<KnowledgeOptions> options,
        TimeProvider clock)
    {
        if (!http.Request.Headers.ContainsKey(RequiredHeader))
        {
            return TypedResults.Problem($"Uploads need the {RequiredHeader} header.", statusCode: StatusCodes.Status400BadRequest);
        }

        var (form, problem) = await ReadUploadFormAsync(http, options.Value.MaxFileBytes);
        if (form is null)
        {
            return problem!;
        }

        if (form.Files.GetFile("file") is not { } file)
        {
            return TypedResults.Problem("Send the file in a field named 'file'.", statusCode: StatusCodes.Status400BadRequest);
        }

        var userId = Guid.Parse(http.User.FindFirstValue(ClaimTypes.NameIdentifier)!);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, http.RequestAborted);
        if (user is null || user.IsSuspended)
        {
            return TypedResults.Problem("Your account cannot add documents.", statusCode: StatusCodes.Status403Forbidden);
        }

        var turn = new InboundTurn
        {
            Channel = ChannelKind.Web,
            EventId = "upload:" + Guid.NewGuid().ToString("N"),
            TenantId = WebChatEndpoints.LocalTenant,
            Conversation = new ConversationReference(conversationId.ToString(), "", ConversationType.Personal),
            User = new UserReference(user.Id.ToString(), user.DisplayName, user.Email),
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };
        var conversation = await conversations.GetOrCreateAsync(turn, user, http.RequestAborted);
        if (conversation.OwnerUserId != user.Id)
        {
            return TypedResults.NotFound();
        }

        try
        {
            await using var content = file.OpenReadStream();
            var upload = new DocumentUpload(
                Path.GetFileName(file.FileName), DocumentSource.Chat, DocumentScope.Conversation, conversation.Id.ToString(),
                ContentType: file.ContentType, UploadedByUserId: user.Id);
            var result = await intake.IngestFromChatAsync(content, upload, http.RequestAborted);
            var document = await db.Documents.AsNoTracking().FirstAsync(d => d.Id == result.DocumentId, http.RequestAborted);
            return TypedResults.Accepted($"/api/chat/documents/{document.Id}", View(document));
        }
        catch (DocumentRejectedException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<IResult> StatusAsync(Guid documentId, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var userId = Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier)!);
        var document = await db.Documents.AsNoTracking().FirstOrDefaultAsync(d => d.Id == documentId && d.UploadedByUserId == userId, cancellationToken);
        return document is null ? TypedResults.NotFound() : TypedResults.Ok(View(document));
    }

    /// <summary>
    /// A multipart upload within the file limit (the request body limit raised to it for this request): the form, or
    /// the problem to answer (400 not multipart, 413 too large).
    /// </summary>
    internal static async Task<(IFormCollection? Form, IResult? Problem)> ReadUploadFormAsync(HttpContext http, long limit)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + (1024 * 1024);
        }

        if (!http.Request.HasFormContentType)
        {
            return (null, TypedResults.Problem("Send the file as multipart/form-data in a field named 'file'.", statusCode: StatusCodes.Status400BadRequest));
        }

        try
        {
            return (await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = limit + (1024 * 1024) }, http.RequestAborted), null);
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            return (null, TypedResults.Problem($"The file is larger than {limit / (1024 * 1024):N0} MB, the limit.", statusCode: StatusCodes.Status413PayloadTooLarge));
        }
    }

    private static UploadView View(Document d) =>
        new(d.Id, d.Title, d.Status.ToString().ToLowerInvariant(), d.ChunkCount, d.FailureReason);
}
