using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBot.ChatData.Database;

public static class ChatDataServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ChatDbContext"/> (and a pooled factory) for the configured provider,
    /// with <see cref="DatabaseOptions"/> validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddChatData(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var contentRoot = builder.Environment.ContentRootPath;

        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.SectionName)
            .PostConfigure<IConfiguration>((o, configuration) =>
            {
                o.ConnectionString ??= configuration.GetConnectionString(DatabaseOptions.ConnectionStringName);
                if (o.Provider == DatabaseProvider.Sqlite)
                {
                    o.ConnectionString = SqliteConnectionStrings.Resolve(o.ConnectionString, contentRoot);
                }
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        builder.Services.AddSingleton<IDbContextFactory<ChatDbContext>, ChatDbContextFactory>();
        builder.Services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<ChatDbContext>>().CreateDbContext());
        builder.Services.AddSingleton<ChatDatabase>();
        builder.Services.AddSingleton<Audit.AuditLog>();
        builder.Services.AddSingleton<Users.ApiKeys>();
        builder.Services.AddSingleton<Users.UserSuspensions>();
        return builder;
    }
}

internal static class SqliteConnectionStrings
{
    /// <summary>A SQLite connection string whose file lives under the content root unless an absolute path is given.</summary>
    public static string Resolve(string? connectionString, string contentRoot)
    {
        var csb = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(connectionString) ? "Data Source=data/chatbot.db" : connectionString);
        var isFile = !string.IsNullOrEmpty(csb.DataSource)
            && csb.Mode != SqliteOpenMode.Memory
            && !csb.DataSource.Equals(":memory:", StringComparison.OrdinalIgnoreCase);
        if (isFile && !Path.IsPathRooted(csb.DataSource))
        {
            csb.DataSource = Path.GetFullPath(Path.Combine(contentRoot, csb.DataSource));
        }

        if (isFile)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(csb.DataSource)!);
        }

        return csb.ToString();
    }
}
