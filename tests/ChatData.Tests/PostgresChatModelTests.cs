using ChatBot.ChatData.Database;
using ChatBot.TestSupport;

namespace ChatBot.ChatData.Tests;

/// <summary>Runs on the real PostgreSQL 15 that ./test.sh starts.</summary>
public sealed class PostgresChatModelTests : ChatModelTests
{
    private PostgresTestDatabase? _database;

    protected override DatabaseOptions Options => new()
    {
        Provider = DatabaseProvider.Postgres,
        ConnectionString = _database!.ConnectionString,
    };

    public override async Task InitializeAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync();
        await MigrateAsync();
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
