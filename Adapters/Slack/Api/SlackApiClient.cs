using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack.Api;

/// <summary>A Web API call answered <c>ok:false</c> (Slack's errors come with HTTP 200); <see cref="Error"/> is Slack's code.</summary>
internal sealed class SlackApiException(string method, string error) : Exception($"{method} failed: {error}")
{
    public string Method { get; } = method;

    public string Error { get; } = error;

    /// <summary>The token no longer works: the installation is gone.</summary>
    public bool IsAuthError => Error is "invalid_auth" or "token_revoked" or "account_inactive" or "not_authed" or "token_expired";
}

/// <summary>
/// The Slack Web API: <c>POST {Slack:ApiBaseUrl}{method}</c>, form-encoded (the one format every method accepts; objects
/// such as <c>blocks</c> are JSON strings), the workspace's bot token as Bearer (none for <c>oauth.v2.access</c>). <c>ok:false</c> becomes a
/// <see cref="SlackApiException"/> carrying Slack's code. HTTP 429 waits for Retry-After and tries again (up to three
/// times); each call waits on its own, so a throttled method in one channel holds up nothing else.
/// </summary>
internal sealed partial class SlackApiClient(HttpClient http, IOptions<SlackOptions> options, ILogger<SlackApiClient> logger)
{
    private const int MaxAttempts = 4;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    public Task<JsonObject> CallAsync(string token, string method, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken) =>
        SendAsync(new AuthenticationHeaderValue("Bearer", token), method, arguments, cancellationToken);

    /// <summary>Exchanges an OAuth code for the installation's tokens (<c>oauth.v2.access</c>, the app's credentials as HTTP Basic).</summary>
    public Task<JsonObject> OAuthAccessAsync(string clientId, string clientSecret, string code, string redirectUri, CancellationToken cancellationToken) =>
        SendAsync(
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(clientSecret)}"))),
            "oauth.v2.access",
            new Dictionary<string, object?> { ["code"] = code, ["redirect_uri"] = redirectUri },
            cancellationToken);

    private async Task<JsonObject> SendAsync(AuthenticationHeaderValue authorization, string method, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        var slack = options.Value;
        var fields = arguments
            .Where(a => a.Value is not null)
            .Select(a => new KeyValuePair<string, string>(a.Key, a.Value switch
            {
                string text => text,
                bool flag => flag ? "true" : "false",
                JsonNode node => node.ToJsonString(),
                var other => JsonSerializer.Serialize(other),
            }))
            .ToList();
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(slack.ApiBaseUrl), method))
            {
                Content = new FormUrlEncodedContent(fields),
            };
            request.Headers.Authorization = authorization;
            using var response = await http.SendAsync(request, cancellationToken);
            if ((int)response.StatusCode == 429 && attempt < MaxAttempts)
            {
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                if (wait <= MaxRetryAfter)
                {
                    Log.RateLimited(logger, method, wait.TotalSeconds);
                    await Task.Delay(wait, cancellationToken);
                    continue;
                }
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new SlackApiException(method, "http_" + (int)response.StatusCode);
            }

            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject
                ?? throw new SlackApiException(method, "invalid_response");
            if ((bool?)body["ok"] != true)
            {
                var error = (string?)body["error"] ?? "unknown_error";
                Log.Failed(logger, method, error);
                throw new SlackApiException(method, error);
            }

            return body;
        }
    }

    /// <summary>
    /// Posts a message to a slash command's <c>response_url</c> (no token: the URL is the credential). Only Slack's own
    /// https hosts (or a loopback test server) are accepted.
    /// </summary>
    public async Task PostToResponseUrlAsync(string responseUrl, JsonObject message, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(responseUrl, UriKind.Absolute, out var url)
            || !((url.Scheme == Uri.UriSchemeHttps && (url.Host == "slack.com" || url.Host.EndsWith(".slack.com", StringComparison.OrdinalIgnoreCase)))
                || (url.Scheme == Uri.UriSchemeHttp && OptionsUrls.IsLoopback(url))))
        {
            throw new SlackApiException("response_url", "untrusted_response_url");
        }

        using var response = await http.PostAsync(url, new StringContent(message.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new SlackApiException("response_url", "http_" + (int)response.StatusCode);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "Slack {Method} is rate limited; retrying in {Seconds} s")]
        public static partial void RateLimited(ILogger logger, string method, double seconds);

        [LoggerMessage(EventId = 801, Level = LogLevel.Warning, Message = "Slack {Method} answered {Error}")]
        public static partial void Failed(ILogger logger, string method, string error);
    }
}
