using ChatBot.Adapters.Slack.SocketMode;
using ChatBot.ChatData.Database;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatBot.BotHost.Health;

internal static class HealthExtensions
{
    private const string ReadyTag = "ready";

    public static WebApplicationBuilder AddHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag])
            // Degraded (still 200) while Slack Socket Mode is reconnecting; healthy when it is off or connected.
            .AddCheck<SlackSocketMode>("slack-socket-mode", tags: [ReadyTag])
            // Degraded (still 200) while no configured model endpoint answers.
            .AddCheck<ModelEndpointHealthCheck>("model-endpoint", tags: [ReadyTag]);
        builder.Services.AddSingleton<ModelEndpointHealthCheck>();
        builder.Services.AddHttpClient(ModelEndpointHealthCheck.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(3));
        return builder;
    }

    /// <summary>
    /// <c>/healthz</c>: the process is alive. <c>/readyz</c>: it can serve — the database answers (else 503), and
    /// Degraded (200) while Slack Socket Mode reconnects or no configured model endpoint answers.
    /// </summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        return app;
    }
}

internal sealed class DatabaseHealthCheck(ChatDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The database does not answer.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.", ex);
        }
    }
}

/// <summary>
/// Whether the configured model endpoints answer at all (any HTTP status counts: a 401 or 404 still proves the host is
/// reachable), checked at most every 30 s so frequent probes cost nothing. Unreachable is Degraded, not Unhealthy:
/// the host still serves (answers say the model is unavailable, extractive answers still work), so it stays in rotation.
/// </summary>
internal sealed class ModelEndpointHealthCheck(Models.ModelCatalog catalog, IHttpClientFactory clients, TimeProvider clock) : IHealthCheck, IDisposable
{
    public const string HttpClientName = "model-health";

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTimeOffset At, HealthCheckResult Result)? _last;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (catalog.IsExtractive)
        {
            return HealthCheckResult.Healthy("No model is configured: answers are extractive.");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_last is { } last && clock.GetUtcNow() - last.At < CacheFor)
            {
                return last.Result;
            }

            var result = await ProbeAsync(cancellationToken);
            _last = (clock.GetUtcNow(), result);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<HealthCheckResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var endpoints = catalog.All
            .Select(m => m.Endpoint ?? (m.Provider == Models.LlmProvider.Anthropic ? "https://api.anthropic.com" : m.Provider == Models.LlmProvider.OpenAI ? "https://api.openai.com/v1" : null))
            .OfType<string>()
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        var client = clients.CreateClient(HttpClientName);
        var unreachable = new List<string>();
        foreach (var endpoint in endpoints)
        {
            try
            {
                using var response = await client.GetAsync(new Uri(endpoint), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Only the host part: endpoints carry no secrets, but keep the message short.
                unreachable.Add(new Uri(endpoint).GetLeftPart(UriPartial.Authority));
            }
        }

        return unreachable.Count == 0
            ? HealthCheckResult.Healthy($"{endpoints.Count} model endpoint(s) reachable.")
            : HealthCheckResult.Degraded($"Model endpoint(s) not reachable: {string.Join(", ", unreachable)}.");
    }

    public void Dispose() => _gate.Dispose();
}
