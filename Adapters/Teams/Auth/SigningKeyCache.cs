using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace ChatBot.Adapters.Teams.Auth;

/// <summary>The keys of one OpenID metadata document, with each key's channel endorsements (Bot Framework extension).</summary>
internal sealed record SigningKeys(IReadOnlyDictionary<string, SecurityKey> Keys, IReadOnlyDictionary<string, string[]> Endorsements, DateTimeOffset FetchedAt)
{
    public static readonly SigningKeys Empty = new(new Dictionary<string, SecurityKey>(), new Dictionary<string, string[]>(), DateTimeOffset.MinValue);
}

/// <summary>
/// Fetches an OpenID metadata document and its JWKS asynchronously, keeps them for a day, and refreshes once when a
/// token names a key it does not know (keys roll over) — at most once every five minutes, so tokens with made-up key
/// ids cannot make us hammer the metadata endpoint. The JWKS is read as raw JSON because the Bot Framework puts
/// each key's <c>endorsements</c> (the channels it may sign for) beside the standard members.
/// </summary>
internal sealed partial class SigningKeyCache(HttpClient http, string metadataUrl, TimeProvider clock, ILogger logger) : IDisposable
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);
    private static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private SigningKeys _current = SigningKeys.Empty;
    private DateTimeOffset _lastAttempt = DateTimeOffset.MinValue;
    private DateTimeOffset _lastUnknownKeyRefresh = DateTimeOffset.MinValue;

    /// <summary>The keys, fetched when missing or a day old.</summary>
    public async Task<SigningKeys> GetAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        return clock.GetUtcNow() - current.FetchedAt < MaxAge ? current : await RefreshAsync(force: true, cancellationToken);
    }

    /// <summary>Fetches again because a token named an unknown key (unless that was just done).</summary>
    public Task<SigningKeys> RefreshForUnknownKeyAsync(CancellationToken cancellationToken) => RefreshAsync(force: false, cancellationToken);

    private async Task<SigningKeys> RefreshAsync(bool force, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetUtcNow();
            var skip = force
                ? now - _current.FetchedAt < MaxAge || now - _lastAttempt < FailureBackoff // fetched meanwhile, or failing just now
                : now - _lastUnknownKeyRefresh < MinRefreshInterval;
            if (skip)
            {
                return _current;
            }

            if (!force)
            {
                _lastUnknownKeyRefresh = now;
            }

            _lastAttempt = now;
            try
            {
                _current = await FetchAsync(now, cancellationToken);
                Log.Fetched(logger, metadataUrl, _current.Keys.Count);
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or ArgumentException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Keep the keys we had: a metadata outage must not lock every user out.
                Log.FetchFailed(logger, metadataUrl, ex.Message);
            }

            return _current;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<SigningKeys> FetchAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var metadata = JsonDocument.Parse(await http.GetStringAsync(new Uri(metadataUrl), cancellationToken));
        var jwksUri = metadata.RootElement.GetProperty("jwks_uri").GetString() ?? throw new InvalidOperationException("The metadata has no jwks_uri.");
        var jwksJson = await http.GetStringAsync(new Uri(jwksUri), cancellationToken);
        var keys = new Dictionary<string, SecurityKey>(StringComparer.Ordinal);
        foreach (var key in new JsonWebKeySet(jwksJson).GetSigningKeys())
        {
            if (!string.IsNullOrEmpty(key.KeyId))
            {
                keys[key.KeyId] = key;
            }
        }

        var endorsements = new Dictionary<string, string[]>(StringComparer.Ordinal);
        using var raw = JsonDocument.Parse(jwksJson);
        foreach (var key in raw.RootElement.GetProperty("keys").EnumerateArray())
        {
            if (key.TryGetProperty("kid", out var kid) && kid.GetString() is { } id
                && key.TryGetProperty("endorsements", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                endorsements[id] = [.. list.EnumerateArray().Select(e => e.GetString()).OfType<string>()];
            }
        }

        return new SigningKeys(keys, endorsements, now);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Debug, Message = "Fetched {Count} signing keys from {MetadataUrl}")]
        public static partial void Fetched(ILogger logger, string metadataUrl, int count);

        [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Could not fetch signing keys from {MetadataUrl}: {Reason}")]
        public static partial void FetchFailed(ILogger logger, string metadataUrl, string reason);
    }
}
