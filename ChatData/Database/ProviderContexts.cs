using Microsoft.EntityFrameworkCore;

namespace ChatBot.ChatData.Database;

/// <summary>The SQLite model and migrations (Migrations/Sqlite): the embedded default.</summary>
public sealed class SqliteChatDbContext(DbContextOptions<SqliteChatDbContext> options) : ChatDbContext(options);

/// <summary>The PostgreSQL model and migrations (Migrations/Postgres).</summary>
public sealed class PostgresChatDbContext(DbContextOptions<PostgresChatDbContext> options) : ChatDbContext(options);

/// <summary>The SQL Server model and migrations (Migrations/SqlServer). Compiled and migrated; no engine runs in our CI.</summary>
public sealed class SqlServerChatDbContext(DbContextOptions<SqlServerChatDbContext> options) : ChatDbContext(options);
