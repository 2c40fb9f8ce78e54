namespace ChatBot.ChatData.Users;

/// <summary>One person, however many channels they use. Linked across channels by email.</summary>
public sealed class User
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public required string DisplayName { get; set; }

    /// <summary>The address as the channel gave it; null when no channel told us.</summary>
    public string? Email { get; set; }

    /// <summary>Lower-cased <see cref="Email"/>; unique, used to link identities.</summary>
    public string? NormalizedEmail { get; set; }

    public UserRole Role { get; set; } = UserRole.User;

    public bool IsSuspended { get; set; }

    /// <summary>Overrides the role's daily token quota when set.</summary>
    public long? DailyTokenQuota { get; set; }

    /// <summary>Overrides the role's monthly token quota when set.</summary>
    public long? MonthlyTokenQuota { get; set; }

    /// <summary>Overrides the role's messages-per-minute limit when set.</summary>
    public int? MessagesPerMinute { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? LastSeenAt { get; set; }

    public List<ChannelIdentity> Identities { get; set; } = [];

    public static string? Normalize(string? email) =>
        string.IsNullOrWhiteSpace(email) ? null : email.Trim().ToLowerInvariant();
}

public enum UserRole
{
    User = 0,
    KnowledgeOwner = 1,
    Admin = 2,
}
