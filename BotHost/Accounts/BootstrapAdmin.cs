using System.Security.Cryptography;
using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Audit;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Accounts;

/// <summary>
/// Creates the local account <c>admin</c> at first start: with Admin:BootstrapPassword when set (automated
/// deployments), otherwise with a generated password printed once to the console, to be changed at first sign-in.
/// Runs after the migration (hosted lifecycle services start in registration order).
/// </summary>
internal sealed partial class BootstrapAdmin(
    IDbContextFactory<ChatDbContext> contexts,
    AccountService accounts,
    AuditLog audit,
    IOptions<AdminOptions> options,
    ILogger<BootstrapAdmin> logger) : IHostedLifecycleService
{
    public const string UserName = "admin";

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            if (await db.LocalAccounts.AnyAsync(a => a.NormalizedUserName == UserName, cancellationToken))
            {
                return;
            }
        }

        var configured = options.Value.BootstrapPassword;
        var password = configured ?? Generate();
        try
        {
            var user = await accounts.CreateLocalAsync(UserName, "Administrator", null, UserRole.Admin, password, mustChangePassword: configured is null, cancellationToken);
            await audit.WriteAsync("system", null, "admin.bootstrapped", "user", user.Id.ToString(), new { generated = configured is null }, cancellationToken);
        }
        catch (DbUpdateException)
        {
            return; // another instance created it at the same moment
        }

        if (configured is null)
        {
            await Console.Out.WriteLineAsync(
                $"Created the admin account. User name: {UserName}  Password: {password}  (shown once; you will be asked to change it at first sign-in)");
        }

        Log.Created(logger, configured is null);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string Generate()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return string.Create(20, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Created the bootstrap admin account (generated password: {Generated})")]
        public static partial void Created(ILogger logger, bool generated);
    }
}
