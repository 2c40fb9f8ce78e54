using ChatBot.ChatData.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ChatBot.ChatData.Tests;

/// <summary>
/// Each provider's migration set matches the model (nobody forgot a migration), and SQL Server's
/// set generates a complete script. SQL Server itself cannot run on this machine.
/// </summary>
public sealed class MigrationSetTests
{
    public static TheoryData<string> Providers => new() { "Sqlite", "Postgres", "SqlServer" };

    [Theory]
    [MemberData(nameof(Providers))]
    public void MigrationSet_MatchesTheCurrentModel(string provider)
    {
        using var db = DesignTimeContext(provider);

        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.False(db.Database.HasPendingModelChanges(), $"The {provider} migrations are behind the model: add a migration for every provider.");
    }

    [Fact]
    public void SqlServer_IdempotentScript_CreatesEveryTableWithItsUniqueKeys()
    {
        using var db = DesignTimeContext("SqlServer");

        var script = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);

        foreach (var table in new[] { "Users", "ChannelIdentities", "LocalAccounts", "Conversations", "Messages", "UsageRecords", "RoleQuotas", "QuotaCounters", "Inbox", "AuditLog" })
        {
            Assert.Contains($"CREATE TABLE [{table}]", script, StringComparison.Ordinal);
        }

        Assert.Contains("CREATE UNIQUE INDEX [IX_Inbox_Channel_EventId]", script, StringComparison.Ordinal);
        Assert.Contains("WHERE [NormalizedEmail] IS NOT NULL", script, StringComparison.Ordinal);
        Assert.Contains("nvarchar(max)", script, StringComparison.Ordinal);
    }

    private static ChatDbContext DesignTimeContext(string provider) => provider switch
    {
        "Sqlite" => new SqliteDesignTimeFactory().CreateDbContext([]),
        "Postgres" => new PostgresDesignTimeFactory().CreateDbContext([]),
        "SqlServer" => new SqlServerDesignTimeFactory().CreateDbContext([]),
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };
}
