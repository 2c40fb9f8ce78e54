using System.Security.Claims;
using System.Text.Json;
using ChatBot.Adapters.Turns;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatBot.Adapters.Web;

/// <summary>A message typed in the web chat. <see cref="ClientMessageId"/> makes a resend harmless.</summary>
public sealed record WebChatMessageRequest(Guid ClientMessageId, string? Text, string? Model);

public sealed record WebChatFeedbackRequest(int Rating, string? Comment);

/// <summary>
/// The web chat's channel protocol: a signed-in user posts a message and the answer streams back over server-sent
/// events on the same response (events: accepted, status, delta, final, error; or duplicate for a resent message).
/// </summary>
public static class WebChatEndpoints
{
    public const int MaxMessageLength = 8_000;
    public const int MaxCommentLength = 2_000;
    public const string LocalTenant = "local";

    /// <summary>How long text pieces are gathered before they are sent on, once the first words are out.</summary>
    private static readonly TimeSpan DeltaWindow = TimeSpan.FromMilliseconds(40);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapWebChatTurns(this IEndpointRouteBuilder endpoints)
    {
        var chat = endpoints.MapGroup("/api/chat").RequireAuthorization();
        chat.MapPost("/conversations/{conversationId:guid}/messages", PostMessageAsync);
        chat.MapPost("/conversations/{conversationId:guid}/messages/{messageId:long}/feedback", PostFeedbackAsync);
        return endpoints;
    }

    private static async Task<IResult> PostMessageAsync(
        Guid conversationId,
        WebChatMessageRequest request,
        HttpContext http,
        ITurnInbox inbox,
        WebChatFeeds feeds,
        TimeProvider clock)
    {
        var text = request.Text?.Trim() ?? "";
        if (request.ClientMessageId == Guid.Empty)
        {
            return TypedResults.Problem("clientMessageId is required.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (text.Length == 0 || text.Length > MaxMessageLength)
        {
            return TypedResults.Problem($"The message must have between 1 and {MaxMessageLength} characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        var user = CurrentUser(http.User);
        var turn = new InboundTurn
        {
            Channel = ChannelKind.Web,
            EventId = $"{user.Id}:{request.ClientMessageId:N}",
            TenantId = LocalTenant,
            Conversation = new ConversationReference(conversationId.ToString(), "", ConversationType.Personal),
            User = user,
            Text = text,
            RequestedModel = string.IsNullOrWhiteSpace(request.Model) ? null : request.Model,
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };
        var receipt = await inbox.AcceptAsync(turn, http.RequestAborted);
        await StreamAsync(http, receipt, feeds);
        return TypedResults.Empty;
    }

    private static async Task<IResult> PostFeedbackAsync(
        Guid conversationId,
        long messageId,
        WebChatFeedbackRequest request,
        HttpContext http,
        ITurnInbox inbox,
        TimeProvider clock)
    {
        if (request.Rating is not (1 or -1))
        {
            return TypedResults.Problem("rating must be 1 or -1.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (request.Comment is { Length: > MaxCommentLength })
        {
            return TypedResults.Problem($"The comment may have at most {MaxCommentLength} characters.", statusCode: StatusCodes.Status400BadRequest);
        }

        var user = CurrentUser(http.User);
        await inbox.AcceptAsync(
            new InboundTurn
            {
                Channel = ChannelKind.Web,
                Kind = TurnKind.Feedback,
                EventId = $"{user.Id}:feedback:{Guid.NewGuid():N}",
                TenantId = LocalTenant,
                Conversation = new ConversationReference(conversationId.ToString(), "", ConversationType.Personal),
                User = user,
                Feedback = new FeedbackReference(messageId.ToString(System.Globalization.CultureInfo.InvariantCulture), request.Rating, request.Comment),
                ReceivedAt = clock.GetUtcNow().UtcDateTime,
            },
            http.RequestAborted);
        return TypedResults.Accepted((string?)null);
    }

    /// <summary>Relays a turn's events as server-sent events until the answer is complete (web chat and the REST API).</summary>
    internal static async Task StreamAsync(HttpContext http, InboxReceipt receipt, WebChatFeeds feeds)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var cancellationToken = http.RequestAborted;
        try
        {
            if (receipt.Duplicate)
            {
                await WriteAsync(response, new WebChatEvent("duplicate", new { turnId = receipt.TurnId }), cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
                return;
            }

            await WriteAsync(response, new WebChatEvent("accepted", new { turnId = receipt.TurnId }), cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            var reader = feeds.Reader(receipt.TurnId);
            var wroteText = false;
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                if (wroteText)
                {
                    // After the first words, pieces that arrive within a short window go out in one write:
                    // invisible to a reader, and far fewer syscalls when a model streams fast.
                    await Task.Delay(DeltaWindow, cancellationToken);
                }

                while (reader.TryRead(out var item))
                {
                    await WriteAsync(response, item, cancellationToken);
                    wroteText |= item.Name == "delta";
                }

                await response.Body.FlushAsync(cancellationToken);
            }

            feeds.Remove(receipt.TurnId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The browser left; the turn goes on and its answer is in the conversation when it comes back.
        }
    }

    /// <summary>Waits for a turn's answer: its final (or error) event; "duplicate" for a resent message; null if the feed ended without one.</summary>
    internal static async Task<WebChatEvent?> FinalAsync(InboxReceipt receipt, WebChatFeeds feeds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(feeds);
        if (receipt.Duplicate)
        {
            return new WebChatEvent("duplicate", new { turnId = receipt.TurnId });
        }

        WebChatEvent? last = null;
        var reader = feeds.Reader(receipt.TurnId);
        try
        {
            await foreach (var item in reader.ReadAllAsync(cancellationToken))
            {
                if (item.Name is "final" or "error")
                {
                    last = item;
                }
            }
        }
        finally
        {
            feeds.Remove(receipt.TurnId);
        }

        return last;
    }

    private static async Task WriteAsync(HttpResponse response, WebChatEvent item, CancellationToken cancellationToken)
    {
        var data = JsonSerializer.Serialize(item.Data, Json);
        await response.WriteAsync($"event: {item.Name}\ndata: {data}\n\n", cancellationToken);
    }

    private static UserReference CurrentUser(ClaimsPrincipal principal)
    {
        var id = principal.FindFirstValue(ClaimTypes.NameIdentifier)
            ?? throw new InvalidOperationException("A signed-in user without an id claim.");
        return new UserReference(id, principal.FindFirstValue(ClaimTypes.Name) ?? id, principal.FindFirstValue(ClaimTypes.Email));
    }
}
