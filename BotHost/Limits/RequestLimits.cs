using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using ChatBot.KnowledgeIngest;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Limits;

/// <summary>The <c>Limits</c> section: request sizes and the rate limits for requests nobody has authenticated yet.</summary>
public sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Largest request body for endpoints that do not take files (forms, JSON APIs). Webhooks have their own smaller caps.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Sign-in and registration attempts per client address per minute (account lockout still applies per account).</summary>
    public int SignInAttemptsPerMinute { get; set; } = 20;

    /// <summary>
    /// Requests to webhooks and the API refused as unauthenticated (forged or stale signatures and tokens, bad API keys)
    /// per client address per minute; past it, that address gets 429 on those paths without any verification work.
    /// Verified traffic never counts, so Slack and Teams are not slowed however busy they are.
    /// </summary>
    public int FailedVerificationsPerMinute { get; set; } = 60;
}

internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        var errors = new List<string>();
        if (options.MaxRequestBodyBytes is < 16 * 1024 or > 100L * 1024 * 1024)
        {
            errors.Add("Limits:MaxRequestBodyBytes must be between 16384 and 104857600.");
        }

        if (options.SignInAttemptsPerMinute is < 1 or > 100_000)
        {
            errors.Add("Limits:SignInAttemptsPerMinute must be between 1 and 100000.");
        }

        if (options.FailedVerificationsPerMinute is < 1 or > 100_000)
        {
            errors.Add("Limits:FailedVerificationsPerMinute must be between 1 and 100000.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class RequestLimitsExtensions
{
    private static readonly string[] SignInPaths = ["/signin", "/register"];

    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        builder.Services.AddSingleton<FailedVerificationLimiter>();
        // JSON bodies bound by minimal APIs: deeply nested input is refused long before it costs anything.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.MaxDepth = 32);
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                return ValueTask.CompletedTask;
            };
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!HttpMethods.IsPost(context.Request.Method)
                    || !SignInPaths.Any(p => context.Request.Path.Equals(p, StringComparison.OrdinalIgnoreCase)))
                {
                    return RateLimitPartition.GetNoLimiter("");
                }

                var perMinute = context.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value.SignInAttemptsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(ClientAddress(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
        });
        return builder;
    }

    /// <summary>Body-size caps per endpoint, the sign-in limiter, and the limiter for failed verifications.</summary>
    public static WebApplication UseRequestLimits(this WebApplication app)
    {
        app.UseMiddleware<RequestBodyLimit>();
        app.UseRateLimiter();
        app.UseMiddleware<FailedVerificationLimit>();
        return app;
    }

    /// <summary>The caller's address (the proxy's when behind one that is not configured as forwarded-headers trusted).</summary>
    public static string ClientAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString() : "unknown";
}

/// <summary>
/// Caps the request body: <see cref="LimitsOptions.MaxRequestBodyBytes"/> unless the endpoint says otherwise with
/// <c>[RequestSizeLimit]</c>; an endpoint marked <c>[DisableRequestSizeLimit]</c> takes files and gets the file limit
/// (<c>Knowledge:MaxFileBytes</c> plus 1 MB for the form), never "unlimited". A declared length over the cap is 413 at once.
/// </summary>
internal sealed class RequestBodyLimit(RequestDelegate next, IOptions<LimitsOptions> limits, IOptions<KnowledgeOptions> knowledge)
{
    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>();
        var limit = metadata is null
            ? limits.Value.MaxRequestBodyBytes
            : metadata.MaxRequestBodySize ?? knowledge.Value.MaxFileBytes + (1024 * 1024);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        if (context.Request.ContentLength > limit && metadata is null)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return context.Response.WriteAsJsonAsync(new { error = $"The request body is larger than {limit:N0} bytes, the limit for this endpoint." });
        }

        return next(context);
    }
}

/// <summary>Counts unauthenticated refusals per client address (a token bucket refilled every minute).</summary>
internal sealed class FailedVerificationLimiter(IOptions<LimitsOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.FailedVerificationsPerMinute,
            TokensPerPeriod = options.Value.FailedVerificationsPerMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public bool IsBlocked(string address) => _limiter.GetStatistics(address) is { CurrentAvailablePermits: <= 0 };

    public void RecordFailure(string address)
    {
        using var lease = _limiter.AttemptAcquire(address);
    }

    public void Dispose() => _limiter.Dispose();
}

/// <summary>
/// An address that keeps sending requests refused as unauthenticated (401) is answered 429 before any verification:
/// forged webhooks and key guessing stop costing signature checks and database reads. Only machine-to-machine paths
/// count (webhooks, the API): browsers of a whole company share one address, and an expired session there is a 401
/// that must not lock the others out.
/// </summary>
internal sealed partial class FailedVerificationLimit(RequestDelegate next, FailedVerificationLimiter limiter, ILogger<FailedVerificationLimit> logger)
{
    private static readonly string[] MachinePaths = ["/api/messages", "/api/slack", "/api/v1", "/v1"];

    public async Task InvokeAsync(HttpContext context)
    {
        if (!MachinePaths.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            await next(context);
            return;
        }

        var address = RequestLimitsExtensions.ClientAddress(context);
        if (limiter.IsBlocked(address))
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = "60";
            return;
        }

        await next(context);
        if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
        {
            limiter.RecordFailure(address);
            if (limiter.IsBlocked(address))
            {
                Log.Blocked(logger, address);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 950, Level = LogLevel.Warning, Message = "Too many unauthenticated requests from {Address}: answering 429 for up to a minute")]
        public static partial void Blocked(ILogger logger, string address);
    }
}
