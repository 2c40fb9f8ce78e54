using ChatBot.AdminPortal.Pages.Users;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Accounts;

/// <summary>Local accounts created from the portal: the same hashing and lockout as every account, a new password at first sign-in.</summary>
internal sealed class PortalAccounts(AccountService accounts, IDbContextFactory<ChatDbContext> contexts) : IPortalAccounts
{
    public int MinimumPasswordLength => AccountService.MinimumPasswordLength;

    public async Task<(Guid? UserId, string? Error)> CreateAsync(string userName, string displayName, string? email, UserRole role, string password, CancellationToken cancellationToken)
    {
        if (password.Length < AccountService.MinimumPasswordLength)
        {
            return (null, $"The password needs at least {AccountService.MinimumPasswordLength} characters.");
        }

        var normalizedName = userName.Trim().ToLowerInvariant();
        var normalizedEmail = User.Normalize(email);
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            if (await db.LocalAccounts.AnyAsync(a => a.NormalizedUserName == normalizedName, cancellationToken))
            {
                return (null, $"The user name “{userName}” is taken.");
            }

            if (normalizedEmail is not null && await db.LocalAccounts.AnyAsync(a => a.User!.NormalizedEmail == normalizedEmail, cancellationToken))
            {
                return (null, $"{email} already has a local account.");
            }
        }

        var user = await accounts.CreateLocalAsync(userName, displayName, email, role, password, mustChangePassword: true, cancellationToken);
        return (user.Id, null);
    }
}
