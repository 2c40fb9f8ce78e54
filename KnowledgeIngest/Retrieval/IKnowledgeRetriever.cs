namespace ChatBot.KnowledgeIngest.Retrieval;

/// <summary>Finds the passages a question needs, among the documents the asker may see.</summary>
public interface IKnowledgeRetriever
{
    Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(RetrievalRequest request, CancellationToken cancellationToken);
}

/// <summary>What to look for and on whose behalf. Access filtering happens in the query, never after it.</summary>
/// <param name="Query">The user's question (possibly rewritten with conversation context).</param>
/// <param name="UserId">The asking user.</param>
/// <param name="Email">The asking user's email, which links channel users to SharePoint permissions.</param>
/// <param name="ConversationId">Documents attached to this conversation are visible within it.</param>
/// <param name="IsSharedConversation">True for channels and group chats: restricted documents are never used there.</param>
/// <param name="ChannelScopes">Team, channel or Slack channel ids whose scoped documents the conversation may use.</param>
/// <param name="Top">The number of passages wanted.</param>
public sealed record RetrievalRequest(
    string Query,
    Guid UserId,
    string? Email,
    Guid ConversationId,
    bool IsSharedConversation,
    IReadOnlyList<string> ChannelScopes,
    int Top);

/// <summary>One passage with what a citation needs.</summary>
/// <param name="Source">The original file name or URL.</param>
public sealed record RetrievedPassage(
    string DocumentId,
    string Title,
    string Text,
    double Score,
    string? Url = null,
    int? Page = null,
    string? Section = null,
    string? Source = null);

/// <summary>The groups a user belongs to (for documents restricted to groups, such as SharePoint ACLs).</summary>
public interface IPrincipalGroups
{
    Task<IReadOnlyList<string>> GroupsOfAsync(string email, CancellationToken cancellationToken);
}

/// <summary>No directory configured: users belong to no groups, so group-restricted documents are never used.</summary>
internal sealed class NoPrincipalGroups : IPrincipalGroups
{
    public Task<IReadOnlyList<string>> GroupsOfAsync(string email, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);
}
