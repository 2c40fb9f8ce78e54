using System.Text.Json;
using ChatBot.Adapters.Teams.Activities;
using ChatBot.Adapters.Teams.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Teams;

/// <summary>
/// <c>POST /api/messages</c>, the Bot Framework messaging endpoint: size limit (413), JSON (400), the bearer token
/// checked against the activity (401, nothing stored, one log line with the reason), then the activity handler.
/// 404 while Teams is not configured.
/// </summary>
public static partial class TeamsEndpoints
{
    public const string Path = "/api/messages";

    public static IEndpointRouteBuilder MapTeams(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Path, HandleAsync).AllowAnonymous().DisableAntiforgery();
        return endpoints;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext http,
        IOptions<TeamsOptions> options,
        BotFrameworkAuthenticator authenticator,
        TeamsActivityHandler handler,
        ILoggerFactory loggers)
    {
        var teams = options.Value;
        var logger = loggers.CreateLogger(typeof(TeamsEndpoints));
        if (!teams.Enabled)
        {
            return Results.NotFound();
        }

        var authorization = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(authorization))
        {
            Log.Refused(logger, "no Authorization header");
            return Results.Unauthorized();
        }

        if (http.Request.ContentType is not { } contentType || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        }

        var body = await BoundedBody.ReadAsync(http.Request, teams.MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        Activity? activity;
        try
        {
            activity = JsonSerializer.Deserialize<Activity>(body, Activity.Json);
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        if (activity is null || string.IsNullOrEmpty(activity.Type) || activity.Conversation?.Id is null)
        {
            return Results.BadRequest();
        }

        // The token is checked against the activity's channelId and serviceUrl, so the body is read first (as the SDKs do).
        var auth = await authenticator.AuthenticateAsync(authorization, activity, http.RequestAborted);
        if (!auth.Accepted)
        {
            Log.Refused(logger, auth.Reason!);
            return Results.Unauthorized();
        }

        return await handler.HandleAsync(activity, http.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 740, Level = LogLevel.Warning, Message = "Refused a Teams request: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}
