using ChatBot.ChatData.Users;

namespace ChatBot.AdminPortal.Pages.Users;

/// <summary>Local accounts as the host keeps them (its password hashing and lockout), for the portal to create.</summary>
public interface IPortalAccounts
{
    int MinimumPasswordLength { get; }

    /// <returns>The new user's id, or an error to show (name taken, password too short).</returns>
    Task<(Guid? UserId, string? Error)> CreateAsync(string userName, string displayName, string? email, UserRole role, string password, CancellationToken cancellationToken);
}
