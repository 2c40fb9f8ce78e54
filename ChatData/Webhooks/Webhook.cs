namespace ChatBot.ChatData.Webhooks;

/// <summary>The events an outgoing webhook can subscribe to.</summary>
public static class WebhookEvents
{
    public const string DocumentIndexed = "document.indexed";
    public const string DocumentFailed = "document.failed";
    public const string QuotaExhausted = "quota.exhausted";
    public const string FeedbackNegative = "feedback.negative";
    public const string UserSuspended = "user.suspended";

    public static readonly string[] All = [DocumentIndexed, DocumentFailed, QuotaExhausted, FeedbackNegative, UserSuspended];
}

/// <summary>
/// Where an admin wants events sent: an https URL (loopback allowed for tests), the events, and the secret the
/// receiver checks signatures with (stored encrypted, shown once).
/// </summary>
public sealed class WebhookEndpoint
{
    public long Id { get; set; }

    public required string Url { get; set; }

    /// <summary>Comma-separated event names.</summary>
    public required string Events { get; set; }

    /// <summary>The signing secret, encrypted by the host (ASP.NET Core Data Protection).</summary>
    public required string ProtectedSecret { get; set; }

    public string? Description { get; set; }

    public bool IsEnabled { get; set; } = true;

    public DateTime CreatedAt { get; set; }

    public bool Wants(string eventName) => Events.Split(',').Contains(eventName, StringComparer.Ordinal);
}

public enum WebhookDeliveryStatus
{
    Pending = 0,
    Delivered = 1,
    Failed = 2,
}

/// <summary>One event for one endpoint, with its attempts: the delivery log the portal shows.</summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }

    public long EndpointId { get; set; }

    public required string Event { get; set; }

    public required string Payload { get; set; }

    public WebhookDeliveryStatus Status { get; set; }

    public int Attempts { get; set; }

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? NextAttemptAt { get; set; }

    public DateTime? DeliveredAt { get; set; }
}

/// <summary>Sends an event to every enabled webhook that wants it (queued; delivery and retries happen in the background).</summary>
public interface IWebhookPublisher
{
    Task PublishAsync(string eventName, object data, CancellationToken cancellationToken);
}

/// <summary>Adds a webhook: validates the URL, makes its signing secret (returned once) and stores it encrypted.</summary>
public interface IWebhookRegistry
{
    Task<(WebhookEndpoint Endpoint, string Secret)> AddAsync(string url, IReadOnlyCollection<string> events, string? description, CancellationToken cancellationToken);
}
