using ChatBot.ChatData.Database;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Hosting;

/// <summary>
/// Migrates the database before anything else starts (SQLite always; server databases when Database:AutoMigrate=true).
/// <see cref="IHostedLifecycleService.StartingAsync"/> runs before any hosted service, the web server included.
/// </summary>
internal sealed class DatabaseMigrationService(ChatDatabase database, IOptions<DatabaseOptions> options) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) =>
        options.Value.MigratesAtStart ? database.MigrateAsync(cancellationToken) : Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
