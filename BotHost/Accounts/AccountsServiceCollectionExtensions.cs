using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;

namespace ChatBot.BotHost.Accounts;

internal static class AccountsServiceCollectionExtensions
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AccountService>();
        builder.Services.AddSingleton<Adapters.Turns.ISingleUseTokens, SingleUseTokens>();
        builder.Services.AddSingleton<AdminPortal.Pages.Users.IPortalAccounts, PortalAccounts>();
        // The key ring (sign-in cookies, encrypted Slack tokens and webhook secrets) lives in the database, so it survives
        // restarts and every host on the database (web and worker roles, several replicas) shares it.
        builder.Services.AddDataProtection()
            .SetApplicationName("ChatBot")
            .PersistKeysToDbContext<ChatData.Database.ChatDbContext>();
        builder.Services.AddHostedService<BootstrapAdmin>();
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/signin";
                o.LogoutPath = "/signout";
                o.AccessDeniedPath = "/signin";
                o.Cookie.Name = "chatbot.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = ctx => ApiOrRedirect(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => ApiOrRedirect(ctx, StatusCodes.Status403Forbidden);
                o.Events.OnValidatePrincipal = CookiePrincipalRefresh.ValidateAsync;
            });
        builder.Services.AddAuthorization();
        builder.AddEntraSignIn();
        return builder;
    }

    /// <summary>Programs calling the API get a status code, people get the sign-in page.</summary>
    private static Task ApiOrRedirect(Microsoft.AspNetCore.Authentication.RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }

        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}

internal static class AccountsApplicationBuilderExtensions
{
    /// <summary>A user who must change their password can do nothing else until they have.</summary>
    public static WebApplication UseMustChangePassword(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (context.User.HasClaim(AccountService.MustChangePasswordClaim, "true")
                && !path.StartsWithSegments("/account/password", StringComparison.OrdinalIgnoreCase)
                && !path.StartsWithSegments("/signout", StringComparison.OrdinalIgnoreCase)
                && !path.StartsWithSegments("/css", StringComparison.OrdinalIgnoreCase)
                && !path.StartsWithSegments("/js", StringComparison.OrdinalIgnoreCase))
            {
                if (path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return;
                }

                context.Response.Redirect("/account/password");
                return;
            }

            await next(context);
        });
        return app;
    }
}
