using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using ChatBot.ChatData.Usage;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.ChatData.Tests;

/// <summary>The same model checks on every provider we can run: migrations apply, rows round-trip, unique keys hold.</summary>
public abstract class ChatModelTests : IAsyncLifetime
{
    private static readonly DateTime Noon = new(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc);

    protected abstract DatabaseOptions Options { get; }

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    protected ChatDbContext NewContext()
    {
        var options = Options;
        return options.Provider switch
        {
            DatabaseProvider.Sqlite => new SqliteChatDbContext(Build<SqliteChatDbContext>(options)),
            DatabaseProvider.Postgres => new PostgresChatDbContext(Build<PostgresChatDbContext>(options)),
            _ => throw new InvalidOperationException(options.Provider.ToString()),
        };
    }

    protected async Task MigrateAsync()
    {
        await using var db = NewContext();
        await db.Database.MigrateAsync();
    }

    [Fact]
    public async Task Migrate_FreshDatabase_AppliesEveryMigrationAndSeedsRoleQuotas()
    {
        await using var db = NewContext();

        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
        var quotas = (await db.RoleQuotas.ToListAsync()).OrderBy(q => q.Role).ToList(); // stored by name, so sort here
        Assert.Equal([UserRole.User, UserRole.KnowledgeOwner, UserRole.Admin], quotas.Select(q => q.Role));
        Assert.Equal(200_000, quotas[0].DailyTokens);
        Assert.Null(quotas[2].MonthlyTokens);
    }

    [Fact]
    public async Task Model_EveryEntity_RoundTripsWithUtcTimesAndEnumNames()
    {
        var user = NewUser("Ada@Example.com");
        var conversation = new Conversation
        {
            Channel = Channel.Teams, TenantId = "tenant-1", ExternalId = "a:1", ThreadId = "1700000000.1",
            Kind = ConversationKind.Channel, Title = "VPN", OwnerUserId = user.Id, CreatedAt = Noon, UpdatedAt = Noon,
        };
        await using (var db = NewContext())
        {
            user.Identities.Add(new ChannelIdentity { Channel = Channel.Slack, TenantId = "T1", ExternalUserId = "U1", Email = "ada@example.com", CreatedAt = Noon });
            db.Users.Add(user);
            db.LocalAccounts.Add(new LocalAccount { UserId = user.Id, UserName = "Ada", NormalizedUserName = "ada", PasswordHash = "hash", CreatedAt = Noon });
            conversation.Messages.Add(new Message { UserId = user.Id, Role = MessageRole.User, Content = "How do I set up the VPN?", Tokens = 9, CreatedAt = Noon });
            conversation.Messages.Add(new Message
            {
                Role = MessageRole.Assistant, Content = "Open the client [1].", Tokens = 6, Model = "gpt-4o-mini",
                LatencyMs = 900, TimeToFirstTokenMs = 120, Feedback = 1, CitationsJson = "[]", ExternalMessageId = "m-2", CreatedAt = Noon,
            });
            db.Conversations.Add(conversation);
            db.UsageRecords.Add(new UsageRecord
            {
                UserId = user.Id, Channel = Channel.Teams, ConversationId = conversation.Id, Model = "gpt-4o-mini",
                InputTokens = 1200, OutputTokens = 80, CostMicroUsd = 228, LatencyMs = 900, TimeToFirstTokenMs = 120,
                Outcome = UsageOutcome.Answered, CreatedAt = Noon,
            });
            db.QuotaCounters.Add(new QuotaCounter { UserId = user.Id, Period = "day:2026-11-24", Used = 1280, UpdatedAt = Noon });
            db.Inbox.Add(NewInboxItem(Channel.Teams, "evt-1"));
            db.AuditLog.Add(new AuditEntry { At = Noon, ActorUserId = user.Id, Actor = "ada", Action = "user.role.changed", TargetType = "user", TargetId = user.Id.ToString(), Details = "{\"to\":\"Admin\"}" });
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            var loaded = await db.Users.Include(u => u.Identities).SingleAsync(u => u.Id == user.Id);
            Assert.Equal("ada@example.com", loaded.NormalizedEmail);
            Assert.Equal(UserRole.KnowledgeOwner, loaded.Role);
            Assert.Equal(50_000, loaded.DailyTokenQuota);
            Assert.Equal(DateTimeKind.Utc, loaded.CreatedAt.Kind);
            Assert.Equal(Noon, loaded.CreatedAt);
            Assert.Equal("U1", Assert.Single(loaded.Identities).ExternalUserId);

            var messages = await db.Messages.Where(m => m.ConversationId == conversation.Id).OrderBy(m => m.Id).ToListAsync();
            Assert.Equal([MessageRole.User, MessageRole.Assistant], messages.Select(m => m.Role));
            Assert.Equal(120, messages[1].TimeToFirstTokenMs);
            Assert.Equal(1, messages[1].Feedback);

            var usage = await db.UsageRecords.SingleAsync();
            Assert.Equal(228, usage.CostMicroUsd);
            Assert.Equal(UsageOutcome.Answered, usage.Outcome);
            Assert.Equal(1280, (await db.QuotaCounters.SingleAsync()).Used);
            Assert.Equal(InboxStatus.Pending, (await db.Inbox.SingleAsync()).Status);
            Assert.Equal("user.role.changed", (await db.AuditLog.SingleAsync()).Action);
            Assert.Equal("ada", (await db.LocalAccounts.SingleAsync()).NormalizedUserName);

            // Enums are stored by name, so the data reads the same from SQL.
            var roleText = await db.Database.SqlQueryRaw<string>(RoleSql, user.Id).SingleAsync();
            Assert.Equal("KnowledgeOwner", roleText);
        }
    }

    [Fact]
    public async Task Inbox_SecondRowWithSameChannelEventId_IsRefused()
    {
        await using (var db = NewContext())
        {
            db.Inbox.Add(NewInboxItem(Channel.Slack, "Ev123"));
            db.Inbox.Add(NewInboxItem(Channel.Teams, "Ev123")); // another channel may reuse the id
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            db.Inbox.Add(NewInboxItem(Channel.Slack, "Ev123"));
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }

        await using (var db = NewContext())
        {
            Assert.Equal(2, await db.Inbox.CountAsync());
        }
    }

    [Fact]
    public async Task Users_SameEmailTwice_IsRefused_ButManyUsersWithoutEmailAreFine()
    {
        await using (var db = NewContext())
        {
            db.Users.AddRange(NewUser("bob@example.com"), NewUser(null), NewUser(null));
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            db.Users.Add(NewUser("BOB@example.com"));
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
    }

    [Fact]
    public async Task ChannelIdentity_SameChannelTenantAndUserTwice_IsRefused()
    {
        var first = NewUser(null);
        var second = NewUser(null);
        await using (var db = NewContext())
        {
            db.Users.AddRange(first, second);
            db.ChannelIdentities.Add(new ChannelIdentity { UserId = first.Id, Channel = Channel.Teams, TenantId = "t", ExternalUserId = "aad-1", CreatedAt = Noon });
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            db.ChannelIdentities.Add(new ChannelIdentity { UserId = second.Id, Channel = Channel.Teams, TenantId = "t", ExternalUserId = "aad-1", CreatedAt = Noon });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
    }

    [Fact]
    public async Task Conversation_NewGenerationOfSameReference_IsAllowed_SameGenerationIsRefused()
    {
        await using (var db = NewContext())
        {
            db.Conversations.Add(NewConversation(generation: 0));
            db.Conversations.Add(NewConversation(generation: 1));
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            db.Conversations.Add(NewConversation(generation: 1));
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
    }

    [Fact]
    public async Task Conversation_Delete_RemovesItsMessages()
    {
        var conversation = NewConversation(0);
        conversation.Messages.Add(new Message { Role = MessageRole.User, Content = "hi", CreatedAt = Noon });
        await using (var db = NewContext())
        {
            db.Conversations.Add(conversation);
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            await db.Conversations.Where(c => c.Id == conversation.Id).ExecuteDeleteAsync();
            Assert.Equal(0, await db.Messages.CountAsync());
        }
    }

    protected virtual string RoleSql => "SELECT \"Role\" AS \"Value\" FROM \"Users\" WHERE \"Id\" = {0}";

    private static DbContextOptions<T> Build<T>(DatabaseOptions options)
        where T : DbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        ChatDatabase.Configure(builder, options);
        return builder.Options;
    }

    private static User NewUser(string? email) => new()
    {
        DisplayName = email ?? "No Email",
        Email = email,
        NormalizedEmail = User.Normalize(email),
        Role = UserRole.KnowledgeOwner,
        DailyTokenQuota = 50_000,
        CreatedAt = Noon,
    };

    private static Conversation NewConversation(int generation) => new()
    {
        Channel = Channel.Slack, TenantId = "T1", ExternalId = "C1", ThreadId = "", Generation = generation,
        Kind = ConversationKind.Personal, CreatedAt = Noon, UpdatedAt = Noon,
    };

    private static InboxItem NewInboxItem(Channel channel, string eventId) => new()
    {
        Channel = channel, EventId = eventId, ConversationKey = $"{channel}:C1", Payload = "{}", ReceivedAt = Noon,
    };
}
