using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.TestSupport;

/// <summary>
/// The real host in memory, with a SQLite database of its own (a file in a temp directory, migrated at start)
/// and whatever configuration a test adds. One factory never shares rows with another.
/// </summary>
public class ChatBotAppFactory : WebApplicationFactory<Program>
{
    private readonly TempDirectory _directory = new();
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Action<IServiceCollection>> _services = [];

    public ChatBotAppFactory()
    {
        _settings["ConnectionStrings:ChatBot"] = $"Data Source={DatabasePath}";
    }

    public string DatabasePath => _directory.File("chatbot.db");

    public string DataDirectory => _directory.Path;

    /// <summary>Adds or replaces a configuration value; call before the first client is created.</summary>
    public ChatBotAppFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Runs the host on <paramref name="database"/> (PostgreSQL), migrated at start.</summary>
    public ChatBotAppFactory WithPostgres(PostgresTestDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return With("Database:Provider", "Postgres")
            .With("Database:AutoMigrate", "true")
            .With("ConnectionStrings:ChatBot", database.ConnectionString);
    }

    /// <summary>Replaces services (a narrow seam, such as the knowledge retriever); call before the first client is created.</summary>
    public ChatBotAppFactory WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    /// <summary>Points the host at a fake OpenAI-compatible server with the given catalog (id, input $/M, output $/M).</summary>
    public ChatBotAppFactory WithModels(string endpoint, params (string Id, decimal InputPrice, decimal OutputPrice)[] models)
    {
        With("Llm:Provider", "OpenAICompatible").With("Llm:Endpoint", endpoint).With("Llm:ApiKey", "test-key");
        for (var i = 0; i < models.Length; i++)
        {
            With($"Llm:Models:{i}:Id", models[i].Id);
            With($"Llm:Models:{i}:InputPricePerMillion", models[i].InputPrice.ToString(System.Globalization.CultureInfo.InvariantCulture));
            With($"Llm:Models:{i}:OutputPricePerMillion", models[i].OutputPrice.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Fast failure paths for tests: small back-off and timeouts.
        return With("Llm:RetryDelaySeconds", "0.05").With("Llm:AttemptTimeoutSeconds", "3")
            .With("Llm:FirstTokenTimeoutSeconds", "4").With("Llm:IdleTimeoutSeconds", "2");
    }

    /// <summary>A context on the host's own database (dispose it).</summary>
    public ChatBot.ChatData.Database.ChatDbContext Db() =>
        Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<ChatBot.ChatData.Database.ChatDbContext>>().CreateDbContext();

    /// <summary>Polls the database until <paramref name="condition"/> holds (the host works asynchronously); throws after the timeout.</summary>
    public async Task WaitForAsync(Func<ChatBot.ChatData.Database.ChatDbContext, Task<bool>> condition, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            await using var db = Db();
            if (await condition(db))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"The condition did not hold within {limit.TotalSeconds} s.");
    }

    /// <summary>Starts the host on a free loopback port with Kestrel (for a real browser); returns its base URL without a trailing slash.</summary>
    public string StartOnLoopback()
    {
        UseKestrel(0);
        StartServer();
        return Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Testing");
        builder.UseSetting("Admin:BootstrapPassword", "bootstrap-password-for-tests");
        builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureTestServices(services =>
        {
            foreach (var configure in _services)
            {
                configure(services);
            }
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            _directory.Dispose();
        }
    }
}
