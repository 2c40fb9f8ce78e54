using ChatBot.ChatData.Users;
using System.Globalization;
using ChatBot.BotHost.Knowledge;
using ChatBot.ChatData.Database;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Api;

/// <summary>
/// <c>apikey create --user &lt;email&gt; --scopes chat[,documents,admin] [--expires-days N] [--name N]</c>: a key for
/// automation, printed once on standard output (nothing else is); the creation is audited.
/// </summary>
internal static class ApiKeyCommand
{
    public const string Usage = "Usage: apikey create --user <email> --scopes chat[,documents,admin] [--expires-days N] [--name <name>]";

    public static async Task<int> RunAsync(IServiceProvider services, CommandArguments arguments, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var email = arguments.Option("user");
        var scopes = arguments.Option("scopes");
        var days = arguments.Option("expires-days");
        if (arguments.Positional is not ["create"] || email is null || scopes is null
            || (days is not null && !int.TryParse(days, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            await errors.WriteLineAsync(Usage);
            return 1;
        }

        var normalized = ChatData.Users.User.Normalize(email);
        await using var db = await services.GetRequiredService<IDbContextFactory<ChatDbContext>>().CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, cancellationToken);
        if (user is null)
        {
            await errors.WriteLineAsync($"No one with the email {email} has used ChatBot yet.");
            return 1;
        }

        try
        {
            var (key, secret) = await services.GetRequiredService<ApiKeys>().CreateAsync(
                user.Id, arguments.Option("name") ?? "automation", scopes.Split(','), days is null ? null : int.Parse(days, CultureInfo.InvariantCulture), null, cancellationToken);
            await services.GetRequiredService<ChatData.Audit.AuditLog>().WriteAsync("cli", null, "apikey.created", "user", user.Id.ToString(), new { key.Prefix, key.Scopes, key.ExpiresAt }, cancellationToken);
            await output.WriteLineAsync(secret);
            await errors.WriteLineAsync($"Created key {key.Prefix} for {user.DisplayName} ({string.Join(", ", key.Scopes)}{(key.ExpiresAt is { } at ? ", expires " + at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "")}). It is shown only now.");
            return 0;
        }
        catch (ArgumentException ex)
        {
            await errors.WriteLineAsync(ex.Message.Split(" (Parameter", StringSplitOptions.None)[0]);
            return 1;
        }
    }
}
