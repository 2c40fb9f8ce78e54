namespace ChatBot.ChatData.Users;

/// <summary>
/// A personal API key: a program acting as its owner, limited to its scopes. Only the key's SHA-256 is stored; the
/// prefix (shown in lists) finds it. Revoked or expired keys are refused.
/// </summary>
public sealed class ApiKey
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>"cbk_1a2b3c4d": the key's first part, unique, safe to show.</summary>
    public required string Prefix { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole key.</summary>
    public required string SecretHash { get; set; }

    /// <summary>Comma-separated: chat, documents, admin.</summary>
    public required string Scopes { get; set; }

    public DateTime CreatedAt { get; set; }

    public Guid? CreatedByUserId { get; set; }

    public DateTime? ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    public DateTime? LastUsedAt { get; set; }
}
