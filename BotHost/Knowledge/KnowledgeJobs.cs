using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest;
using ChatBot.KnowledgeIngest.Ingestion;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.SqlServer;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Knowledge;

/// <summary>
/// Hangfire for ingestion, owned by this host rather than by Hangfire's static configuration: the job storage
/// (in memory for SQLite — our document table survives restarts, and recovery queues its unfinished rows again —,
/// PostgreSQL schema "hangfire", or SQL Server), the client, and a server that runs only when
/// <c>Knowledge:RunJobs</c> is on and stops within a bounded time.
/// </summary>
internal static class KnowledgeJobs
{
    public static IHostApplicationBuilder AddKnowledgeJobs(this IHostApplicationBuilder builder)
    {
        GlobalConfiguration.Configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();

        builder.Services.AddSingleton<JobStorage>(sp =>
        {
            var database = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            return database.Provider switch
            {
                DatabaseProvider.Postgres => new PostgreSqlStorage(
                    new NpgsqlConnectionFactory(database.ConnectionString!, PostgresOptions),
                    PostgresOptions),
                DatabaseProvider.SqlServer => new SqlServerStorage(database.ConnectionString!, new SqlServerStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true }),
                _ => new InMemoryStorage(new InMemoryStorageOptions()),
            };
        });
        builder.Services.AddSingleton<IBackgroundJobClient>(sp => new BackgroundJobClient(sp.GetRequiredService<JobStorage>()));
        builder.Services.AddSingleton<IIngestionScheduler, HangfireIngestionScheduler>();
        builder.Services.AddSingleton<IIngestionNotifier, ChannelIngestionNotifier>();
        builder.Services.AddSingleton<ChatBot.KnowledgeIngest.SharePoint.ISharePointSyncTrigger, HangfireSharePointSyncTrigger>();
        builder.Services.AddHostedService<KnowledgeJobServer>();
        return builder;
    }

    public const string DashboardPath = "/admin/jobs";

    /// <summary>
    /// Hangfire's dashboard under the portal, for admins only: people who are not signed in are sent to sign in, others
    /// get 403. Its forms use the host's antiforgery tokens; the storage connection string is never shown.
    /// </summary>
    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments(DashboardPath, StringComparison.OrdinalIgnoreCase) && context.User.Identity?.IsAuthenticated != true,
            branch => branch.Run(context => context.ChallengeAsync()));
        // The dashboard's middleware directly, not UseHangfireDashboard: that wants AddHangfire, which points Hangfire's
        // static log provider at this host's logger factory (several hosts run in one test process). Built at the
        // first request, not here: resolving the job storage reads (and validates) the database options,
        // and a configuration error must stop start-up with its one clear line, not crash while the pipeline is built.
        var dashboard = new Lazy<RequestDelegate>(() =>
        {
            var inner = new ApplicationBuilder(app.Services);
            inner.UseMiddleware<Hangfire.Dashboard.AspNetCoreDashboardMiddleware>(
                app.Services.GetRequiredService<JobStorage>(),
                new DashboardOptions
                {
                    Authorization = [new AdminsOnly()],
                    AppPath = "/admin",
                    DashboardTitle = "ChatBot jobs",
                    DisplayStorageConnectionString = false,
                },
                Hangfire.Dashboard.DashboardRoutes.Routes);
            return inner.Build();
        });
        app.Map(DashboardPath, branch => branch.Run(context => dashboard.Value(context)));
        return app;
    }

    private sealed class AdminsOnly : Hangfire.Dashboard.IDashboardAuthorizationFilter
    {
        public bool Authorize(Hangfire.Dashboard.DashboardContext context) =>
            Hangfire.Dashboard.AspNetCoreDashboardContextExtensions.GetHttpContext(context).User.IsInRole(AdminPortal.Security.PortalPolicies.AdminRole);
    }

    private static PostgreSqlStorageOptions PostgresOptions => new() { SchemaName = "hangfire", PrepareSchemaIfNecessary = true };
}

/// <summary>Runs the Hangfire workers in this process when <c>Knowledge:RunJobs</c> is on (read when the host starts).</summary>
internal sealed partial class KnowledgeJobServer(
    IServiceProvider services,
    IOptions<KnowledgeOptions> options,
    ILogger<KnowledgeJobServer> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private BackgroundJobServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.RunJobs)
        {
            Log.JobsOff(logger);
            return Task.CompletedTask;
        }

        _server = new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                WorkerCount = o.Workers,
                SchedulePollingInterval = TimeSpan.FromSeconds(1),
                ShutdownTimeout = TimeSpan.FromSeconds(5),
                StopTimeout = TimeSpan.FromSeconds(5),
                Activator = new ScopedJobActivator(services.GetRequiredService<IServiceScopeFactory>()),
                ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}",
            },
            services.GetRequiredService<JobStorage>());
        Log.JobsOn(logger, o.Workers);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host disposed while it was still stopping may have disposed the server already: then there is nothing to stop.
        if (Volatile.Read(ref _server) is not { } server)
        {
            return;
        }

        // Running jobs see their cancellation token fire; an interrupted document keeps its lease and is resumed later.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StopTimeout);
        try
        {
            server.SendStop();
            await server.WaitForShutdownAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Log.StopTimedOut(logger);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _server, null)?.Dispose();

    private sealed class ScopedJobActivator(IServiceScopeFactory scopes) : JobActivator
    {
        public override JobActivatorScope BeginScope(JobActivatorContext context) => new Scope(scopes.CreateScope());

        private sealed class Scope(IServiceScope scope) : JobActivatorScope
        {
            public override object Resolve(Type type) => ActivatorUtilities.GetServiceOrCreateInstance(scope.ServiceProvider, type);

            public override void DisposeScope() => scope.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "Ingestion jobs run here with {Workers} workers")]
        public static partial void JobsOn(ILogger logger, int workers);

        [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "Ingestion jobs do not run here (Knowledge:RunJobs=false)")]
        public static partial void JobsOff(ILogger logger);

        [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "Ingestion workers did not stop in time; unfinished documents resume after restart")]
        public static partial void StopTimedOut(ILogger logger);
    }
}
