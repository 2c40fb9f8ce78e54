using ChatBot.BotHost.Knowledge;
using ChatBot.ChatData.Database;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Hosting;

/// <summary>
/// Runs the server, or one CLI verb with the server's configuration and exits.
/// A configuration error ends start-up with one readable line naming the key.
/// </summary>
internal static class ChatBotCommandLine
{
    public const int ConfigurationErrorExitCode = 2;

    /// <summary>A verb comes first; everything else (--role web, --Key=value) is configuration.</summary>
    public static string? VerbOf(string[] args) =>
        args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains('=', StringComparison.Ordinal) ? args[0] : null;

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var verb = VerbOf(args);
        try
        {
            // Validate every options class before the host starts, so a bad key is one line, not a hosting failure dump.
            app.Services.GetService<IStartupValidator>()?.Validate();
            switch (verb)
            {
                case null:
                    await app.RunAsync();
                    return 0;
                case "migrate":
                    return await MigrateAsync(app);
                case "ingest":
                    await PrepareDatabaseAsync(app);
                    return await KnowledgeCommands.IngestAsync(app.Services, new CommandArguments(args.Skip(1)), Console.Out, Console.Error, CancellationToken.None);
                case "search":
                    await PrepareDatabaseAsync(app);
                    return await KnowledgeCommands.SearchAsync(app.Services, new CommandArguments(args.Skip(1)), Console.Out, Console.Error, CancellationToken.None);
                case "sync":
                    await PrepareDatabaseAsync(app);
                    return await KnowledgeCommands.SyncAsync(app.Services, new CommandArguments(args.Skip(1)), Console.Out, Console.Error, CancellationToken.None);
                case "apikey":
                    await PrepareDatabaseAsync(app);
                    return await Api.ApiKeyCommand.RunAsync(app.Services, new CommandArguments(args.Skip(1)), Console.Out, Console.Error, CancellationToken.None);
                case "teams-package":
                    return await TeamsPackageCommand.RunAsync(app.Services, new CommandArguments(args.Skip(1)), Console.Out, Console.Error);
                default:
                    await Console.Error.WriteLineAsync($"Unknown command '{verb}'. Commands: migrate, ingest, search, sync, apikey, teams-package. Without a command the server starts.");
                    return 1;
            }
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {string.Join(" ", ex.Failures)}");
            return ConfigurationErrorExitCode;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            // Several options classes failed (or one failed while another was being built from it): each failure once.
            var failures = ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures).Distinct(StringComparer.Ordinal);
            await Console.Error.WriteLineAsync($"Configuration error: {string.Join(" ", failures)}");
            return ConfigurationErrorExitCode;
        }
        catch (DatabaseNotMigratedException ex)
        {
            await Console.Error.WriteLineAsync($"Database error: {ex.Message}");
            return ConfigurationErrorExitCode;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            await Console.Error.WriteLineAsync($"Configuration error: {ex.Message}");
            return ConfigurationErrorExitCode;
        }
    }

    /// <summary>What the server does at start, for verbs that use the database without starting it.</summary>
    private static async Task PrepareDatabaseAsync(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var database = app.Services.GetRequiredService<ChatDatabase>();
        if (options.MigratesAtStart)
        {
            await database.MigrateAsync(CancellationToken.None);
        }
        else if (await database.PendingMigrationsAsync(CancellationToken.None) is > 0 and var pending)
        {
            throw new DatabaseNotMigratedException($"The {options.Provider} database has {pending} pending migration(s). Run the 'migrate' command first.");
        }
    }

    private static async Task<int> MigrateAsync(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value; // validates
        var database = app.Services.GetRequiredService<ChatDatabase>();
        await database.MigrateAsync(CancellationToken.None);
        await Console.Out.WriteLineAsync($"The {options.Provider} database is migrated.");
        return 0;
    }
}
