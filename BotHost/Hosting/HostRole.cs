using ChatBot.KnowledgeIngest;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Hosting;

/// <summary>What one host process does; several processes share one database.</summary>
public enum HostRole
{
    /// <summary>Everything: one process is a whole deployment.</summary>
    All,

    /// <summary>HTTP: webhooks, web chat, portal, API. Runs only the turns whose answer streams to a browser it holds.</summary>
    Web,

    /// <summary>Background: channel turns (Teams, Slack), ingestion and other jobs. Serves only health and metrics.</summary>
    Worker,
}

/// <summary>
/// The role, from <c>--role web|worker|all</c> on the command line or <c>Hosting:Role</c>; <c>all</c> when neither is set.
/// A web role needs at least one worker (or all) process on the same database for channel turns and jobs.
/// </summary>
public sealed class HostingOptions
{
    public const string SectionName = "Hosting";

    public string Role { get; set; } = "all";

    public HostRole ParsedRole => Enum.Parse<HostRole>(Role, ignoreCase: true);

    /// <summary>Webhooks, pages and the API are mapped (not on a worker).</summary>
    public bool ServesHttp => ParsedRole != HostRole.Worker;

    /// <summary>Turns any host may run (channel turns, orphaned web turns) are claimed here (not on a web-only host).</summary>
    public bool RunsSharedTurns => ParsedRole != HostRole.Web;

    /// <summary>Ingestion and other Hangfire jobs run here (not on a web-only host).</summary>
    public bool RunsJobs => ParsedRole != HostRole.Web;
}

internal sealed class HostingOptionsValidator : IValidateOptions<HostingOptions>
{
    public ValidateOptionsResult Validate(string? name, HostingOptions options) =>
        Enum.TryParse<HostRole>(options.Role, ignoreCase: true, out var role) && Enum.IsDefined(role) && !int.TryParse(options.Role, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"--role (Hosting:Role) must be web, worker or all, not '{options.Role}'.");
}

internal static class HostRoleExtensions
{
    private static readonly string[] WorkerPaths = ["/healthz", "/readyz", "/metrics"];

    public static WebApplicationBuilder AddHostRole(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HostingOptions>()
            .BindConfiguration(HostingOptions.SectionName)
            // `--role web` arrives as the root key "role".
            .Configure<IConfiguration>((o, configuration) => o.Role = configuration["role"] ?? o.Role)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<HostingOptions>, HostingOptionsValidator>();
        // A web-only host leaves ingestion to the workers, whatever Knowledge:RunJobs says.
        builder.Services.AddOptions<KnowledgeOptions>().PostConfigure<IOptions<HostingOptions>>((knowledge, hosting) =>
        {
            if (!hosting.Value.RunsJobs)
            {
                knowledge.RunJobs = false;
            }
        });
        return builder;
    }

    /// <summary>A worker answers health checks and metrics only (404 for the rest): people and channels talk to the web hosts.</summary>
    public static WebApplication UseWorkerOnlyServesHealth(this WebApplication app)
    {
        var hosting = app.Services.GetRequiredService<IOptions<HostingOptions>>();
        // Read at the first request (options are validated at start, after the pipeline is built), then kept.
        var servesHttp = new Lazy<bool>(() => hosting.Value.ServesHttp);
        app.Use((context, next) =>
        {
            if (servesHttp.Value || WorkerPaths.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return app;
    }
}
