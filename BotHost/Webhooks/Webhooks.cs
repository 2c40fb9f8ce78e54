using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Webhooks;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Webhooks;

/// <summary>
/// Outgoing webhooks: an event becomes one delivery row per subscribed endpoint (the log the portal shows) and a
/// Hangfire job that posts it. The body is JSON <c>{ id, event, createdAt, data }</c>; the headers carry the event,
/// the delivery id, a timestamp and <c>X-ChatBot-Signature: sha256=HMAC-SHA256(secret, "{timestamp}.{body}")</c>, so
/// a receiver can check it came from ChatBot and is fresh. Failures (non-2xx, timeouts) are retried with back-off
/// (30 s, 2 min, 8 min, 32 min, about 2 h) and then marked failed; deliveries still pending at start are queued again.
/// </summary>
internal sealed partial class WebhookPublisher(
    IDbContextFactory<ChatDbContext> contexts,
    IBackgroundJobClient jobs,
    TimeProvider clock,
    ILogger<WebhookPublisher> logger) : IWebhookPublisher
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task PublishAsync(string eventName, object data, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var endpoints = (await db.WebhookEndpoints.AsNoTracking().Where(e => e.IsEnabled).ToListAsync(cancellationToken)).Where(e => e.Wants(eventName)).ToList();
        if (endpoints.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var deliveries = endpoints.Select(e => new WebhookDelivery { EndpointId = e.Id, Event = eventName, Payload = "", CreatedAt = now, NextAttemptAt = now }).ToList();
        db.WebhookDeliveries.AddRange(deliveries);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var delivery in deliveries)
        {
            // The body is fixed once (with its delivery id), so every retry sends the same bytes.
            delivery.Payload = JsonSerializer.Serialize(new { id = delivery.Id, @event = eventName, createdAt = now, data }, Json);
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var delivery in deliveries)
        {
            var id = delivery.Id;
            jobs.Enqueue<WebhookDeliveryJob>(j => j.RunAsync(id, CancellationToken.None));
        }

        Log.Published(logger, eventName, deliveries.Count);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Webhook event {Event} queued for {Count} endpoint(s)")]
        public static partial void Published(ILogger logger, string @event, int count);
    }
}

/// <summary>The signing secrets, encrypted at rest with the host's Data Protection keys.</summary>
internal sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("ChatBot.Webhooks.Secret.v1");

    public (string Secret, string Protected) New()
    {
        var secret = "whsec_" + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (secret, _protector.Protect(secret));
    }

    public string Reveal(string protectedSecret) => _protector.Unprotect(protectedSecret);

    public static string Signature(string secret, string timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body)));
}

/// <summary>Posts one delivery; on failure schedules the next attempt or gives up.</summary>
internal sealed partial class WebhookDeliveryJob(
    IDbContextFactory<ChatDbContext> contexts,
    IHttpClientFactory http,
    WebhookSecrets secrets,
    IBackgroundJobClient jobs,
    TimeProvider clock,
    ILogger<WebhookDeliveryJob> logger)
{
    public const string HttpClientName = "webhooks";
    public const int MaxAttempts = 6;

    [AutomaticRetry(Attempts = 0)] // our own back-off, recorded in the delivery row
    public async Task RunAsync(long deliveryId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var delivery = await db.WebhookDeliveries.SingleOrDefaultAsync(d => d.Id == deliveryId, cancellationToken);
        if (delivery is null || delivery.Status != WebhookDeliveryStatus.Pending)
        {
            return;
        }

        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == delivery.EndpointId, cancellationToken);
        if (endpoint is null || !endpoint.IsEnabled)
        {
            delivery.Status = WebhookDeliveryStatus.Failed;
            delivery.LastError = "The webhook was removed or disabled.";
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        delivery.Attempts++;
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-ChatBot-Event", delivery.Event);
            request.Headers.Add("X-ChatBot-Delivery", delivery.Id.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("X-ChatBot-Timestamp", timestamp);
            request.Headers.Add("X-ChatBot-Signature", WebhookSecrets.Signature(secrets.Reveal(endpoint.ProtectedSecret), timestamp, delivery.Payload));
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            delivery.LastStatusCode = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                delivery.Status = WebhookDeliveryStatus.Delivered;
                delivery.DeliveredAt = clock.GetUtcNow().UtcDateTime;
                delivery.LastError = null;
                delivery.NextAttemptAt = null;
                await db.SaveChangesAsync(cancellationToken);
                return;
            }

            delivery.LastError = $"The receiver answered {(int)response.StatusCode}.";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            delivery.LastStatusCode = null;
            delivery.LastError = ex is TaskCanceledException ? "The receiver did not answer in time." : "The receiver could not be reached.";
        }

        if (delivery.Attempts >= MaxAttempts)
        {
            delivery.Status = WebhookDeliveryStatus.Failed;
            delivery.NextAttemptAt = null;
            Log.GaveUp(logger, delivery.Id, delivery.Attempts);
        }
        else
        {
            var wait = TimeSpan.FromSeconds(30 * Math.Pow(4, delivery.Attempts - 1));
            delivery.NextAttemptAt = clock.GetUtcNow().UtcDateTime + wait;
            jobs.Schedule<WebhookDeliveryJob>(j => j.RunAsync(deliveryId, CancellationToken.None), wait);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} failed after {Attempts} attempts")]
        public static partial void GaveUp(ILogger logger, long deliveryId, int attempts);
    }
}

/// <summary>Queues again what was pending when the host stopped (the in-memory job queue of the embedded default is lost).</summary>
internal sealed class WebhookRecovery(IDbContextFactory<ChatDbContext> contexts, IBackgroundJobClient jobs, TimeProvider clock) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var pending = await db.WebhookDeliveries.AsNoTracking().Where(d => d.Status == WebhookDeliveryStatus.Pending).Select(d => new { d.Id, d.NextAttemptAt }).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var delivery in pending)
        {
            var id = delivery.Id;
            var wait = delivery.NextAttemptAt is { } at && at > now ? at - now : TimeSpan.Zero;
            jobs.Schedule<WebhookDeliveryJob>(j => j.RunAsync(id, CancellationToken.None), wait);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Adds webhooks: https URLs only (plain http for loopback receivers, as in tests), known events, a new secret.</summary>
internal sealed class WebhookRegistry(IDbContextFactory<ChatDbContext> contexts, WebhookSecrets secrets, TimeProvider clock) : IWebhookRegistry
{
    public async Task<(WebhookEndpoint Endpoint, string Secret)> AddAsync(string url, IReadOnlyCollection<string> events, string? description, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        Adapters.OptionsUrls.RequireHttpsOrLoopback(errors, "The URL", url?.Trim());
        if (errors.Count > 0)
        {
            throw new ArgumentException(errors[0], nameof(url));
        }

        var wanted = events.Where(e => WebhookEvents.All.Contains(e, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            throw new ArgumentException("Choose at least one event.", nameof(events));
        }

        var (secret, protectedSecret) = secrets.New();
        var endpoint = new WebhookEndpoint
        {
            Url = url!.Trim(),
            Events = string.Join(',', wanted),
            ProtectedSecret = protectedSecret,
            Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim(),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.WebhookEndpoints.Add(endpoint);
        await db.SaveChangesAsync(cancellationToken);
        return (endpoint, secret);
    }
}

internal static class WebhookServiceCollectionExtensions
{
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(WebhookDeliveryJob.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        builder.Services.AddSingleton<WebhookSecrets>();
        builder.Services.AddSingleton<IWebhookPublisher, WebhookPublisher>();
        builder.Services.AddSingleton<IWebhookRegistry, WebhookRegistry>();
        builder.Services.AddTransient<WebhookDeliveryJob>();
        builder.Services.AddHostedService<WebhookRecovery>();
        return builder;
    }
}
