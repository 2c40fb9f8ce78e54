using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Kiota.Abstractions.Authentication;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>
/// App-only tokens for Graph: the OAuth 2.0 client-credentials grant against <c>Graph:TokenEndpoint</c> (by default the
/// tenant's Entra ID v2 endpoint), kept until five minutes before they expire. Tokens go only to the Graph host, never
/// to the pre-authenticated download links Graph redirects to.
/// </summary>
public sealed partial class GraphTokenProvider : IAccessTokenProvider, IDisposable
{
    public const string HttpClientName = "graph-token";

    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    private readonly IHttpClientFactory _http;
    private readonly IOptions<GraphOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<GraphTokenProvider> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string Token, DateTimeOffset Until)? _current;

    public GraphTokenProvider(IHttpClientFactory http, IOptions<GraphOptions> options, TimeProvider clock, ILogger<GraphTokenProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options;
        _clock = clock;
        _logger = logger;
        AllowedHostsValidator = new AllowedHostsValidator([new Uri(options.Value.BaseUrl).Host]);
    }

    public AllowedHostsValidator AllowedHostsValidator { get; }

    public async Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!AllowedHostsValidator.IsUrlHostValid(uri))
        {
            return "";
        }

        if (_current is { } cached && cached.Until > _clock.GetUtcNow())
        {
            return cached.Token;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } again && again.Until > _clock.GetUtcNow())
            {
                return again.Token;
            }

            var o = _options.Value;
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = o.ClientId!,
                ["client_secret"] = o.ClientSecret!,
                ["scope"] = o.Scope,
            });
            using var response = await _http.CreateClient(HttpClientName).PostAsync(new Uri(o.ResolvedTokenEndpoint), form, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var json = JsonNode.Parse(body) as JsonObject;
            if (!response.IsSuccessStatusCode || (string?)json?["access_token"] is not { Length: > 0 } token)
            {
                var error = (string?)json?["error"] ?? "http_" + (int)response.StatusCode;
                Log.TokenRefused(_logger, error);
                throw new GraphAuthenticationException($"Entra ID refused ChatBot's Graph credentials ({error}). Check Graph:TenantId, Graph:ClientId and Graph:ClientSecret.");
            }

            var lifetime = TimeSpan.FromSeconds((double?)json["expires_in"] ?? 3600);
            _current = (token, _clock.GetUtcNow() + (lifetime > Margin * 2 ? lifetime - Margin : lifetime / 2));
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 4601, Level = LogLevel.Error, Message = "Graph token request refused: {Error}")]
        public static partial void TokenRefused(ILogger logger, string error);
    }
}

/// <summary>The Graph credentials do not work; the message says which settings to check.</summary>
public sealed class GraphAuthenticationException : Exception
{
    public GraphAuthenticationException(string message)
        : base(message)
    {
    }

    public GraphAuthenticationException()
    {
    }

    public GraphAuthenticationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
