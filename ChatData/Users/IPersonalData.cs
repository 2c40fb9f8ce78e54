using System.Text.Json.Nodes;

namespace ChatBot.ChatData.Users;

/// <summary>What a history deletion removed.</summary>
public sealed record HistoryDeletion(int Conversations, int Messages, int Documents);

public enum ErasureOutcome
{
    Done,
    NotFound,
    Self,
    Admin,
}

/// <summary>
/// A person's data: exported as JSON (portal, API, for access requests), their conversation history deleted (the
/// <c>forget</c> command), or the person erased (portal). Usage rows stay for billing, tied to an anonymous user row.
/// </summary>
public interface IPersonalData
{
    /// <summary>Everything kept about the person, or null when there is no such person.</summary>
    Task<JsonObject?> ExportAsync(Guid userId, CancellationToken cancellationToken);

    /// <summary>Their private conversations, their own messages in shared ones, and files shared in their private conversations.</summary>
    Task<HistoryDeletion> ForgetHistoryAsync(Guid userId, CancellationToken cancellationToken);

    /// <summary>History, identities, sign-in, API keys and name removed; the row stays as "Deleted user" (suspended) for usage totals.</summary>
    Task<ErasureOutcome> EraseAsync(Guid userId, string actor, Guid? actorId, CancellationToken cancellationToken);
}
