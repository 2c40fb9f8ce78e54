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

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        // A verb comes first; everything else (--role web, --Key=value) is configuration.
        var verb = args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains('=', StringComparison.Ordinal) ? args[0] : null;
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
                default:
                    await Console.Error.WriteLineAsync($"Unknown command '{verb}'. Commands: migrate. Without a command the server starts.");
                    return 1;
            }
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {string.Join(" ", ex.Failures)}");
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

    private static async Task<int> MigrateAsync(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value; // validates
        var database = app.Services.GetRequiredService<ChatDatabase>();
        await database.MigrateAsync(CancellationToken.None);
        await Console.Out.WriteLineAsync($"The {options.Provider} database is migrated.");
        return 0;
    }
}
