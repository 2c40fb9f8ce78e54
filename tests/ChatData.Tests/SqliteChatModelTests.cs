using ChatBot.ChatData.Database;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.ChatData.Tests;

public sealed class SqliteChatModelTests : ChatModelTests
{
    private readonly TempDirectory _directory = new();

    protected override DatabaseOptions Options => new()
    {
        Provider = DatabaseProvider.Sqlite,
        ConnectionString = SqliteConnectionStrings.Resolve("Data Source=chat.db", _directory.Path),
    };

    public override Task InitializeAsync() => MigrateAsync();

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task EveryNativeConnection_HasTheSettings_OnFirstOpen_AndKeepsThemWhenThePoolReusesIt()
    {
        // Several contexts open at once: several native connections, each configured on its first open.
        var contexts = Enumerable.Range(0, 4).Select(_ => NewContext()).ToList();
        foreach (var db in contexts)
        {
            await db.Database.OpenConnectionAsync();
            Assert.Equal((10000L, 1L), await SettingsAsync(db));
        }

        // A setting changed behind the interceptor's back stays changed when the pool hands the connection out again:
        // the settings are sent once per native connection, not on every open.
        await Pragma(contexts[0], "PRAGMA synchronous=FULL;");
        foreach (var db in contexts)
        {
            await db.DisposeAsync();
        }

        // The same number of contexts at once again: the pool hands out the same native connections.
        var reused = new List<long>();
        var again = Enumerable.Range(0, 4).Select(_ => NewContext()).ToList();
        foreach (var db in again)
        {
            await db.Database.OpenConnectionAsync();
            var (timeout, synchronous) = await SettingsAsync(db);
            Assert.Equal(10000L, timeout);
            reused.Add(synchronous);
        }

        foreach (var db in again)
        {
            await db.DisposeAsync();
        }

        Assert.Contains(2L, reused); // FULL, as left by the first context

        // A fresh native connection (pool cleared) is configured again.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using var fresh = NewContext();
        await fresh.Database.OpenConnectionAsync();
        Assert.Equal((10000L, 1L), await SettingsAsync(fresh));
    }

    [Fact]
    public async Task Connections_AreOpenedWithoutEfsDecimalFunctions_WhichNoPartOfTheModelNeeds()
    {
        await using var db = NewContext();

        // EF registers ef_add, ef_compare, ... for decimal columns on every open; PlainSqliteConnection leaves them out.
        await db.Database.OpenConnectionAsync();
        var missing = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => Pragma(db, "SELECT ef_add(1, 2);"));
        Assert.Contains("no such function", missing.Message, StringComparison.Ordinal);

        // Which is safe only while no column is a decimal (SQLite has no decimal type: EF computes them with those functions).
        var decimals = db.Model.GetEntityTypes()
            .SelectMany(t => t.GetProperties())
            .Where(p => Nullable.GetUnderlyingType(p.ClrType) == typeof(decimal) || p.ClrType == typeof(decimal))
            .Select(p => $"{p.DeclaringType.DisplayName()}.{p.Name}");
        Assert.Empty(decimals);
    }

    private static async Task<(long Timeout, long Synchronous)> SettingsAsync(ChatDbContext db) =>
        (await Pragma(db, "PRAGMA busy_timeout;"), await Pragma(db, "PRAGMA synchronous;"));

    private static async Task<long> Pragma(ChatDbContext db, string sql)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void ConnectionString_RelativeDataSource_LivesUnderTheContentRoot()
    {
        var resolved = SqliteConnectionStrings.Resolve(null, _directory.Path);

        Assert.Contains(Path.Combine(_directory.Path, "data", "chatbot.db"), resolved, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_directory.Path, "data")));
    }
}
