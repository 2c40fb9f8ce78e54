using Microsoft.Extensions.Options;

namespace ChatBot.ChatData.Database;

public enum DatabaseProvider
{
    Sqlite = 0,
    Postgres = 1,
    SqlServer = 2,
}

/// <summary>The <c>Database</c> section plus <c>ConnectionStrings:ChatBot</c>.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    public const string ConnectionStringName = "ChatBot";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply pending migrations at start. Always on for SQLite; off by default for server databases.</summary>
    public bool AutoMigrate { get; set; }

    /// <summary>From <c>ConnectionStrings:ChatBot</c>; for SQLite defaults to <c>data/chatbot.db</c> under the content root.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long a starting host keeps trying to reach a server database (it may start before the database does) before
    /// it gives up with one line saying why.
    /// </summary>
    public double StartupTimeoutSeconds { get; set; } = 120;

    public bool MigratesAtStart => Provider == DatabaseProvider.Sqlite || AutoMigrate;
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (!Enum.IsDefined(options.Provider))
        {
            return ValidateOptionsResult.Fail("Database:Provider must be Sqlite, Postgres or SqlServer.");
        }

        if (options.Provider != DatabaseProvider.Sqlite && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail($"ConnectionStrings:ChatBot is required when Database:Provider is {options.Provider}.");
        }

        if (options.StartupTimeoutSeconds is < 0 or > 3600)
        {
            return ValidateOptionsResult.Fail("Database:StartupTimeoutSeconds must be between 0 and 3600.");
        }

        return ValidateOptionsResult.Success;
    }
}
