using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text;
using ChatBot.Adapters.Slack.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
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
    public const string CommandsPath = "/api/slack/commands";
    public const string InteractivityPath = "/api/slack/interactivity";

    public static IEndpointRouteBuilder MapSlack(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(EventsPath, EventsAsync).AllowAnonymous().DisableAntiforgery();
        endpoints.MapPost(CommandsPath, CommandsAsync).AllowAnonymous().DisableAntiforgery();
        endpoints.MapPost(InteractivityPath, InteractivityAsync).AllowAnonymous().DisableAntiforgery();
        Installs.SlackOAuth.Map(endpoints);
        return endpoints;
    }

    private static async Task<IResult> EventsAsync(HttpContext http, IOptions<SlackOptions> options, SlackEventHandler handler, TimeProvider clock, ILoggerFactory loggers)
    {
        var (body, refusal) = await ReadVerifiedAsync(http, options.Value, clock, loggers);
        if (refusal is not null)
        {
            return refusal;
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

    /// <summary>Slash commands (form-encoded). Slack's unsigned <c>ssl_check=1</c> probe gets an empty 200 and nothing else.</summary>
    private static async Task<IResult> CommandsAsync(HttpContext http, IOptions<SlackOptions> options, SlackInteractions interactions, TimeProvider clock, ILoggerFactory loggers)
    {
        if (options.Value.Enabled && await IsSslCheckAsync(http, options.Value))
        {
            return Results.Ok();
        }

        var (body, refusal) = await ReadVerifiedAsync(http, options.Value, clock, loggers);
        if (refusal is not null)
        {
            return refusal;
        }

        var form = Form(body!);
        if (!form.ContainsKey("command"))
        {
            return Results.BadRequest();
        }

        var immediate = await interactions.CommandAsync(form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal), http.RequestAborted);
        return immediate is null ? Results.Ok() : Results.Text(immediate.ToJsonString(), "application/json");
    }

    /// <summary>Interactive payloads: a form with one <c>payload</c> field holding JSON.</summary>
    private static async Task<IResult> InteractivityAsync(HttpContext http, IOptions<SlackOptions> options, SlackInteractions interactions, TimeProvider clock, ILoggerFactory loggers)
    {
        var (body, refusal) = await ReadVerifiedAsync(http, options.Value, clock, loggers);
        if (refusal is not null)
        {
            return refusal;
        }

        JsonObject? payload;
        try
        {
            payload = JsonNode.Parse(Form(body!)["payload"].ToString(), documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        if (payload is null)
        {
            return Results.BadRequest();
        }

        await interactions.InteractionAsync(payload, http.RequestAborted);
        return Results.Ok();
    }

    /// <summary>The body, if it is within the limit and signed by Slack; otherwise the answer to give (404, 413 or 401).</summary>
    private static async Task<(byte[]? Body, IResult? Refusal)> ReadVerifiedAsync(HttpContext http, SlackOptions slack, TimeProvider clock, ILoggerFactory loggers)
    {
        if (!slack.Enabled)
        {
            return (null, Results.NotFound());
        }

        var body = await BoundedBody.ReadAsync(http.Request, slack.MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return (null, Results.StatusCode(StatusCodes.Status413PayloadTooLarge));
        }

        var refused = SlackSignature.Check(slack.SigningSecret!, http.Request.Headers["X-Slack-Request-Timestamp"], http.Request.Headers["X-Slack-Signature"], body, clock.GetUtcNow());
        if (refused is not null)
        {
            Log.Refused(loggers.CreateLogger(typeof(SlackEndpoints)), refused);
            return (null, Results.Unauthorized());
        }

        return (body, null);
    }

    /// <summary>Whether this is Slack's unsigned certificate probe: a form whose <c>ssl_check</c> is 1 (read, then put back).</summary>
    private static async Task<bool> IsSslCheckAsync(HttpContext http, SlackOptions slack)
    {
        if (!http.Request.HasFormContentType || http.Request.Headers.ContainsKey("X-Slack-Signature"))
        {
            return false;
        }

        var body = await BoundedBody.ReadAsync(http.Request, slack.MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return false;
        }

        http.Request.Body = new MemoryStream(body);
        return Form(body)["ssl_check"] == "1";
    }

    private static FormCollection Form(byte[] body) => new(QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body)));

    private static partial class Log
    {
        [LoggerMessage(EventId = 820, Level = LogLevel.Warning, Message = "Refused a Slack request: {Reason}")]
        public static partial void Refused(ILogger logger, string reason);
    }
}
