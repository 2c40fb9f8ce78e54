using System.Security.Claims;
using ChatBot.BotHost.Accounts;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Api;

/// <summary>
/// Entra ID access tokens for the API, when <c>Entra:*</c> is configured: a client app (a script with MSAL, a Power
/// Platform connector) gets a token for ChatBot's app registration (audience its client id or <c>api://{id}</c>) and
/// sends it as a Bearer token. The token is checked against the tenant's keys, issuer, audience and lifetime; its
/// email (<c>preferred_username</c>) names the ChatBot user, who must have signed in once. Such a token acts with the
/// scopes the person's role allows (chat; documents for knowledge owners; admin for admins).
/// </summary>
internal static class EntraBearer
{
    public const string SchemeName = "EntraBearer";

    /// <summary>The scheme the API's policies use: an API key (<c>cbk_…</c>, or X-Api-Key) or, with Entra configured, an Entra token.</summary>
    public const string ApiSchemeName = "Api";

    public static AuthenticationBuilder AddApiAuthentication(this AuthenticationBuilder authentication)
    {
        authentication.AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        authentication.AddJwtBearer(SchemeName, _ => { });
        authentication.Services.AddOptions<JwtBearerOptions>(SchemeName).Configure<IOptions<EntraOptions>>((o, entra) =>
        {
            var e = entra.Value;
            if (!e.Enabled)
            {
                return;
            }

            o.Authority = e.Authority;
            o.RequireHttpsMetadata = !Adapters.OptionsUrls.IsLoopback(new Uri(e.Instance));
            o.MapInboundClaims = false;
            o.TokenValidationParameters.ValidAudiences = [e.ClientId!, "api://" + e.ClientId];
            o.TokenValidationParameters.ValidIssuer = e.Authority;
            o.Events = new JwtBearerEvents { OnTokenValidated = ToChatBotUserAsync };
        });
        authentication.AddPolicyScheme(ApiSchemeName, "API key or Entra token", o => o.ForwardDefaultSelector = context =>
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            var entraEnabled = context.RequestServices.GetRequiredService<IOptions<EntraOptions>>().Value.Enabled;
            return entraEnabled && authorization.StartsWith("Bearer ", StringComparison.Ordinal) && !authorization.StartsWith("Bearer " + ApiKeys.KeyStart, StringComparison.Ordinal)
                && !context.Request.Headers.ContainsKey("X-Api-Key")
                ? SchemeName
                : ApiKeyAuthenticationHandler.SchemeName;
        });
        return authentication;
    }

    private static async Task ToChatBotUserAsync(TokenValidatedContext context)
    {
        var email = context.Principal?.FindFirstValue("preferred_username") ?? context.Principal?.FindFirstValue("email") ?? context.Principal?.FindFirstValue("upn");
        var normalized = User.Normalize(email);
        if (normalized is null)
        {
            context.Fail("The token names no email.");
            return;
        }

        var contexts = context.HttpContext.RequestServices.GetRequiredService<IDbContextFactory<ChatDbContext>>();
        await using var db = await contexts.CreateDbContextAsync(context.HttpContext.RequestAborted);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, context.HttpContext.RequestAborted);
        if (user is null)
        {
            context.Fail("Sign in to ChatBot once before using the API with an Entra token.");
            return;
        }

        var role = user.IsSuspended ? UserRole.User : user.Role;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id.ToString()),
            new(ClaimTypes.Name, user.DisplayName),
            new(ClaimTypes.Role, role.ToString()),
            new(ApiKeyAuthenticationHandler.ScopeClaim, ApiScopes.Chat),
        };
        if (user.Email is not null)
        {
            claims.Add(new Claim(ClaimTypes.Email, user.Email));
        }

        if (role is UserRole.KnowledgeOwner or UserRole.Admin)
        {
            claims.Add(new Claim(ApiKeyAuthenticationHandler.ScopeClaim, ApiScopes.Documents));
        }

        if (role == UserRole.Admin)
        {
            claims.Add(new Claim(ApiKeyAuthenticationHandler.ScopeClaim, ApiScopes.Admin));
        }

        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
    }
}
