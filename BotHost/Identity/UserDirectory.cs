using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Identity;

/// <summary>
/// Finds the person behind a channel identity. First contact creates the user; a new identity whose email matches
/// an existing user joins that user, so one person on Teams, Slack and the web is one user.
/// </summary>
internal sealed partial class UserDirectory(
    IDbContextFactory<ChatDbContext> contexts,
    TimeProvider clock,
    ILogger<UserDirectory> logger)
{
    private static readonly TimeSpan LastSeenResolution = TimeSpan.FromMinutes(5);

    /// <param name="describe">
    /// Asks the channel for what the turn did not carry (a Teams user's email), only when the identity is new and has no email.
    /// </param>
    public async Task<User> ResolveAsync(ChannelKind channelKind, string tenantId, UserReference reference, CancellationToken cancellationToken, Func<CancellationToken, Task<UserReference?>>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var channel = (Channel)channelKind;
        // API keys and web chat sessions name our own user id: the person is that row, never a new one (even when an
        // erasure removed their identities while a session was still open: the erased row is suspended).
        if (channelKind is ChannelKind.Api or ChannelKind.Web && await OwnUserAsync(reference.Id, cancellationToken) is { } own)
        {
            return own;
        }

        if (channelKind == ChannelKind.Api)
        {
            throw new InvalidOperationException("An API turn for a user that no longer exists.");
        }

        for (var attempt = 0; ; attempt++)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var now = clock.GetUtcNow().UtcDateTime;
            var identity = await db.ChannelIdentities
                .Include(i => i.User)
                .SingleOrDefaultAsync(i => i.Channel == channel && i.TenantId == tenantId && i.ExternalUserId == reference.Id, cancellationToken);
            if (identity?.User is { } known)
            {
                await RefreshAsync(db, identity, known, reference, now, cancellationToken);
                return known;
            }

            if (reference.Email is null && describe is not null)
            {
                reference = await DescribeAsync(describe, reference, cancellationToken);
                describe = null;
            }

            var email = User.Normalize(reference.Email);
            var user = email is null ? null : await db.Users.SingleOrDefaultAsync(u => u.NormalizedEmail == email, cancellationToken);
            var isNewUser = user is null;
            user ??= new User
            {
                DisplayName = string.IsNullOrWhiteSpace(reference.DisplayName) ? reference.Id : reference.DisplayName,
                Email = reference.Email?.Trim(),
                NormalizedEmail = email,
                CreatedAt = now,
                LastSeenAt = now,
            };
            if (isNewUser)
            {
                db.Users.Add(user);
            }

            db.ChannelIdentities.Add(new ChannelIdentity
            {
                UserId = user.Id,
                Channel = channel,
                TenantId = tenantId,
                ExternalUserId = reference.Id,
                DisplayName = reference.DisplayName,
                Email = reference.Email,
                CreatedAt = now,
            });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                if (isNewUser)
                {
                    Log.UserCreated(logger, user.Id, channel);
                }
                else
                {
                    Log.IdentityLinked(logger, user.Id, channel);
                }

                return user;
            }
            catch (DbUpdateException) when (attempt < 2)
            {
                // Two first turns of one person at once: the other insert won; read it back.
            }
        }
    }

    /// <summary>Our own user row named by <paramref name="id"/> (web sessions and API keys), its last-seen time kept current.</summary>
    private async Task<User?> OwnUserAsync(string id, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var ownId))
        {
            return null;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var person = await db.Users.SingleOrDefaultAsync(u => u.Id == ownId, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        if (person is not null && (person.LastSeenAt is null || now - person.LastSeenAt > LastSeenResolution))
        {
            person.LastSeenAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        return person;
    }

    private async Task<UserReference> DescribeAsync(Func<CancellationToken, Task<UserReference?>> describe, UserReference reference, CancellationToken cancellationToken)
    {
        try
        {
            return await describe(cancellationToken) is { } described && described.Id == reference.Id ? described : reference;
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Without the email the person is still served; their identities just stay unlinked for now.
            Log.DescribeFailed(logger, ex.GetType().Name);
            return reference;
        }
    }

    private static async Task RefreshAsync(ChatDbContext db, ChannelIdentity identity, User user, UserReference reference, DateTime now, CancellationToken cancellationToken)
    {
        var changed = false;
        if (!string.IsNullOrWhiteSpace(reference.DisplayName) && identity.DisplayName != reference.DisplayName)
        {
            identity.DisplayName = reference.DisplayName;
            changed = true;
        }

        if (user.LastSeenAt is null || now - user.LastSeenAt > LastSeenResolution)
        {
            user.LastSeenAt = now;
            changed = true;
        }

        if (changed)
        {
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Created user {UserId} at first contact on {Channel}")]
        public static partial void UserCreated(ILogger logger, Guid userId, Channel channel);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Linked a {Channel} identity to user {UserId} by email")]
        public static partial void IdentityLinked(ILogger logger, Guid userId, Channel channel);

        [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Could not ask the channel about a new user ({Error}); continuing without their email")]
        public static partial void DescribeFailed(ILogger logger, string error);
    }
}
