using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Telemetry;

/// <summary>
/// The <c>Telemetry</c> section. Metrics are served for Prometheus at <c>/metrics</c>; traces and metrics also go to an
/// OpenTelemetry collector when <c>Telemetry:OtlpEndpoint</c> (or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) is set.
/// </summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>Serve <c>/metrics</c> (Prometheus text format). Labels carry no personal data.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>An OTLP collector (for example http://otel-collector:4317) for traces and metrics.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>
    /// Record traces. Unset: only when an OTLP endpoint is configured (nobody would see them otherwise, and a span per
    /// request and HTTP call is work). True records them anyway (for an in-process exporter); false never.
    /// </summary>
    public bool? Traces { get; set; }

    /// <summary>How often the database-backed gauges (inbox, documents, jobs) are read.</summary>
    public double SampleSeconds { get; set; } = 15;
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var errors = new List<string>();
        if (options.SampleSeconds is < 1 or > 3600)
        {
            errors.Add("Telemetry:SampleSeconds must be between 1 and 3600.");
        }

        if (!string.IsNullOrEmpty(options.OtlpEndpoint) && !Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out _))
        {
            errors.Add("Telemetry:OtlpEndpoint must be an absolute URL.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
