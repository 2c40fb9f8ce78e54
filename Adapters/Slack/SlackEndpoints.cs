using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack;

/// <summary>
/// <c>POST /api/slack/events</c>: size limit (413), Slack's signature over the raw bytes (401, nothing stored, one log
/// line with the reason), JSON (400), then <c>url_verification</c> or the event. Answered as soon as the event is in
/// the inbox, well inside Slack's 3 seconds whatever the model does. 404 while Slack is not configured.
/// </summary>
public static partial class SlackEndpoints
{
    public const string EventsPath = "/api/slack/events";

    public static IEndpointRouteBuilder MapSlack(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(EventsPath, EventsAsync).AllowAnonymous().DisableAntiforgery();
        return endpoints;
    }

    private static async Task<IResult> EventsAsync(HttpContext http, IOptions<SlackOptions> options, SlackEventHandler handler, TimeProvider clock, ILoggerFactory loggers)
    {
        var slack = options.Value;
        if (!slack.Enabled)
        {
            return Results.NotFound();
        }

        var body = await BoundedBody.ReadAsync(http.Request, slack.MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        var refused = SlackSignature.Check(slack.SigningSecret!, http.Request.Headers["X-Slack-Request-Timestamp"], http.Request.Headers["X-Slack-Signature"], body, clock.GetUtcNow());
        if (refused is not null)
        {
            Log.Refused(loggers.CreateLogger(typeof(SlackEndpoints)), refused);
            return Results.Unauthorized();
        }

        JsonObject? envelope;
        try
        {
            envelope = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        switch ((string?)envelope?["type"])
        {
            case "url_verification":
                return Results.Json(new { challenge = (string?)envelope!["challenge"] });
            case "event_callback":
                await handler.HandleAsync(envelope!, http.RequestAborted);
                return Results.Ok();
            case null:
                return Results.BadRequest();
            default:
                return Results.Ok(); // app_rate_limited and whatever Slack adds later
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 820, Level = LogLevel.Warning, Message = "Refused a Slack request: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}
