using System.Security.Cryptography;
using System.Text;
using ChatBot.ChatData.Database;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.ChatData.Users;

/// <summary>What a key may do.</summary>
public static class ApiScopes
{
    public const string Chat = "chat";
    public const string Documents = "documents";
    public const string Admin = "admin";

    public static readonly string[] All = [Chat, Documents, Admin];
}

/// <summary>A key as its owner sees it (never the secret, except once at creation).</summary>
public sealed record ApiKeyView(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt);

/// <summary>
/// Personal API keys: "cbk_" + 8 hex characters (the prefix that finds the key) + "_" + 32 random bytes (base64url).
/// Only the SHA-256 of the whole key is stored and compared in constant time; the key is shown once. A key carries
/// scopes (chat, documents, admin) and can expire; documents and admin also need the owner's role at each use.
/// </summary>
public sealed class ApiKeys(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock)
{
    public const string KeyStart = "cbk_";
    public const int MaxKeysPerUser = 20;

    public async Task<(ApiKeyView Key, string Secret)> CreateAsync(Guid userId, string name, IReadOnlyCollection<string> scopes, int? expiresInDays, Guid? createdBy, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var wanted = scopes.Select(s => s.Trim().ToLowerInvariant()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0 || wanted.Any(s => !ApiScopes.All.Contains(s, StringComparer.Ordinal)))
        {
            throw new ArgumentException($"Scopes are {string.Join(", ", ApiScopes.All)}.", nameof(scopes));
        }

        if (expiresInDays is < 1 or > 3650)
        {
            throw new ArgumentException("A key expires after 1 to 3650 days.", nameof(expiresInDays));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (await db.ApiKeys.CountAsync(k => k.UserId == userId && k.RevokedAt == null, cancellationToken) >= MaxKeysPerUser)
        {
            throw new ArgumentException($"At most {MaxKeysPerUser} keys per person; revoke one first.", nameof(userId));
        }

        var prefix = KeyStart + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var secret = prefix + "_" + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow().UtcDateTime;
        var key = new ApiKey
        {
            UserId = userId,
            Name = name.Trim(),
            Prefix = prefix,
            SecretHash = Hash(secret),
            Scopes = string.Join(',', wanted),
            CreatedAt = now,
            CreatedByUserId = createdBy,
            ExpiresAt = expiresInDays is { } days ? now.AddDays(days) : null,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return (View(key), secret);
    }

    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId).OrderByDescending(k => k.CreatedAt).ToListAsync(cancellationToken);
        return [.. keys.Select(View)];
    }

    /// <summary>Revokes a key of <paramref name="userId"/> (or anyone's when null: an admin).</summary>
    public async Task<bool> RevokeAsync(Guid keyId, Guid? userId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.ApiKeys
            .Where(k => k.Id == keyId && (userId == null || k.UserId == userId) && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken) == 1;
    }

    /// <summary>The key and its owner, if the key is genuine, not revoked, not expired.</summary>
    public async Task<(ApiKey Key, User Owner)?> ValidateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!presented.StartsWith(KeyStart, StringComparison.Ordinal) || presented.Length is < 20 or > 100 || presented.IndexOf('_', KeyStart.Length) is not 12)
        {
            return null;
        }

        var prefix = presented[..12];
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var key = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Prefix == prefix, cancellationToken);
        if (key is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(key.SecretHash), Encoding.ASCII.GetBytes(Hash(presented))))
        {
            return null;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        if (key.RevokedAt is not null || key.ExpiresAt <= now)
        {
            return null;
        }

        var owner = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == key.UserId, cancellationToken);
        if (owner is null)
        {
            return null;
        }

        if (key.LastUsedAt is null || key.LastUsedAt < now.AddMinutes(-1))
        {
            await db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        return (key, owner);
    }

    private static ApiKeyView View(ApiKey k) =>
        new(k.Id, k.Name, k.Prefix, k.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries), k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt);

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
