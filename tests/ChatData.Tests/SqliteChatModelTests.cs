using ChatBot.ChatData.Database;
using ChatBot.TestSupport;

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
    public void ConnectionString_RelativeDataSource_LivesUnderTheContentRoot()
    {
        var resolved = SqliteConnectionStrings.Resolve(null, _directory.Path);

        Assert.Contains(Path.Combine(_directory.Path, "data", "chatbot.db"), resolved, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_directory.Path, "data")));
    }
}
