using System.Security.Cryptography;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Security;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Accounts;

/// <summary>
/// Single-use tokens in the database, so any host process sharing it accepts a token once: 32 random bytes
/// (base64url) handed out, their SHA-256 stored, and accepting deletes the row in one statement (a second attempt,
/// here or in another process, deletes nothing). Expired rows are swept when new ones are issued.
/// </summary>
internal sealed class SingleUseTokens(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock) : ISingleUseTokens
{
    public async Task<string> IssueAsync(string purpose, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(purpose);
        var token = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.SingleUseTokens.Where(t => t.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        db.SingleUseTokens.Add(new SingleUseToken { Purpose = purpose, TokenHash = Hash(token), ExpiresAt = now + lifetime });
        await db.SaveChangesAsync(cancellationToken);
        return token;
    }

    public async Task<bool> ConsumeAsync(string purpose, string token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 100)
        {
            return false;
        }

        var hash = Hash(token);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var deleted = await db.SingleUseTokens
            .Where(t => t.TokenHash == hash && t.Purpose == purpose && t.ExpiresAt >= now)
            .ExecuteDeleteAsync(cancellationToken);
        return deleted == 1;
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
}
