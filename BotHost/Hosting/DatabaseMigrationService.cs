using System.Data.Common;
using System.Net.Sockets;
using ChatBot.ChatData.Database;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Hosting;

/// <summary>The database schema is behind this build and nobody asked to migrate it at start.</summary>
internal sealed class DatabaseNotMigratedException(string message) : Exception(message);

/// <summary>
/// Migrates the database before anything else starts (SQLite always; server databases when Database:AutoMigrate=true),
/// or refuses to start when a server database is behind. <see cref="IHostedLifecycleService.StartingAsync"/> runs
/// before any hosted service, the web server included. A server database that cannot be reached yet (hosts often start
/// before it) is tried again with a growing pause, each failure logged in one line, for
/// <c>Database:StartupTimeoutSeconds</c>; then start-up ends with one line saying why.
/// </summary>
internal sealed partial class DatabaseMigrationService(
    ChatDatabase database,
    IOptions<DatabaseOptions> options,
    TimeProvider clock,
    ILogger<DatabaseMigrationService> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(o.StartupTimeoutSeconds);
        var pause = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PrepareAsync(o, cancellationToken);
                return;
            }
            catch (Exception ex) when (o.Provider != DatabaseProvider.Sqlite && IsUnreachable(ex))
            {
                var reason = Reason(ex);
                if (clock.GetUtcNow() + pause > deadline)
                {
                    throw new DatabaseNotMigratedException(
                        $"Cannot reach the {o.Provider} database after {attempt} attempt(s) in {o.StartupTimeoutSeconds:0} s (Database:StartupTimeoutSeconds): {reason}");
                }

                Log.Unreachable(logger, o.Provider.ToString(), reason, pause.TotalSeconds, attempt);
                await Task.Delay(pause, clock, cancellationToken);
                pause = TimeSpan.FromSeconds(Math.Min(15, pause.TotalSeconds * 2));
            }
        }
    }

    private async Task PrepareAsync(DatabaseOptions o, CancellationToken cancellationToken)
    {
        if (o.MigratesAtStart)
        {
            await database.MigrateAsync(cancellationToken);
            return;
        }

        var pending = await database.PendingMigrationsAsync(cancellationToken);
        if (pending > 0)
        {
            throw new DatabaseNotMigratedException(
                $"The {o.Provider} database has {pending} pending migration(s). Run the host with the 'migrate' command first, or set Database:AutoMigrate=true.");
        }
    }

    /// <summary>Network-level failures (refused, unknown host, timeout, server starting up); not a wrong password or schema.</summary>
    private static bool IsUnreachable(Exception ex)
    {
        for (var e = (Exception?)ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException or TimeoutException:
                    return true;
                case DbException { IsTransient: true }:
                    return true;
                case Npgsql.PostgresException { SqlState: "57P03" }: // the database system is starting up
                    return true;
            }
        }

        return false;
    }

    /// <summary>The innermost message: the address and what went wrong, never the connection string.</summary>
    private static string Reason(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner == ex ? ex.Message : $"{ex.Message} ({inner.Message})";
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "Cannot reach the {Provider} database: {Reason}. Trying again in {PauseSeconds} s (attempt {Attempt})")]
        public static partial void Unreachable(ILogger logger, string provider, string reason, double pauseSeconds, int attempt);
    }
}
