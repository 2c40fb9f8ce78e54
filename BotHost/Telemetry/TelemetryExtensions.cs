using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ChatBot.BotHost.Telemetry;

internal static class TelemetryExtensions
{
    private static readonly string[] UnTracedPaths = ["/healthz", "/readyz", "/metrics"];

    /// <summary>
    /// OpenTelemetry metrics (ChatBot's own, ASP.NET Core, HttpClient, runtime) and traces (webhook request → stored turn →
    /// turn → model and channel HTTP calls); Prometheus scraping at <c>/metrics</c>; OTLP when an endpoint is configured.
    /// </summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();
        builder.Services.AddSingleton<TelemetrySampler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TelemetrySampler>());
        builder.Services.AddSingleton<ChatBotMetrics>();

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("chatbot", serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(metrics => metrics
                .AddMeter(ChatBotMetrics.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .SetSampler(sp => new ConfiguredSampler(sp.GetRequiredService<IOptions<TelemetryOptions>>(), sp.GetRequiredService<IConfiguration>()))
                .AddSource(ChatBotMetrics.Name)
                .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                    !UnTracedPaths.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
                .AddHttpClientInstrumentation());

        var otlp = builder.Configuration[$"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.OtlpEndpoint)}"];
        if (!string.IsNullOrWhiteSpace(otlp) && Uri.TryCreate(otlp, UriKind.Absolute, out var endpoint))
        {
            otel.UseOtlpExporter(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, endpoint);
        }
        else if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary><c>/metrics</c> for Prometheus, unless <c>Telemetry:Prometheus</c> is off.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>();
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase) && !options.Value.Prometheus,
            branch => branch.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}

/// <summary>Parent-based always-on when traces are wanted (<see cref="TelemetryOptions.Traces"/>), otherwise nothing is recorded.</summary>
internal sealed class ConfiguredSampler(IOptions<TelemetryOptions> options, IConfiguration configuration) : Sampler
{
    private readonly Sampler _on = new ParentBasedSampler(new AlwaysOnSampler());
    private readonly Lazy<bool> _enabled = new(() => options.Value.Traces
        ?? (!string.IsNullOrWhiteSpace(options.Value.OtlpEndpoint) || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])));

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        _enabled.Value ? _on.ShouldSample(samplingParameters) : new SamplingResult(SamplingDecision.Drop);
}
