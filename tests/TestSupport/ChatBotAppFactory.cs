using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace ChatBot.TestSupport;

/// <summary>
/// The real host in memory, with a SQLite database of its own (a file in a temp directory, migrated at start)
/// and whatever configuration a test adds. One factory never shares rows with another.
/// </summary>
public class ChatBotAppFactory : WebApplicationFactory<Program>
{
    private readonly TempDirectory _directory = new();
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);

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

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
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
