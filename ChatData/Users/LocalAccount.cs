namespace ChatBot.ChatData.Users;

/// <summary>A user name and password for the web chat and the portal (the bootstrap admin and accounts admins create).</summary>
public sealed class LocalAccount
{
    public Guid UserId { get; set; }

    public User? User { get; set; }

    public required string UserName { get; set; }

    /// <summary>Lower-cased <see cref="UserName"/>; unique.</summary>
    public required string NormalizedUserName { get; set; }

    public required string PasswordHash { get; set; }

    public bool MustChangePassword { get; set; }

    public int FailedAttempts { get; set; }

    public DateTime? LockedUntil { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? PasswordChangedAt { get; set; }
}
