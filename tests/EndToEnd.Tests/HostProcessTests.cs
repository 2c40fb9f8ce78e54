using System.Net;
using ChatBot.TestSupport;
using Npgsql;

namespace ChatBot.EndToEnd.Tests;

/// <summary>The README's run command, as a real process: what a person starting ChatBot sees.</summary>
public sealed class HostProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Host_EmbeddedDefault_PrintsItsUrlsAndAnswersHealthz()
    {
        using var directory = new TempDirectory();
        await using var host = HostProcess.Start(new Dictionary<string, string>
        {
            ["ConnectionStrings__ChatBot"] = $"Data Source={directory.File("chatbot.db")}",
        });

        await host.WaitUntilHealthyAsync(StartTimeout);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"Web chat: http://127.0.0.1:{host.Port}/", host.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Admin portal: http://127.0.0.1:{host.Port}/admin", host.StandardOutput, StringComparison.Ordinal);
        Assert.True(File.Exists(directory.File("chatbot.db")));

        // The container health check: the same binary probes the running host, and fails against a closed port.
        await using var probe = HostProcess.Start(new Dictionary<string, string>(), "healthcheck", host.BaseAddress.ToString());
        Assert.Equal(0, await probe.WaitForExitAsync(StartTimeout));
        Assert.Contains("200 OK", probe.StandardOutput, StringComparison.Ordinal);
        await using var failing = HostProcess.Start(new Dictionary<string, string>(), "healthcheck", $"http://127.0.0.1:{LoopbackPorts.Free()}/");
        Assert.Equal(1, await failing.WaitForExitAsync(StartTimeout));
        Assert.StartsWith("Not healthy:", failing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_UnknownRole_RefusesToStartWithOneLine()
    {
        using var directory = new TempDirectory();
        await using var host = HostProcess.Start(
            new Dictionary<string, string> { ["ConnectionStrings__ChatBot"] = $"Data Source={directory.File("chatbot.db")}" },
            "--role", "frontend");

        Assert.Equal(2, await host.WaitForExitAsync(StartTimeout));
        var line = Assert.Single(host.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--role (Hosting:Role) must be web, worker or all, not 'frontend'.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_SlackEnabledWithoutSigningSecret_ExitsWithOneLineNamingTheKey()
    {
        using var directory = new TempDirectory();
        await using var host = HostProcess.Start(new Dictionary<string, string>
        {
            ["ConnectionStrings__ChatBot"] = $"Data Source={directory.File("chatbot.db")}",
            ["Slack__BotToken"] = "xoxb-test",
        });

        var exitCode = await host.WaitForExitAsync(StartTimeout);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(host.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Configuration error: Slack:SigningSecret is required", line, StringComparison.Ordinal);
        Assert.DoesNotContain("xoxb-test", host.StandardError + host.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_UnknownProvider_ExitsWithOneLineNamingTheKey()
    {
        await using var host = HostProcess.Start(new Dictionary<string, string> { ["Database__Provider"] = "Oracle" });

        var exitCode = await host.WaitForExitAsync(StartTimeout);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(host.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'Database:Provider'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_PostgresBehindAndNoAutoMigrate_RefusesToStartWithOneLineSayingHowToMigrate()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        await using var host = HostProcess.Start(new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__ChatBot"] = database.ConnectionString,
        });

        var exitCode = await host.WaitForExitAsync(StartTimeout);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(host.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^Database error: The Postgres database has \d+ pending migration\(s\)\. Run the host with the 'migrate' command first, or set Database:AutoMigrate=true\.$", line);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync()); // the schema was left alone
    }

    [Fact]
    public async Task MigrateVerb_Postgres_CreatesTheSchemaAndExits()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        await using var host = HostProcess.Start(
            new Dictionary<string, string>
            {
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__ChatBot"] = database.ConnectionString,
            },
            "migrate");

        var exitCode = await host.WaitForExitAsync(StartTimeout);

        Assert.True(exitCode == 0, host.StandardOutput + host.StandardError);
        Assert.Contains("The Postgres database is migrated.", host.StandardOutput, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('Users','Inbox','Messages','AuditLog')", connection);
        Assert.Equal(4L, await command.ExecuteScalarAsync());
    }
}
