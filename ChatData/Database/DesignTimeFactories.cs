using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ChatBot.ChatData.Database;

// Used only by `dotnet ef` to generate each provider's migrations; the connection strings are never opened for that.

internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteChatDbContext>
{
    public SqliteChatDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteChatDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresChatDbContext>
{
    public PostgresChatDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresChatDbContext>().UseNpgsql("Host=127.0.0.1;Database=chatbot_design").Options);
}

internal sealed class SqlServerDesignTimeFactory : IDesignTimeDbContextFactory<SqlServerChatDbContext>
{
    public SqlServerChatDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlServerChatDbContext>().UseSqlServer("Server=127.0.0.1;Database=chatbot_design;TrustServerCertificate=true").Options);
}
