using System.Security.Claims;
using System.Text.Encodings.Web;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Api;

/// <summary>
/// The "ApiKey" authentication scheme: <c>Authorization: Bearer cbk_…</c> (what OpenAI client libraries send) or
/// <c>X-Api-Key: cbk_…</c>. The principal is the key's owner with the owner's current role (a suspended owner keeps
/// none) and one <c>scope</c> claim per scope. Refusals are 401 with a JSON problem and a WWW-Authenticate header.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeys keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ScopeClaim = "scope";
    public const string KeyIdClaim = "api_key_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers["X-Api-Key"].ToString();
        var authorization = Request.Headers.Authorization.ToString();
        if (presented.Length == 0 && authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }

        if (presented.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        if (await keys.ValidateAsync(presented, Context.RequestAborted) is not { } found)
        {
            return AuthenticateResult.Fail("The API key is unknown, revoked or expired.");
        }

        var (key, owner) = found;
        var role = owner.IsSuspended ? UserRole.User : owner.Role;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, owner.Id.ToString()),
            new(ClaimTypes.Name, owner.DisplayName),
            new(ClaimTypes.Role, role.ToString()),
            new(KeyIdClaim, key.Id.ToString()),
        };
        if (owner.Email is not null)
        {
            claims.Add(new Claim(ClaimTypes.Email, owner.Email));
        }

        claims.AddRange(key.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => new Claim(ScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"ChatBot\"";
        await Response.WriteAsJsonAsync(new { error = new { message = "An API key is required: send it as 'Authorization: Bearer cbk_…'.", type = "invalid_request_error", code = "invalid_api_key" } });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new { error = new { message = "This API key's scopes or its owner's role do not allow this.", type = "permission_error", code = "insufficient_scope" } });
    }
}
