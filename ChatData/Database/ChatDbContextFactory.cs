using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;

namespace ChatBot.ChatData.Database;

/// <summary>
/// Hands out pooled contexts of the configured provider's type, so each provider runs its own migration set.
/// </summary>
internal sealed class ChatDbContextFactory : IDbContextFactory<ChatDbContext>
{
    private readonly Func<ChatDbContext> _create;

    public ChatDbContextFactory(IOptions<DatabaseOptions> options, IServiceProvider services)
    {
        var o = options.Value;
        _create = o.Provider switch
        {
            DatabaseProvider.Sqlite => Pooled<SqliteChatDbContext>(o, services),
            DatabaseProvider.Postgres => Pooled<PostgresChatDbContext>(o, services),
            DatabaseProvider.SqlServer => Pooled<SqlServerChatDbContext>(o, services),
            _ => throw new InvalidOperationException($"Database:Provider '{o.Provider}' is not supported."),
        };
    }

    public ChatDbContext CreateDbContext() => _create();

    private static Func<ChatDbContext> Pooled<T>(DatabaseOptions options, IServiceProvider services)
        where T : ChatDbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        ChatDatabase.Configure(builder, options);
        builder.UseApplicationServiceProvider(services);
        var pool = new PooledDbContextFactory<T>(builder.Options);
        return pool.CreateDbContext;
    }
}
