using System.Security.Claims;
using ChatBot.Adapters.Web;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Accounts;

public enum SignInOutcome
{
    Succeeded,
    Failed,
    LockedOut,
    Suspended,
}

public sealed record SignInResult(SignInOutcome Outcome, User? User = null, bool MustChangePassword = false, DateTime? LockedUntil = null);

/// <summary>
/// Local accounts (user name + password) for the web chat and the portal. Passwords are hashed with ASP.NET Core
/// Identity's PBKDF2 hasher; five wrong passwords lock the account for fifteen minutes.
/// </summary>
public sealed class AccountService(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock)
{
    public const int MinimumPasswordLength = 12;
    public const int MaxFailedAttempts = 5;
    public const string MustChangePasswordClaim = "chatbot:must_change_password";

    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    private readonly PasswordHasher<LocalAccount> _hasher = new();

    public async Task<User> CreateLocalAsync(string userName, string displayName, string? email, UserRole role, string password, bool mustChangePassword, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userName);
        if (password.Length < MinimumPasswordLength)
        {
            throw new ArgumentException($"Passwords have at least {MinimumPasswordLength} characters.", nameof(password));
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var normalizedEmail = User.Normalize(email);
        var user = normalizedEmail is null ? null : await db.Users.SingleOrDefaultAsync(u => u.NormalizedEmail == normalizedEmail, cancellationToken);
        if (user is null)
        {
            user = new User { DisplayName = displayName, Email = email, NormalizedEmail = normalizedEmail, Role = role, CreatedAt = now };
            db.Users.Add(user);
        }

        var account = new LocalAccount
        {
            UserId = user.Id,
            UserName = userName.Trim(),
            NormalizedUserName = userName.Trim().ToLowerInvariant(),
            PasswordHash = "",
            MustChangePassword = mustChangePassword,
            CreatedAt = now,
        };
        account.PasswordHash = _hasher.HashPassword(account, password);
        db.LocalAccounts.Add(account);
        db.ChannelIdentities.Add(new ChannelIdentity
        {
            UserId = user.Id,
            Channel = Channel.Web,
            TenantId = WebChatEndpoints.LocalTenant,
            ExternalUserId = user.Id.ToString(),
            DisplayName = displayName,
            Email = email,
            CreatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        return user;
    }

    public async Task<SignInResult> CheckPasswordAsync(string userName, string password, CancellationToken cancellationToken)
    {
        var normalized = userName.Trim().ToLowerInvariant();
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var account = await db.LocalAccounts.Include(a => a.User).SingleOrDefaultAsync(a => a.NormalizedUserName == normalized, cancellationToken);
        if (account?.User is null)
        {
            // Same work as a real check, so timing does not tell which user names exist.
            _hasher.VerifyHashedPassword(new LocalAccount { UserName = "", NormalizedUserName = "", PasswordHash = "" }, DummyHash.Value, password);
            return new SignInResult(SignInOutcome.Failed);
        }

        if (account.LockedUntil > now)
        {
            return new SignInResult(SignInOutcome.LockedOut, LockedUntil: account.LockedUntil);
        }

        var verified = _hasher.VerifyHashedPassword(account, account.PasswordHash, password);
        if (verified == PasswordVerificationResult.Failed)
        {
            account.FailedAttempts++;
            if (account.FailedAttempts >= MaxFailedAttempts)
            {
                account.LockedUntil = now + LockoutDuration;
                account.FailedAttempts = 0;
            }

            await db.SaveChangesAsync(cancellationToken);
            return account.LockedUntil > now
                ? new SignInResult(SignInOutcome.LockedOut, LockedUntil: account.LockedUntil)
                : new SignInResult(SignInOutcome.Failed);
        }

        if (account.User.IsSuspended)
        {
            return new SignInResult(SignInOutcome.Suspended);
        }

        account.FailedAttempts = 0;
        account.LockedUntil = null;
        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            account.PasswordHash = _hasher.HashPassword(account, password);
        }

        account.User.LastSeenAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return new SignInResult(SignInOutcome.Succeeded, account.User, account.MustChangePassword);
    }

    public async Task<bool> ChangePasswordAsync(Guid userId, string currentPassword, string newPassword, CancellationToken cancellationToken)
    {
        if (newPassword.Length < MinimumPasswordLength || newPassword == currentPassword)
        {
            return false;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var account = await db.LocalAccounts.SingleOrDefaultAsync(a => a.UserId == userId, cancellationToken);
        if (account is null || _hasher.VerifyHashedPassword(account, account.PasswordHash, currentPassword) == PasswordVerificationResult.Failed)
        {
            return false;
        }

        account.PasswordHash = _hasher.HashPassword(account, newPassword);
        account.MustChangePassword = false;
        account.PasswordChangedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    public static ClaimsPrincipal Principal(User user, bool mustChangePassword, string scheme)
    {
        ArgumentNullException.ThrowIfNull(user);
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id.ToString()),
            new(ClaimTypes.Name, user.DisplayName),
            new(ClaimTypes.Role, user.Role.ToString()),
        };
        if (user.Email is not null)
        {
            claims.Add(new Claim(ClaimTypes.Email, user.Email));
        }

        if (mustChangePassword)
        {
            claims.Add(new Claim(MustChangePasswordClaim, "true"));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    private static readonly Lazy<string> DummyHash = new(() =>
        new PasswordHasher<LocalAccount>().HashPassword(new LocalAccount { UserName = "", NormalizedUserName = "", PasswordHash = "" }, Guid.NewGuid().ToString()));
}
