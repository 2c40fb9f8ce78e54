using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatBot.TestSupport.Fakes;

/// <summary>The person who "signs in" at the fake provider's authorize page.</summary>
public sealed record FakeSignInUser(string ObjectId, string Name, string? Email, params string[] Roles)
{
    public string TenantId { get; init; } = FakeOpenIdProvider.DefaultTenant;
}

/// <summary>How the next ID token is spoiled, to test that the host refuses it.</summary>
public enum IdTokenFault
{
    None,
    ForgedSignature,
    WrongAudience,
    WrongIssuer,
    WrongNonce,
    Expired,
    OtherTenant,
    NoObjectId,
}

/// <summary>
/// An OpenID Connect provider on 127.0.0.1 with Microsoft Entra ID's v2.0 endpoint layout
/// (<c>/{tenant}/v2.0/.well-known/openid-configuration</c>, <c>/{tenant}/discovery/v2.0/keys</c>,
/// <c>/{tenant}/oauth2/v2.0/authorize</c> and <c>/token</c>). The authorize page signs in <see cref="NextUser"/> at
/// once and answers with a self-submitting form post, as Entra does for <c>response_mode=form_post</c>; the token
/// endpoint checks the code, client secret, redirect URI and PKCE verifier before it issues an RS256 ID token.
/// </summary>
public sealed class FakeOpenIdProvider : IAsyncDisposable
{
    public const string DefaultTenant = "11111111-2222-3333-4444-555555555555";
    public const string ClientId = "web-client-id";
    public const string ClientSecret = "web-client-secret";

    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = NewKey("fake-key-1");
    private readonly RsaSecurityKey _foreignKey = NewKey("fake-key-1");
    private readonly ConcurrentDictionary<string, PendingCode> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _errors = new();
    private int _tokensIssued;

    private FakeOpenIdProvider(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>The value for <c>Entra:Instance</c>.</summary>
    public string Instance => BaseUrl + "/";

    /// <summary>Who signs in next; null means the person cancels (access_denied).</summary>
    public FakeSignInUser? NextUser { get; set; } = new("oid-ada", "Ada Lovelace", "ada@contoso.com");

    public IdTokenFault NextFault { get; set; }

    public int TokensIssued => _tokensIssued;

    /// <summary>Protocol mistakes the host made (bad client secret, missing PKCE, wrong redirect URI…).</summary>
    public IReadOnlyList<string> ProtocolErrors => [.. _errors];

    public string Issuer(string tenant) => $"{BaseUrl}/{tenant}/v2.0";

    public static async Task<FakeOpenIdProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var provider = new FakeOpenIdProvider(app);
        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) => Results.Json(provider.Metadata(tenant)));
        app.MapGet("/{tenant}/discovery/v2.0/keys", provider.Keys);
        app.MapGet("/{tenant}/oauth2/v2.0/authorize", provider.Authorize);
        app.MapPost("/{tenant}/oauth2/v2.0/token", provider.TokenAsync);
        await app.StartAsync();
        provider.BaseUrl = app.Urls.First().TrimEnd('/');
        return provider;
    }

    private Dictionary<string, object> Metadata(string tenant) => new()
    {
        ["issuer"] = Issuer(tenant),
        ["authorization_endpoint"] = $"{BaseUrl}/{tenant}/oauth2/v2.0/authorize",
        ["token_endpoint"] = $"{BaseUrl}/{tenant}/oauth2/v2.0/token",
        ["jwks_uri"] = $"{BaseUrl}/{tenant}/discovery/v2.0/keys",
        ["response_types_supported"] = new[] { "code", "id_token", "code id_token" },
        ["response_modes_supported"] = new[] { "query", "fragment", "form_post" },
        ["subject_types_supported"] = new[] { "pairwise" },
        ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        ["scopes_supported"] = new[] { "openid", "profile", "email", "offline_access" },
        ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "client_secret_basic" },
        ["code_challenge_methods_supported"] = new[] { "S256" },
    };

    private IResult Keys()
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(_key);
        return Results.Json(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", kid = _key.KeyId, n = jwk.N, e = jwk.E } },
        });
    }

    private IResult Authorize(string tenant, HttpRequest request)
    {
        var q = request.Query;
        string redirectUri = q["redirect_uri"]!;
        if (q["client_id"] != ClientId || string.IsNullOrEmpty(redirectUri))
        {
            _errors.Enqueue("authorize: unknown client or no redirect_uri");
            return Results.BadRequest("unknown client");
        }

        Expect(q["response_type"] == "code", "authorize: response_type is not code");
        Expect(q["response_mode"] == "form_post", "authorize: response_mode is not form_post");
        Expect(q["code_challenge_method"] == "S256" && !string.IsNullOrEmpty(q["code_challenge"]), "authorize: no S256 PKCE challenge");
        Expect(!string.IsNullOrEmpty(q["nonce"]), "authorize: no nonce");
        Expect(((string?)q["scope"] ?? "").Split(' ').Contains("openid"), "authorize: no openid scope");

        var fields = new Dictionary<string, string> { ["state"] = q["state"].ToString() };
        if (NextUser is { } user)
        {
            var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            _codes[code] = new PendingCode(tenant, redirectUri, q["nonce"]!, q["code_challenge"]!, user, NextFault);
            fields["code"] = code;
        }
        else
        {
            fields["error"] = "access_denied";
            fields["error_description"] = "AADSTS65004: User declined to consent to access the app.";
        }

        var html = new StringBuilder("<!doctype html><html><head><title>Working...</title></head><body onload=\"document.forms[0].submit()\">");
        html.Append("<form method=\"POST\" action=\"").Append(WebUtility.HtmlEncode(redirectUri)).Append("\">");
        foreach (var (name, value) in fields)
        {
            html.Append("<input type=\"hidden\" name=\"").Append(name).Append("\" value=\"").Append(WebUtility.HtmlEncode(value)).Append("\"/>");
        }

        html.Append("<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private async Task<IResult> TokenAsync(string tenant, HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        var (clientId, clientSecret) = ClientCredentials(request, form);
        if (clientId != ClientId || clientSecret != ClientSecret)
        {
            _errors.Enqueue("token: bad client credentials");
            return TokenError("invalid_client");
        }

        if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(form["code"].ToString(), out var pending) || pending.Tenant != tenant)
        {
            _errors.Enqueue("token: unknown or reused code");
            return TokenError("invalid_grant");
        }

        if (form["redirect_uri"] != pending.RedirectUri)
        {
            _errors.Enqueue("token: redirect_uri differs from the authorize request");
            return TokenError("invalid_grant");
        }

        var verifier = form["code_verifier"].ToString();
        var challenge = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (challenge != pending.CodeChallenge)
        {
            _errors.Enqueue("token: PKCE verifier does not match");
            return TokenError("invalid_grant");
        }

        Interlocked.Increment(ref _tokensIssued);
        return Results.Json(new
        {
            token_type = "Bearer",
            scope = "openid profile email",
            expires_in = 3600,
            access_token = "fake-access-token",
            id_token = IdToken(pending),
        });
    }

    /// <summary>An access token for an API, as Entra issues one to a client app (v2.0, RS256 with this provider's key).</summary>
    public string AccessToken(FakeSignInUser user, string audience, bool forged = false, bool expired = false)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["ver"] = "2.0", ["oid"] = user.ObjectId, ["tid"] = user.TenantId, ["name"] = user.Name, ["scp"] = "access_as_user" };
        if (user.Email is not null)
        {
            claims["preferred_username"] = user.Email;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer(user.TenantId),
            Audience = audience,
            IssuedAt = expired ? now.AddHours(-3) : now,
            NotBefore = expired ? now.AddHours(-3) : now,
            Expires = expired ? now.AddHours(-2) : now.AddHours(1),
            Claims = claims,
            SigningCredentials = new SigningCredentials(forged ? _foreignKey : _key, SecurityAlgorithms.RsaSha256),
        });
    }

    private string IdToken(PendingCode pending)
    {
        var user = pending.User;
        var fault = pending.Fault;
        var now = DateTime.UtcNow;
        var tenant = fault == IdTokenFault.OtherTenant ? "99999999-8888-7777-6666-555555555555" : user.TenantId;
        var claims = new Dictionary<string, object>
        {
            ["ver"] = "2.0",
            ["sub"] = "sub-" + user.ObjectId,
            ["tid"] = tenant,
            ["name"] = user.Name,
            ["nonce"] = fault == IdTokenFault.WrongNonce ? "a-nonce-from-another-sign-in" : pending.Nonce,
        };
        if (fault != IdTokenFault.NoObjectId)
        {
            claims["oid"] = user.ObjectId;
        }

        if (user.Email is not null)
        {
            claims["email"] = user.Email;
            claims["preferred_username"] = user.Email;
        }

        if (user.Roles.Length > 0)
        {
            claims["roles"] = user.Roles;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = fault == IdTokenFault.WrongIssuer ? "https://login.example.net/other/v2.0" : Issuer(fault == IdTokenFault.OtherTenant ? pending.Tenant : tenant),
            Audience = fault == IdTokenFault.WrongAudience ? "another-app" : ClientId,
            IssuedAt = fault == IdTokenFault.Expired ? now.AddHours(-3) : now,
            NotBefore = fault == IdTokenFault.Expired ? now.AddHours(-3) : now,
            Expires = fault == IdTokenFault.Expired ? now.AddHours(-2) : now.AddHours(1),
            Claims = claims,
            SigningCredentials = new SigningCredentials(fault == IdTokenFault.ForgedSignature ? _foreignKey : _key, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static (string? Id, string? Secret) ClientCredentials(HttpRequest request, IFormCollection form)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..])).Split(':', 2);
            return (Uri.UnescapeDataString(pair[0]), pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : null);
        }

        return (form["client_id"], form["client_secret"]);
    }

    private static IResult TokenError(string error) => Results.Json(new { error }, statusCode: 400);

    private void Expect(bool condition, string error)
    {
        if (!condition)
        {
            _errors.Enqueue(error);
        }
    }

    private static RsaSecurityKey NewKey(string keyId) => new(RSA.Create(2048)) { KeyId = keyId };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record PendingCode(string Tenant, string RedirectUri, string Nonce, string CodeChallenge, FakeSignInUser User, IdTokenFault Fault);
}
