using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.ChatData.Database;

/// <summary>Provider selection and migrations for <see cref="ChatDbContext"/>.</summary>
public sealed partial class ChatDatabase(
    IDbContextFactory<ChatDbContext> contexts,
    IOptions<DatabaseOptions> options,
    ILogger<ChatDatabase> logger)
{
    public DatabaseProvider Provider => options.Value.Provider;

    /// <summary>Points <paramref name="builder"/> at the configured provider and its migration set.</summary>
    public static void Configure(DbContextOptionsBuilder builder, DatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var cs = options.ConnectionString ?? throw new InvalidOperationException("ConnectionStrings:ChatBot is not set.");
        switch (options.Provider)
        {
            case DatabaseProvider.Sqlite:
#pragma warning disable EF1001 // the connection service of EF's SQLite provider (see PlainSqliteConnection)
                builder.UseSqlite(cs).AddInterceptors(SqlitePragmas.Instance, SqliteWriteGate.Instance)
                    .ReplaceService<Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal.ISqliteRelationalConnection, PlainSqliteConnection>();
#pragma warning restore EF1001
                break;
            case DatabaseProvider.Postgres:
                builder.UseNpgsql(cs);
                break;
            case DatabaseProvider.SqlServer:
                builder.UseSqlServer(cs);
                break;
            default:
                throw new InvalidOperationException($"Database:Provider '{options.Provider}' is not supported.");
        }
    }

    /// <summary>Applies pending migrations. SQLite is switched to WAL so readers never wait for the writer.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            Log.ApplyingMigrations(logger, Provider, pending.Count);
            await db.Database.MigrateAsync(cancellationToken);
        }

        if (Provider == DatabaseProvider.Sqlite)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        Log.DatabaseReady(logger, Provider);
    }

    public async Task<int> PendingMigrationsAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Count();
    }

    /// <summary>True when the database answers a trivial query.</summary>
    public async Task<bool> CanConnectAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Database.CanConnectAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Applying {Count} migration(s) to the {Provider} database")]
        public static partial void ApplyingMigrations(ILogger logger, DatabaseProvider provider, int count);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "{Provider} database is up to date")]
        public static partial void DatabaseReady(ILogger logger, DatabaseProvider provider);
    }
}
