using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using ChatBot.Adapters.Teams.Activities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Teams.Connector;

/// <summary>A connector call that failed; <see cref="Code"/> is the connector's error code when it sent one.</summary>
internal sealed class ConnectorException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

/// <summary>
/// The Bot Connector REST API (v3) at an activity's serviceUrl, with the bot's token. The token goes only to hosts on
/// <c>Teams:ServiceUrlHosts</c>. Sends are paced per conversation inside Teams' limits (7 a second, 60 in 30 seconds).
/// Retries only what is safe: 429 everywhere (honouring Retry-After); 412/5xx and network errors only for GET, PUT
/// and DELETE — a POST that may have landed is never sent again, or the user would see the message twice.
/// </summary>
internal sealed partial class ConnectorClient : IDisposable
{
    private const int MaxAttempts = 4;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly BotTokenClient _tokens;
    private readonly IOptions<TeamsOptions> _options;
    private readonly ILogger<ConnectorClient> _logger;
    private readonly PartitionedRateLimiter<string> _pace = PartitionedRateLimiter.CreateChained(
        PartitionedRateLimiter.Create<string, string>(conversation => RateLimitPartition.GetSlidingWindowLimiter(conversation, _ =>
            new SlidingWindowRateLimiterOptions { PermitLimit = 7, Window = TimeSpan.FromSeconds(1), SegmentsPerWindow = 4, QueueLimit = 1000 })),
        PartitionedRateLimiter.Create<string, string>(conversation => RateLimitPartition.GetSlidingWindowLimiter(conversation, _ =>
            new SlidingWindowRateLimiterOptions { PermitLimit = 60, Window = TimeSpan.FromSeconds(30), SegmentsPerWindow = 10, QueueLimit = 1000 })));

    public ConnectorClient(HttpClient http, BotTokenClient tokens, IOptions<TeamsOptions> options, ILogger<ConnectorClient> logger)
    {
        _http = http;
        _tokens = tokens;
        _options = options;
        _logger = logger;
    }

    /// <summary>Posts an activity to the conversation (as a reply to <paramref name="replyToId"/> when given); returns its id.</summary>
    public async Task<ConnectorResponse> SendAsync(string serviceUrl, string conversationId, JsonObject activity, string? replyToId, CancellationToken cancellationToken)
    {
        var path = $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities" + (replyToId is null ? "" : "/" + Uri.EscapeDataString(replyToId));
        return await CallAsync(HttpMethod.Post, serviceUrl, path, activity, conversationId, cancellationToken);
    }

    public Task<ConnectorResponse> UpdateAsync(string serviceUrl, string conversationId, string activityId, JsonObject activity, CancellationToken cancellationToken) =>
        CallAsync(HttpMethod.Put, serviceUrl, $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities/{Uri.EscapeDataString(activityId)}", activity, conversationId, cancellationToken);

    public Task<ConnectorResponse> DeleteAsync(string serviceUrl, string conversationId, string activityId, CancellationToken cancellationToken) =>
        CallAsync(HttpMethod.Delete, serviceUrl, $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities/{Uri.EscapeDataString(activityId)}", null, conversationId, cancellationToken);

    /// <summary>Opens (or finds) the 1:1 conversation with a user, for messages the bot starts itself; returns its id.</summary>
    public async Task<string> CreatePersonalConversationAsync(string serviceUrl, string botId, string userId, string tenantId, CancellationToken cancellationToken)
    {
        var parameters = new JsonObject
        {
            ["bot"] = new JsonObject { ["id"] = botId },
            ["members"] = new JsonArray(new JsonObject { ["id"] = userId }),
            ["channelData"] = new JsonObject { ["tenant"] = new JsonObject { ["id"] = tenantId } },
            ["isGroup"] = false,
            ["tenantId"] = tenantId,
        };
        var response = await CallAsync(HttpMethod.Post, serviceUrl, "v3/conversations", parameters, "create:" + userId, cancellationToken);
        return response.Id ?? throw new ConnectorException(502, "NoConversation", "The connector created no conversation.");
    }

    /// <summary>One member of a conversation, with their email and Entra object id; null when not a member.</summary>
    public async Task<TeamsMember?> GetMemberAsync(string serviceUrl, string conversationId, string userId, CancellationToken cancellationToken)
    {
        try
        {
            var response = await CallAsync(HttpMethod.Get, serviceUrl, $"v3/conversations/{Uri.EscapeDataString(conversationId)}/members/{Uri.EscapeDataString(userId)}", null, conversationId, cancellationToken);
            return response.Body?.Deserialize<TeamsMember>(Activity.Json);
        }
        catch (ConnectorException ex) when (ex.Status is 403 or 404)
        {
            return null;
        }
    }

    private async Task<ConnectorResponse> CallAsync(HttpMethod method, string serviceUrl, string path, JsonObject? body, string paceKey, CancellationToken cancellationToken)
    {
        var baseUri = TrustedBase(serviceUrl);
        var uri = new Uri(baseUri, path);
        var idempotent = method != HttpMethod.Post;
        for (var attempt = 1; ; attempt++)
        {
            using (var lease = await _pace.AcquireAsync(paceKey, 1, cancellationToken))
            {
                if (!lease.IsAcquired)
                {
                    throw new ConnectorException(429, "Paced", "Too many messages queued for this conversation.");
                }
            }

            HttpResponseMessage response;
            try
            {
                using var request = new HttpRequestMessage(method, uri);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _tokens.GetTokenAsync(cancellationToken));
                if (body is not null)
                {
                    request.Content = JsonContent.Create(body, options: Activity.Json);
                }

                response = await _http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex) when (idempotent && attempt < MaxAttempts)
            {
                Log.Retrying(_logger, method.Method, 0, attempt, ex.Message);
                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    var text = await response.Content.ReadAsStringAsync(cancellationToken);
                    var node = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text) as JsonObject;
                    return new ConnectorResponse((int)response.StatusCode, (string?)node?["id"], node);
                }

                var status = (int)response.StatusCode;
                var retryable = status == 429 || (idempotent && status is 412 or 500 or 502 or 503 or 504);
                var delay = RetryDelay(response, attempt);
                if (retryable && attempt < MaxAttempts && delay <= MaxRetryAfter)
                {
                    Log.Retrying(_logger, method.Method, status, attempt, "status");
                    await Task.Delay(delay, cancellationToken);
                    continue;
                }

                var (code, message) = await ErrorOfAsync(response, cancellationToken);
                Log.Failed(_logger, method.Method, status, code);
                throw new ConnectorException(status, code, message);
            }
        }
    }

    /// <summary>The serviceUrl as a base URI, if its host may receive the bot's token; otherwise nothing is sent.</summary>
    private Uri TrustedBase(string serviceUrl)
    {
        if (!Uri.TryCreate(serviceUrl.EndsWith('/') ? serviceUrl : serviceUrl + "/", UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && OptionsUrls.IsLoopback(uri)))
            || !_options.Value.ServiceUrlHosts.Any(h => HostMatches(uri.Host, h)))
        {
            throw new ConnectorException(0, "UntrustedServiceUrl", "The serviceUrl's host is not on Teams:ServiceUrlHosts; the bot's token is not sent there.");
        }

        return uri;
    }

    internal static bool HostMatches(string host, string pattern) =>
        pattern.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)
            : string.Equals(host, pattern, StringComparison.OrdinalIgnoreCase);

    private static TimeSpan RetryDelay(HttpResponseMessage response, int attempt)
    {
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta;
            }

            if (retryAfter.Date is { } date)
            {
                var wait = date - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return Backoff(attempt);
    }

    /// <summary>Exponential back-off with ±20 % jitter: about 0.5, 1, 2 s.</summary>
    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(500 * Math.Pow(2, attempt - 1) * (0.8 + (Random.Shared.NextDouble() * 0.4)));

    private static async Task<(string Code, string Message)> ErrorOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var fallback = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var error = (JsonNode.Parse(text) as JsonObject)?["error"];
            return ((string?)error?["code"] ?? fallback, (string?)error?["message"] ?? response.ReasonPhrase ?? fallback);
        }
        catch (JsonException)
        {
            return (fallback, response.ReasonPhrase ?? fallback);
        }
    }

    public void Dispose() => _pace.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 710, Level = LogLevel.Information, Message = "Connector {Method} got {Status} (attempt {Attempt}, {Reason}); retrying")]
        public static partial void Retrying(ILogger logger, string method, int status, int attempt, string reason);

        [LoggerMessage(EventId = 711, Level = LogLevel.Warning, Message = "Connector {Method} failed with {Status} {Code}")]
        public static partial void Failed(ILogger logger, string method, int status, string code);
    }
}

/// <param name="Id">The activity or conversation id the connector returned, when it returned one.</param>
internal sealed record ConnectorResponse(int Status, string? Id, JsonObject? Body);
