using System.Security.Claims;
using ChatBot.Adapters.Turns;
using ChatBot.Adapters.Web;
using ChatBot.BotHost.Models;
using ChatBot.BotHost.Pipeline;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.WebChat;

/// <summary>The web chat's reads: who am I, my conversations, one conversation's messages; and deleting one.</summary>
internal static class WebChatApi
{
    public sealed record MeView(Guid Id, string DisplayName, string Role, bool Extractive, IReadOnlyList<ModelView> Models);

    public sealed record ModelView(string Id, string Name);

    public sealed record ConversationView(string Id, string? Title, DateTime UpdatedAt);

    public sealed record MessageView(
        long Id,
        string Role,
        string Text,
        string? Html,
        IReadOnlyList<Citation> Citations,
        string? Model,
        int Feedback,
        int Generation,
        DateTime CreatedAt);

    public static IEndpointRouteBuilder MapWebChatApi(this IEndpointRouteBuilder endpoints)
    {
        var chat = endpoints.MapGroup("/api/chat").RequireAuthorization();
        chat.MapGet("/me", Me);
        chat.MapGet("/conversations", ListAsync);
        chat.MapGet("/conversations/{conversationId:guid}/messages", MessagesAsync);
        chat.MapDelete("/conversations/{conversationId:guid}", DeleteAsync);
        return endpoints;
    }

    private static MeView Me(ClaimsPrincipal principal, ModelCatalog catalog)
    {
        var role = Enum.TryParse<UserRole>(principal.FindFirstValue(ClaimTypes.Role), out var r) ? r : UserRole.User;
        var models = catalog.AllowedFor(role).Select(m => new ModelView(m.Id, m.DisplayName)).ToList();
        return new MeView(UserId(principal), principal.FindFirstValue(ClaimTypes.Name) ?? "", role.ToString(), catalog.IsExtractive, models);
    }

    private static async Task<List<ConversationView>> ListAsync(ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var userId = UserId(principal);
        var rows = await db.Conversations.AsNoTracking()
            .Where(c => c.Channel == Channel.Web && c.OwnerUserId == userId)
            .Select(c => new { c.ExternalId, c.Title, c.UpdatedAt, c.Generation })
            .ToListAsync(cancellationToken);
        return [.. rows
            .GroupBy(c => c.ExternalId)
            .Select(g => new ConversationView(g.Key, g.OrderBy(c => c.Generation).Select(c => c.Title).FirstOrDefault(t => t is not null), g.Max(c => c.UpdatedAt)))
            .OrderByDescending(c => c.UpdatedAt)
            .Take(200)];
    }

    private static async Task<IResult> MessagesAsync(Guid conversationId, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var userId = UserId(principal);
        var externalId = conversationId.ToString();
        var generations = await db.Conversations.AsNoTracking()
            .Where(c => c.Channel == Channel.Web && c.ExternalId == externalId && c.OwnerUserId == userId)
            .Select(c => new { c.Id, c.Generation })
            .ToListAsync(cancellationToken);
        if (generations.Count == 0)
        {
            return TypedResults.NotFound();
        }

        var ids = generations.Select(g => g.Id).ToList();
        var generationOf = generations.ToDictionary(g => g.Id, g => g.Generation);
        var messages = await db.Messages.AsNoTracking()
            .Where(m => ids.Contains(m.ConversationId))
            .OrderBy(m => m.Id)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(messages.Select(m => new MessageView(
            m.Id,
            m.Role == MessageRole.User ? "user" : "assistant",
            m.Content,
            m.Role == MessageRole.Assistant ? SafeMarkdown.ToHtml(m.Content) : null,
            CitationJson.Read(m.CitationsJson),
            m.Model,
            m.Feedback,
            generationOf[m.ConversationId],
            m.CreatedAt)).ToList());
    }

    private static async Task<IResult> DeleteAsync(Guid conversationId, ClaimsPrincipal principal, ChatDbContext db, CancellationToken cancellationToken)
    {
        var userId = UserId(principal);
        var externalId = conversationId.ToString();
        var deleted = await db.Conversations
            .Where(c => c.Channel == Channel.Web && c.ExternalId == externalId && c.OwnerUserId == userId)
            .ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    private static Guid UserId(ClaimsPrincipal principal) => Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier)!);
}
