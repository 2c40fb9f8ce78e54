using System.Net;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack.Api;
using ChatBot.Adapters.Turns;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack.Installs;

/// <summary>
/// Slack's OAuth v2 install flow, for more workspaces than the one in configuration and for Enterprise Grid org-wide
/// installs. <c>GET /api/slack/install</c> (ChatBot admins only: installing the bot in a workspace opens the company's
/// knowledge to its members) sends the browser to Slack with a single-use <c>state</c>, also set as a cookie so the
/// callback must come back to the same browser. <c>GET /api/slack/oauth/callback</c> checks both, exchanges the code
/// (<c>oauth.v2.access</c>), asks <c>auth.test</c> for the bot id and stores the installation with its token encrypted.
/// 404 while Slack's client id and secret are not configured.
/// </summary>
internal sealed partial class SlackOAuth(
    SlackApiClient api,
    SlackInstallations installations,
    ISingleUseTokens tokens,
    IOptions<SlackOptions> options,
    ILogger<SlackOAuth> logger)
{
    public const string InstallPath = "/api/slack/install";
    public const string CallbackPath = "/api/slack/oauth/callback";
    public const string StateCookie = "chatbot.slack-install";
    private const string StatePurpose = "slack-install";
    private static readonly TimeSpan StateLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The bot scopes the app asks for: the manifest's list (a test keeps the two equal).</summary>
    public static readonly string[] BotScopes =
    [
        "app_mentions:read", "assistant:write", "channels:history", "channels:read", "chat:write", "commands", "files:read",
        "groups:history", "groups:read", "im:history", "im:read", "im:write", "mpim:history", "mpim:read", "reactions:write",
        "users:read", "users:read.email",
    ];

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(InstallPath, (HttpContext http, SlackOAuth oauth) => oauth.InstallAsync(http)).AllowAnonymous();
        endpoints.MapGet(CallbackPath, (HttpContext http, SlackOAuth oauth) => oauth.CallbackAsync(http)).AllowAnonymous();
    }

    private async Task<IResult> InstallAsync(HttpContext http)
    {
        var slack = options.Value;
        if (!slack.OAuthEnabled)
        {
            return Results.NotFound();
        }

        if (http.User.Identity?.IsAuthenticated != true)
        {
            return Results.Redirect("/signin?returnUrl=" + Uri.EscapeDataString(InstallPath));
        }

        if (!http.User.IsInRole("Admin"))
        {
            return Page(StatusCodes.Status403Forbidden, "Not allowed", "Only a ChatBot administrator can install ChatBot in a Slack workspace.");
        }

        var state = await tokens.IssueAsync(StatePurpose, StateLifetime, http.RequestAborted);
        http.Response.Cookies.Append(StateCookie, state, new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Lax, // sent on Slack's top-level redirect back to us
            Path = CallbackPath,
            MaxAge = StateLifetime,
        });
        var url = QueryHelpers.AddQueryString(slack.AuthorizeUrl, new Dictionary<string, string?>
        {
            ["client_id"] = slack.ClientId,
            ["scope"] = string.Join(',', BotScopes),
            ["user_scope"] = "",
            ["redirect_uri"] = RedirectUri(http),
            ["state"] = state,
        });
        return Results.Redirect(url);
    }

    private async Task<IResult> CallbackAsync(HttpContext http)
    {
        var slack = options.Value;
        if (!slack.OAuthEnabled)
        {
            return Results.NotFound();
        }

        var query = http.Request.Query;
        var state = query["state"].ToString();
        var cookie = http.Request.Cookies[StateCookie];
        http.Response.Cookies.Delete(StateCookie, new CookieOptions { Path = CallbackPath });
        if (state.Length == 0 || cookie is null || !string.Equals(state, cookie, StringComparison.Ordinal))
        {
            Log.Refused(logger, "state does not match this browser's");
            return Page(StatusCodes.Status400BadRequest, "Installation not started here", $"This install link was not started from this browser. Start again from {InstallPath}.");
        }

        if (!await tokens.ConsumeAsync(StatePurpose, state, http.RequestAborted))
        {
            Log.Refused(logger, "state expired or already used");
            return Page(StatusCodes.Status400BadRequest, "Installation link expired", $"This install link has expired or was already used. Start again from {InstallPath}.");
        }

        if (query["error"].ToString() is { Length: > 0 } error)
        {
            return Page(StatusCodes.Status200OK, "Installation cancelled", $"Slack did not install ChatBot ({error}). Nothing was changed.");
        }

        if (query["code"].ToString() is not { Length: > 0 and <= 500 } code)
        {
            return Page(StatusCodes.Status400BadRequest, "Installation failed", "Slack sent no authorization code.");
        }

        try
        {
            var access = await api.OAuthAccessAsync(slack.ClientId!, slack.ClientSecret!, code, RedirectUri(http), http.RequestAborted);
            var token = (string?)access["access_token"];
            if ((string?)access["token_type"] != "bot" || token is null || !token.StartsWith("xoxb-", StringComparison.Ordinal))
            {
                return Page(StatusCodes.Status502BadGateway, "Installation failed", "Slack did not return a bot token.");
            }

            var enterprise = (string?)access["enterprise"]?["id"];
            var team = (string?)access["team"]?["id"];
            var orgWide = (bool?)access["is_enterprise_install"] == true;
            var installationId = orgWide ? enterprise : team;
            if (installationId is null)
            {
                return Page(StatusCodes.Status502BadGateway, "Installation failed", "Slack did not say which workspace ChatBot was installed in.");
            }

            if (slack.AllowedTeams.Count > 0 && !slack.AllowedTeams.Contains(installationId, StringComparer.Ordinal)
                && !(enterprise is not null && slack.AllowedTeams.Contains(enterprise, StringComparer.Ordinal)))
            {
                Log.Refused(logger, $"{installationId} is not in Slack:AllowedTeams");
                await RevokeAsync(token);
                return Page(StatusCodes.Status403Forbidden, "Workspace not allowed", "This Slack workspace is not one ChatBot may be installed in. Ask your ChatBot administrator to add it to Slack:AllowedTeams.");
            }

            // oauth.v2.access does not say the bot id (needed to ignore the bot's own messages): auth.test does.
            var bot = SlackInstallations.FromAuthTest(await api.CallAsync(token, "auth.test", new Dictionary<string, object?>(), http.RequestAborted), token);
            var teamName = (string?)access["team"]?["name"] ?? (string?)access["enterprise"]?["name"];
            await installations.SaveAsync(bot, teamName, (string?)access["authed_user"]?["id"], (string?)access["scope"] ?? "", http.RequestAborted);
            return Page(StatusCodes.Status200OK, "ChatBot is installed", $"ChatBot is now installed in {teamName ?? installationId}{(orgWide ? " (the whole organisation)" : "")}. Open Slack and send it a message.");
        }
        catch (SlackApiException ex)
        {
            Log.ExchangeFailed(logger, ex.Method, ex.Error);
            return Page(StatusCodes.Status502BadGateway, "Installation failed", $"Slack refused the installation ({ex.Error}). Start again from {InstallPath}.");
        }
    }

    /// <summary>A token for a workspace we will not serve is handed back at once rather than kept unused.</summary>
    private async Task RevokeAsync(string token)
    {
        try
        {
            await api.CallAsync(token, "auth.revoke", new Dictionary<string, object?>(), CancellationToken.None);
        }
        catch (SlackApiException)
        {
            // Logged by the client.
        }
    }

    private string RedirectUri(HttpContext http) =>
        options.Value.OAuthRedirectUrl is { Length: > 0 } configured ? configured : $"{http.Request.Scheme}://{http.Request.Host}{CallbackPath}";

    private static IResult Page(int status, string title, string message) =>
        Results.Content(
            $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{WebUtility.HtmlEncode(title)}} · ChatBot</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}h1{font-size:1.4rem}</style>
            </head><body><h1>{{WebUtility.HtmlEncode(title)}}</h1><p>{{WebUtility.HtmlEncode(message)}}</p></body></html>
            """,
            "text/html; charset=utf-8",
            statusCode: status);

    private static partial class Log
    {
        [LoggerMessage(EventId = 845, Level = LogLevel.Warning, Message = "Refused a Slack install callback: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);

        [LoggerMessage(EventId = 846, Level = LogLevel.Warning, Message = "Slack install failed: {Method} answered {Error}")]
        public static partial void ExchangeFailed(ILogger logger, string method, string error);
    }
}
