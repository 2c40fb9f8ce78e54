using System.Security.Claims;
using ChatBot.Adapters;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Audit;
using ChatBot.BotHost.Identity;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace ChatBot.BotHost.Accounts;

/// <summary>
/// Sign-in with Microsoft Entra ID for the web chat and the portal: OpenID Connect, authorization code with PKCE,
/// the ID token checked against the tenant's published keys, issuer and audience. The person behind the token
/// (tenant + object id) becomes a web identity of a ChatBot user — the same user as on Teams and Slack when the
/// email matches — and signs in with the same cookie as a local account.
/// </summary>
internal static class EntraSignIn
{
    public const string Scheme = "Entra";
    public const string CallbackPath = "/signin-oidc";
    public const string ChallengePath = "/signin/entra";

    public static WebApplicationBuilder AddEntraSignIn(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EntraOptions>().BindConfiguration(EntraOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EntraOptions>, EntraOptionsValidator>();

        // The scheme exists only when Entra is configured. It is decided when the options are first read, not while
        // services are registered, so configuration from every source (including test hosts) counts.
        services.AddOptions<AuthenticationOptions>().Configure<IOptions<EntraOptions>>((authentication, entra) =>
        {
            if (entra.Value.Enabled)
            {
                authentication.AddScheme<OpenIdConnectHandler>(Scheme, entra.Value.ButtonText);
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<OpenIdConnectOptions>, OpenIdConnectPostConfigureOptions>());
        services.AddOptions<OpenIdConnectOptions>(Scheme).Configure<IOptions<EntraOptions>>((oidc, entra) => Configure(oidc, entra.Value));
        services.AddScoped<EntraSignInEvents>();
        return builder;
    }

    /// <summary><c>GET /signin/entra?returnUrl=…</c> starts the sign-in at Microsoft; 404 when Entra is not configured.</summary>
    public static WebApplication MapEntraSignIn(this WebApplication app)
    {
        app.MapGet(ChallengePath, (HttpContext context, IOptions<EntraOptions> entra, string? returnUrl) =>
        {
            if (!entra.Value.Enabled)
            {
                return Results.NotFound();
            }

            var target = !string.IsNullOrEmpty(returnUrl) && IsLocal(returnUrl) ? returnUrl : "/";
            return Results.Challenge(new AuthenticationProperties { RedirectUri = target }, [Scheme]);
        }).AllowAnonymous();
        return app;
    }

    private static void Configure(OpenIdConnectOptions oidc, EntraOptions entra)
    {
        if (!entra.Enabled)
        {
            return;
        }

        oidc.Authority = entra.Authority;
        oidc.ClientId = entra.ClientId;
        oidc.ClientSecret = entra.ClientSecret;
        oidc.ResponseType = OpenIdConnectResponseType.Code;
        oidc.ResponseMode = OpenIdConnectResponseMode.FormPost;
        oidc.UsePkce = true;
        oidc.Scope.Clear();
        oidc.Scope.Add("openid");
        oidc.Scope.Add("profile");
        oidc.Scope.Add("email");
        oidc.CallbackPath = CallbackPath;
        oidc.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        oidc.MapInboundClaims = false;
        oidc.SaveTokens = false;
        oidc.GetClaimsFromUserInfoEndpoint = false;
        oidc.DisableTelemetry = true;
        oidc.TokenValidationParameters.NameClaimType = "name";
        oidc.TokenValidationParameters.RoleClaimType = "roles";
        oidc.EventsType = typeof(EntraSignInEvents);

        var instance = new Uri(entra.Instance);
        oidc.RequireHttpsMetadata = !OptionsUrls.IsLoopback(instance);
        if (!oidc.RequireHttpsMetadata)
        {
            // A fake provider on a loopback address (tests): no https, so the correlation cookies cannot be Secure.
            // The provider and the host are then the same site, so Lax cookies still come back on its form post.
            oidc.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
            oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            oidc.NonceCookie.SameSite = SameSiteMode.Lax;
        }
    }

    private static bool IsLocal(string url) =>
        url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
}

/// <summary>What happens when Microsoft sends the person back: map them to a ChatBot user, or refuse with a reason.</summary>
internal sealed partial class EntraSignInEvents(
    IOptions<EntraOptions> options,
    UserDirectory directory,
    IDbContextFactory<ChatDbContext> contexts,
    AuditLog audit,
    ILogger<EntraSignInEvents> logger) : OpenIdConnectEvents
{
    /// <summary>
    /// Runs once every check has passed (signature, issuer, audience, lifetime, and the nonce, which the handler checks
    /// only after its TokenValidated event), so a refused token never creates or changes a user.
    /// </summary>
    public override async Task TicketReceived(TicketReceivedContext context)
    {
        var entra = options.Value;
        var token = context.Principal!;
        var objectId = token.FindFirstValue("oid");
        var tenantId = token.FindFirstValue("tid");
        if (string.IsNullOrEmpty(objectId) || string.IsNullOrEmpty(tenantId))
        {
            Refuse(context, "The ID token has no oid or tid claim.", "entra");
            return;
        }

        if (Guid.TryParse(entra.TenantId, out var configuredTenant) && !(Guid.TryParse(tenantId, out var tokenTenant) && tokenTenant == configuredTenant))
        {
            Refuse(context, "The ID token comes from another tenant.", "entra");
            return;
        }

        // Only the email claim links accounts (preferred_username is not verified and may be changed by the user).
        var email = token.FindFirstValue("email");
        var name = token.FindFirstValue("name") ?? email ?? objectId;
        var cancellationToken = context.HttpContext.RequestAborted;
        var user = await directory.ResolveAsync(ChannelKind.Web, tenantId, new UserReference(objectId, name, email), cancellationToken);
        if (user.IsSuspended)
        {
            await audit.WriteAsync(user.DisplayName, user.Id, "signin.refused.suspended", "user", user.Id.ToString(), new { method = "entra" }, cancellationToken);
            Refuse(context, $"user {user.Id} is suspended", "suspended");
            return;
        }

        if (entra.RolesFromAppRoles)
        {
            var role = RoleFrom(token.FindAll("roles").Select(c => c.Value), entra);
            if (role != user.Role)
            {
                await using var db = await contexts.CreateDbContextAsync(cancellationToken);
                await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.Role, role), cancellationToken);
                await audit.WriteAsync("entra", null, "user.role.changed", "user", user.Id.ToString(), new { from = user.Role.ToString(), to = role.ToString(), reason = "app roles" }, cancellationToken);
                user.Role = role;
            }
        }

        await audit.WriteAsync(user.DisplayName, user.Id, "signin", "user", user.Id.ToString(), new { method = "entra" }, cancellationToken);
        Log.SignedIn(logger, user.Id);
        context.Principal = AccountService.Principal(user, mustChangePassword: false, CookieAuthenticationDefaults.AuthenticationScheme);
    }

    public override Task RemoteFailure(RemoteFailureContext context)
    {
        // The reason from IdentityModel never holds the token (PII is hidden by default).
        Refuse(context, context.Failure?.Message ?? "unknown", "entra");
        return Task.CompletedTask;
    }

    /// <summary>Back to the sign-in page with a reason. (Fail() on a received ticket would still sign in.)</summary>
    private void Refuse<TOptions>(HandleRequestContext<TOptions> context, string reason, string error)
        where TOptions : AuthenticationSchemeOptions
    {
        Log.Failed(logger, reason);
        context.Response.Redirect("/signin?error=" + error);
        context.HandleResponse();
    }

    internal static UserRole RoleFrom(IEnumerable<string> appRoles, EntraOptions entra)
    {
        var roles = appRoles.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return roles.Contains(entra.AdminAppRole) ? UserRole.Admin
            : roles.Contains(entra.KnowledgeOwnerAppRole) ? UserRole.KnowledgeOwner
            : UserRole.User;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "User {UserId} signed in with Entra ID")]
        public static partial void SignedIn(ILogger logger, Guid userId);

        [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "Entra ID sign-in refused: {Reason}")]
        public static partial void Failed(ILogger logger, string reason);
    }
}
