using ChatBot.ChatData.Database;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Hosting;

/// <summary>The database schema is behind this build and nobody asked to migrate it at start.</summary>
internal sealed class DatabaseNotMigratedException(string message) : Exception(message);

/// <summary>
/// Migrates the database before anything else starts (SQLite always; server databases when Database:AutoMigrate=true),
/// or refuses to start when a server database is behind. <see cref="IHostedLifecycleService.StartingAsync"/> runs
/// before any hosted service, the web server included.
/// </summary>
internal sealed class DatabaseMigrationService(ChatDatabase database, IOptions<DatabaseOptions> options) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigratesAtStart)
        {
            await database.MigrateAsync(cancellationToken);
            return;
        }

        var pending = await database.PendingMigrationsAsync(cancellationToken);
        if (pending > 0)
        {
            throw new DatabaseNotMigratedException(
                $"The {options.Value.Provider} database has {pending} pending migration(s). Run the host with the 'migrate' command first, or set Database:AutoMigrate=true.");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
