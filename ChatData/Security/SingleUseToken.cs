namespace ChatBot.ChatData.Security;

/// <summary>
/// A random token handed out once (an OAuth <c>state</c>) and accepted once: only its SHA-256 is kept, and accepting
/// it deletes the row, so a replay finds nothing.
/// </summary>
public sealed class SingleUseToken
{
    public long Id { get; set; }

    /// <summary>What the token is for ("slack-install"); a token issued for one purpose is refused for another.</summary>
    public required string Purpose { get; set; }

    /// <summary>Lower-case hex SHA-256 of the token.</summary>
    public required string TokenHash { get; set; }

    public DateTime ExpiresAt { get; set; }
}
