using System.Collections.Concurrent;
using System.Security.Claims;
using ChatBot.Adapters.Teams.Activities;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatBot.Adapters.Teams.Auth;

/// <summary>The verdict on one inbound request: accepted, or the reason it was not (for the log, never the token).</summary>
internal sealed record AuthResult(bool Accepted, string? Reason = null)
{
    public static readonly AuthResult Ok = new(true);

    public static AuthResult Refused(string reason) => new(false, reason);
}

/// <summary>
/// Checks the bearer token on <c>POST /api/messages</c> the way the Bot Framework requires, a little stricter than
/// its SDKs: the Bearer scheme; a key from the channel's OpenID metadata (refreshed once for an unknown key id);
/// issuer; audience = our app id; RS256/384/512 only; lifetime with five minutes of skew; the signing key endorsed
/// for the activity's <c>channelId</c> (a key without endorsements is refused); the <c>serviceurl</c> claim present
/// and equal to the activity's <c>serviceUrl</c>; and the tenant on the allow-list when there is one.
/// The channel sends the same token with every activity until it expires (about an hour), so a token that passed is
/// remembered until then: the signature and its claims are not checked again, but everything that depends on the
/// activity (endorsement, serviceUrl, tenant), the lifetime and the signing key still being published are. At a burst
/// of activities that saves the RSA verification (~85 µs of CPU each) on every one but the first.
/// </summary>
internal sealed class BotFrameworkAuthenticator : IDisposable
{
    private static readonly string[] Algorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512];

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    private const int MaxRememberedTokens = 1_000;

    private static readonly string[] EmulatorIssuers =
    [
        "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
        "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
        "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
        "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
    ];

    private readonly IOptions<TeamsOptions> _options;
    private readonly SigningKeyCache _channelKeys;
    private readonly SigningKeyCache? _emulatorKeys;
    private readonly TimeProvider _clock;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ConcurrentDictionary<string, VerifiedToken> _verified = new(StringComparer.Ordinal);

    public BotFrameworkAuthenticator(IOptions<TeamsOptions> options, IHttpClientFactory httpClients, IHostEnvironment environment, TimeProvider clock, ILogger<BotFrameworkAuthenticator> logger)
    {
        _options = options;
        _clock = clock;
        var http = httpClients.CreateClient(TeamsHttpClients.OpenId);
        _channelKeys = new SigningKeyCache(http, options.Value.OpenIdMetadataUrl, clock, logger);
        if (options.Value.DangerouslyAcceptEmulatorTokens && environment.IsDevelopment())
        {
            _emulatorKeys = new SigningKeyCache(http, options.Value.EmulatorOpenIdMetadataUrl, clock, logger);
        }
    }

    public async Task<AuthResult> AuthenticateAsync(string? authorization, Activity activity, CancellationToken cancellationToken)
    {
        var parts = authorization?.Split(' ');
        if (parts is not { Length: 2 } || parts[0] != "Bearer" || string.IsNullOrEmpty(parts[1]))
        {
            return AuthResult.Refused("no Bearer token");
        }

        var raw = parts[1];
        if (_verified.TryGetValue(raw, out var known))
        {
            var keys = await (known.FromEmulator ? _emulatorKeys! : _channelKeys).GetAsync(cancellationToken);
            if (IsLive(known) && keys.Keys.ContainsKey(known.Kid))
            {
                return Check(known, keys, activity);
            }

            _verified.TryRemove(raw, out _);
        }

        return await VerifyAsync(raw, activity, cancellationToken);
    }

    private async Task<AuthResult> VerifyAsync(string raw, Activity activity, CancellationToken cancellationToken)
    {
        var options = _options.Value;
        JsonWebToken token;
        try
        {
            token = _handler.ReadJsonWebToken(raw);
        }
        catch (ArgumentException)
        {
            return AuthResult.Refused("the token is not a JWT");
        }

        if (!Algorithms.Contains(token.Alg, StringComparer.Ordinal))
        {
            return AuthResult.Refused($"algorithm {token.Alg} is not allowed");
        }

        var fromEmulator = _emulatorKeys is not null && EmulatorIssuers.Contains(token.Issuer, StringComparer.Ordinal);
        var cache = fromEmulator ? _emulatorKeys! : _channelKeys;
        var keys = await cache.GetAsync(cancellationToken);
        if (!keys.Keys.ContainsKey(token.Kid ?? ""))
        {
            keys = await cache.RefreshForUnknownKeyAsync(cancellationToken);
            if (!keys.Keys.ContainsKey(token.Kid ?? ""))
            {
                return AuthResult.Refused("the signing key is unknown");
            }
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuers = fromEmulator ? EmulatorIssuers : [options.TokenIssuer],
            ValidateAudience = !fromEmulator,
            ValidAudience = options.AppId,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = ClockSkew,
            ValidAlgorithms = Algorithms,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            IssuerSigningKeys = keys.Keys.Values,
            LifetimeValidator = ValidLifetime,
        };
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            return AuthResult.Refused(Describe(result.Exception));
        }

        // Emulator tokens carry the app id in appid (v1) or azp (v2), and no endorsements.
        var emulatorAppId = !fromEmulator ? null
            : token.TryGetClaim("ver", out var ver) && ver.Value == "2.0" ? Claim(token, "azp") : Claim(token, "appid");
        var verified = new VerifiedToken(token.Kid!, fromEmulator, emulatorAppId, Claim(token, "serviceurl"),
            token.ValidFrom == DateTime.MinValue ? null : token.ValidFrom, token.ValidTo);
        Remember(raw, verified);
        return Check(verified, keys, activity);
    }

    /// <summary>What depends on the activity, checked on every request.</summary>
    private AuthResult Check(VerifiedToken token, SigningKeys keys, Activity activity)
    {
        var options = _options.Value;
        if (token.FromEmulator)
        {
            return token.EmulatorAppId == options.AppId ? AuthResult.Ok : AuthResult.Refused("the emulator token is for another app");
        }

        if (!keys.Endorsements.TryGetValue(token.Kid, out var endorsed))
        {
            return AuthResult.Refused("the signing key has no endorsements");
        }

        if (!string.IsNullOrEmpty(activity.ChannelId) && !endorsed.Contains(activity.ChannelId, StringComparer.OrdinalIgnoreCase))
        {
            return AuthResult.Refused($"the signing key is not endorsed for channel {activity.ChannelId}");
        }

        if (string.IsNullOrEmpty(token.ServiceUrl) || !string.Equals(token.ServiceUrl, activity.ServiceUrl, StringComparison.OrdinalIgnoreCase))
        {
            return AuthResult.Refused("the serviceurl claim is missing or differs from the activity's serviceUrl");
        }

        if (options.AllowedTenants.Length > 0 && !options.AllowedTenants.Contains(activity.TenantId ?? "", StringComparer.OrdinalIgnoreCase))
        {
            return AuthResult.Refused("the tenant is not allowed");
        }

        return AuthResult.Ok;
    }

    /// <summary>Keeps a verified token until it expires; a full memory is swept of expired tokens, or emptied.</summary>
    private void Remember(string raw, VerifiedToken token)
    {
        if (_verified.Count >= MaxRememberedTokens)
        {
            foreach (var (key, value) in _verified)
            {
                if (!IsLive(value))
                {
                    _verified.TryRemove(key, out _);
                }
            }

            if (_verified.Count >= MaxRememberedTokens)
            {
                _verified.Clear();
            }
        }

        _verified[raw] = token;
    }

    private bool IsLive(VerifiedToken token) => IsLive(token.NotBefore, token.Expires);

    /// <summary>Lifetime against our clock (not the machine's, so tests can move time), with five minutes of skew.</summary>
    private bool IsLive(DateTime? notBefore, DateTime? expires)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        return expires is { } exp && now <= exp + ClockSkew && (notBefore is not { } nbf || now >= nbf - ClockSkew);
    }

    private bool ValidLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters) =>
        IsLive(notBefore, expires);

    public void Dispose()
    {
        _channelKeys.Dispose();
        _emulatorKeys?.Dispose();
    }

    private static string? Claim(JsonWebToken token, string type) => token.TryGetClaim(type, out Claim? claim) ? claim.Value : null;

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenInvalidLifetimeException or SecurityTokenExpiredException or SecurityTokenNotYetValidException => "the token is expired or not yet valid",
        SecurityTokenInvalidAudienceException => "the token is for another app",
        SecurityTokenInvalidIssuerException => "the token has another issuer",
        SecurityTokenInvalidAlgorithmException => "the algorithm is not allowed",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "the signature is invalid",
        null => "the token is invalid",
        _ => "the token is invalid (" + exception.GetType().Name + ")",
    };
}

/// <summary>A token whose signature, issuer, audience and lifetime passed: what later requests still check against.</summary>
internal sealed record VerifiedToken(string Kid, bool FromEmulator, string? EmulatorAppId, string? ServiceUrl, DateTime? NotBefore, DateTime Expires);

/// <summary>Names of the Teams adapter's HTTP clients.</summary>
internal static class TeamsHttpClients
{
    public const string OpenId = "teams-openid";
    public const string Connector = "teams-connector";
    public const string Token = "teams-token";
    public const string Files = "teams-files";
}
