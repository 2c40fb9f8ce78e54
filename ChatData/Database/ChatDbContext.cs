using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Inbox;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Security;
using ChatBot.ChatData.Webhooks;
using ChatBot.ChatData.Usage;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace ChatBot.ChatData.Database;

/// <summary>
/// The chat data model. Each provider has a sealed subclass that owns its migration set
/// (<see cref="SqliteChatDbContext"/>, <see cref="PostgresChatDbContext"/>, <see cref="SqlServerChatDbContext"/>);
/// everything else asks for this type.
/// </summary>
public abstract class ChatDbContext(DbContextOptions options) : DbContext(options), Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.IDataProtectionKeyContext
{
    /// <summary>ASP.NET Core Data Protection's key ring, shared by every host on the database (cookies, encrypted tokens).</summary>
    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys => Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();

    public DbSet<User> Users => Set<User>();

    public DbSet<ChannelIdentity> ChannelIdentities => Set<ChannelIdentity>();

    public DbSet<LocalAccount> LocalAccounts => Set<LocalAccount>();

    public DbSet<Conversation> Conversations => Set<Conversation>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<UsageRecord> UsageRecords => Set<UsageRecord>();

    public DbSet<RoleQuota> RoleQuotas => Set<RoleQuota>();

    public DbSet<QuotaCounter> QuotaCounters => Set<QuotaCounter>();

    public DbSet<InboxItem> Inbox => Set<InboxItem>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<Document> Documents => Set<Document>();

    public DbSet<DocumentPrincipal> DocumentPrincipals => Set<DocumentPrincipal>();

    public DbSet<DocumentChunk> DocumentChunks => Set<DocumentChunk>();

    public DbSet<BotInstallation> BotInstallations => Set<BotInstallation>();

    public DbSet<SingleUseToken> SingleUseTokens => Set<SingleUseToken>();

    public DbSet<SharePointSource> SharePointSources => Set<SharePointSource>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();

    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    public DbSet<SharePointItem> SharePointItems => Set<SharePointItem>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // Every timestamp is UTC; SQLite hands them back unspecified, so say so on the way out.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcConverter>();
        configurationBuilder.Properties<Channel>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<UserRole>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<ConversationKind>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<MessageRole>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<InboxStatus>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<UsageOutcome>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<DocumentSource>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<DocumentScope>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<DocumentStatus>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<WebhookDeliveryStatus>().HaveConversion<string>().HaveMaxLength(16);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        modelBuilder.Entity<User>(e =>
        {
            e.Property(x => x.DisplayName).HasMaxLength(200);
            e.Property(x => x.Email).HasMaxLength(320);
            e.Property(x => x.NormalizedEmail).HasMaxLength(320);
            e.HasIndex(x => x.NormalizedEmail).IsUnique();
            e.HasIndex(x => x.DisplayName);
        });

        modelBuilder.Entity<ChannelIdentity>(e =>
        {
            e.Property(x => x.TenantId).HasMaxLength(200);
            e.Property(x => x.ExternalUserId).HasMaxLength(200);
            e.Property(x => x.DisplayName).HasMaxLength(200);
            e.Property(x => x.Email).HasMaxLength(320);
            e.HasIndex(x => new { x.Channel, x.TenantId, x.ExternalUserId }).IsUnique();
            e.HasOne(x => x.User).WithMany(u => u.Identities).HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<LocalAccount>(e =>
        {
            e.HasKey(x => x.UserId);
            e.Property(x => x.UserName).HasMaxLength(100);
            e.Property(x => x.NormalizedUserName).HasMaxLength(100);
            e.Property(x => x.PasswordHash).HasMaxLength(400);
            e.HasIndex(x => x.NormalizedUserName).IsUnique();
            e.HasOne(x => x.User).WithOne().HasForeignKey<LocalAccount>(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Conversation>(e =>
        {
            e.Property(x => x.TenantId).HasMaxLength(200);
            e.Property(x => x.ExternalId).HasMaxLength(400);
            e.Property(x => x.ThreadId).HasMaxLength(200);
            e.Property(x => x.Title).HasMaxLength(300);
            e.HasIndex(x => new { x.Channel, x.TenantId, x.ExternalId, x.ThreadId, x.Generation }).IsUnique();
            e.HasIndex(x => new { x.OwnerUserId, x.UpdatedAt });
        });

        modelBuilder.Entity<BotInstallation>(e =>
        {
            e.Property(x => x.TenantId).HasMaxLength(200);
            e.Property(x => x.ConversationId).HasMaxLength(400);
            e.Property(x => x.TeamId).HasMaxLength(400);
            e.Property(x => x.TeamName).HasMaxLength(300);
            e.Property(x => x.TeamGroupId).HasMaxLength(100);
            e.Property(x => x.AddressJson).HasMaxLength(4000);
            e.HasIndex(x => new { x.Channel, x.TenantId, x.ConversationId }).IsUnique();
            e.HasIndex(x => new { x.Channel, x.TenantId, x.TeamName });
        });

        modelBuilder.Entity<SharePointSource>(e =>
        {
            e.Property(x => x.SiteUrl).HasMaxLength(800);
            e.Property(x => x.Library).HasMaxLength(256);
            e.Property(x => x.Folder).HasMaxLength(800);
            e.Property(x => x.Include).HasMaxLength(2000);
            e.Property(x => x.Exclude).HasMaxLength(2000);
            e.Property(x => x.SiteId).HasMaxLength(400);
            e.Property(x => x.DriveId).HasMaxLength(200);
            e.Property(x => x.DeltaLink).HasMaxLength(4000);
            e.Property(x => x.LastError).HasMaxLength(2000);
            e.Ignore(x => x.DisplayName);
            e.HasIndex(x => new { x.SiteUrl, x.Library, x.Folder }).IsUnique();
        });

        modelBuilder.Entity<SharePointItem>(e =>
        {
            e.Property(x => x.ItemId).HasMaxLength(200);
            e.Property(x => x.ParentId).HasMaxLength(200);
            e.Property(x => x.Name).HasMaxLength(400);
            e.Property(x => x.CTag).HasMaxLength(400);
            e.Property(x => x.AccessHash).HasMaxLength(64);
            e.Property(x => x.SkippedReason).HasMaxLength(500);
            e.HasIndex(x => new { x.SourceId, x.ItemId }).IsUnique();
            e.HasIndex(x => new { x.SourceId, x.Generation });
            e.HasOne<SharePointSource>().WithMany().HasForeignKey(x => x.SourceId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ApiKey>(e =>
        {
            e.Property(x => x.Name).HasMaxLength(100);
            e.Property(x => x.Prefix).HasMaxLength(16);
            e.Property(x => x.SecretHash).HasMaxLength(64);
            e.Property(x => x.Scopes).HasMaxLength(64);
            e.HasIndex(x => x.Prefix).IsUnique();
            e.HasIndex(x => x.UserId);
            e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<WebhookEndpoint>(e =>
        {
            e.Property(x => x.Url).HasMaxLength(2000);
            e.Property(x => x.Events).HasMaxLength(400);
            e.Property(x => x.ProtectedSecret).HasMaxLength(1000);
            e.Property(x => x.Description).HasMaxLength(200);
        });

        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.Property(x => x.Event).HasMaxLength(64);
            e.Property(x => x.LastError).HasMaxLength(500);
            e.HasIndex(x => x.Status);
            e.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(x => x.EndpointId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<SingleUseToken>(e =>
        {
            e.Property(x => x.Purpose).HasMaxLength(64);
            e.Property(x => x.TokenHash).HasMaxLength(64);
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasIndex(x => x.ExpiresAt);
        });

        modelBuilder.Entity<Message>(e =>
        {
            e.Property(x => x.Model).HasMaxLength(100);
            e.Property(x => x.FeedbackComment).HasMaxLength(2000);
            e.Property(x => x.ExternalMessageId).HasMaxLength(200);
            e.HasOne(x => x.Conversation).WithMany(c => c.Messages).HasForeignKey(x => x.ConversationId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => new { x.ConversationId, x.Id });
            e.HasIndex(x => x.CreatedAt);
            e.HasIndex(x => x.InboxItemId);
            e.HasIndex(x => x.UserId);
        });

        modelBuilder.Entity<UsageRecord>(e =>
        {
            e.Property(x => x.Model).HasMaxLength(100);
            e.HasIndex(x => x.CreatedAt);
            e.HasIndex(x => new { x.UserId, x.CreatedAt });
        });

        modelBuilder.Entity<RoleQuota>(e =>
        {
            e.HasKey(x => x.Role);
            e.HasData(
                new RoleQuota { Role = UserRole.User, DailyTokens = 200_000, MonthlyTokens = 3_000_000, MessagesPerMinute = 10 },
                new RoleQuota { Role = UserRole.KnowledgeOwner, DailyTokens = 500_000, MonthlyTokens = 8_000_000, MessagesPerMinute = 20 },
                new RoleQuota { Role = UserRole.Admin, DailyTokens = null, MonthlyTokens = null, MessagesPerMinute = 60 });
        });

        modelBuilder.Entity<QuotaCounter>(e =>
        {
            e.HasKey(x => new { x.UserId, x.Period });
            e.Property(x => x.Period).HasMaxLength(32);
        });

        modelBuilder.Entity<InboxItem>(e =>
        {
            e.Property(x => x.EventId).HasMaxLength(200);
            e.Property(x => x.ConversationKey).HasMaxLength(500);
            e.Property(x => x.LeaseOwner).HasMaxLength(100);
            e.Property(x => x.Affinity).HasMaxLength(100);
            e.Property(x => x.TraceParent).HasMaxLength(64);
            e.Property(x => x.Error).HasMaxLength(2000);
            e.HasIndex(x => new { x.Channel, x.EventId }).IsUnique();
            e.HasIndex(x => new { x.Status, x.ConversationKey, x.Id });
        });

        modelBuilder.Entity<AuditEntry>(e =>
        {
            e.Property(x => x.Actor).HasMaxLength(200);
            e.Property(x => x.Action).HasMaxLength(100);
            e.Property(x => x.TargetType).HasMaxLength(100);
            e.Property(x => x.TargetId).HasMaxLength(200);
            e.Property(x => x.IpAddress).HasMaxLength(64);
            e.HasIndex(x => x.At);
        });

        modelBuilder.Entity<Document>(e =>
        {
            e.Property(x => x.Title).HasMaxLength(400);
            e.Property(x => x.SourceName).HasMaxLength(1000);
            e.Property(x => x.SourceKey).HasMaxLength(800);
            e.Property(x => x.Url).HasMaxLength(2000);
            e.Property(x => x.ContentType).HasMaxLength(200);
            e.Property(x => x.ContentHash).HasMaxLength(64);
            e.Property(x => x.BlobName).HasMaxLength(200);
            e.Property(x => x.ScopeKey).HasMaxLength(400);
            e.Property(x => x.FailureReason).HasMaxLength(2000);
            e.Property(x => x.LeaseOwner).HasMaxLength(100);
            e.Property(x => x.NotifyReference).HasMaxLength(4000);
            e.HasIndex(x => x.SourceKey).IsUnique();
            e.HasIndex(x => x.ContentHash);
            e.HasIndex(x => new { x.Status, x.LeaseUntil });
            e.HasMany(x => x.Principals).WithOne().HasForeignKey(x => x.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<DocumentPrincipal>(e =>
        {
            e.HasKey(x => new { x.DocumentId, x.Principal });
            e.Property(x => x.Principal).HasMaxLength(400);
        });

        modelBuilder.Entity<DocumentChunk>(e =>
        {
            e.Property(x => x.Heading).HasMaxLength(1000);
            e.Property(x => x.Section).HasMaxLength(1000);
            e.Property(x => x.AccessKeys).HasMaxLength(4000);
            e.HasIndex(x => new { x.DocumentId, x.Ordinal });
            e.HasOne<Document>().WithMany().HasForeignKey(x => x.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    private sealed class NullableUtcConverter() : ValueConverter<DateTime?, DateTime?>(
        v => v.HasValue ? (v.Value.Kind == DateTimeKind.Utc ? v : v.Value.ToUniversalTime()) : v,
        v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v);
}
