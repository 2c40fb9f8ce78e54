using System.Security.Claims;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest.Documents;
using ChatBot.KnowledgeIngest.Index;
using ChatBot.KnowledgeIngest.Retrieval;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace ChatBot.BotHost.Knowledge;

/// <summary>
/// The link in citations of uploaded files: the stored original, for a signed-in reader who may see the document
/// (the same rules as retrieval). Anyone else gets 404, so the route does not even tell that a document exists.
/// Always an attachment with nosniff, so an uploaded HTML file never runs in our origin.
/// </summary>
internal static class DocumentDownload
{
    public static IEndpointRouteBuilder MapDocumentDownload(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(DocumentLinks.DownloadRoute, DownloadAsync).RequireAuthorization();
        return endpoints;
    }

    private static async Task<IResult> DownloadAsync(
        Guid id, ClaimsPrincipal principal, HttpContext http, ChatDbContext db, IBlobStore blobs, IPrincipalGroups groups, CancellationToken cancellationToken)
    {
        var userId = Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier)!);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
        var document = await db.Documents.AsNoTracking().Include(d => d.Principals).FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (user is null || user.IsSuspended || document is null || !await MayReadAsync(db, groups, user, document, cancellationToken))
        {
            return Results.NotFound();
        }

        Stream content;
        try
        {
            content = await blobs.OpenReadAsync(document.BlobName, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            return Results.NotFound();
        }

        http.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        http.Response.Headers[HeaderNames.ContentSecurityPolicy] = "default-src 'none'; sandbox";
        return Results.File(content, document.ContentType, document.SourceName, enableRangeProcessing: true);
    }

    internal static async Task<bool> MayReadAsync(ChatDbContext db, IPrincipalGroups groups, User user, Document document, CancellationToken cancellationToken)
    {
        if (user.Role == UserRole.Admin)
        {
            return true;
        }

        switch (document.Scope)
        {
            case DocumentScope.Organisation:
                return true;
            case DocumentScope.Conversation when Guid.TryParse(document.ScopeKey, out var conversationId):
                return await db.Conversations.AnyAsync(c => c.Id == conversationId && c.OwnerUserId == user.Id, cancellationToken)
                    || await db.Messages.AnyAsync(m => m.ConversationId == conversationId && m.UserId == user.Id, cancellationToken);
            case DocumentScope.Channel when document.ScopeKey is { } channel:
                // Someone who has talked to the bot in that channel (Teams channel ids carry ";messageid=" per thread).
                var prefix = channel + ";";
                return await db.Messages.AnyAsync(
                    m => m.UserId == user.Id && (m.Conversation!.ExternalId == channel || m.Conversation.ExternalId.StartsWith(prefix)),
                    cancellationToken);
            case DocumentScope.Restricted when user.Email is { } email:
                // The same access keys the index matches on, so the two can never disagree.
                var readerKeys = (await groups.GroupsOfAsync(email, cancellationToken)).Select(AccessKeys.Group).Append(AccessKeys.User(email));
                return AccessKeys.ForDocument(document).Intersect(readerKeys, StringComparer.Ordinal).Any();
            default:
                return false;
        }
    }
}
