using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack.Events;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack.SocketMode;

public enum SocketModeState
{
    /// <summary>No <c>Slack:AppToken</c>: Slack calls the HTTP endpoints.</summary>
    Off,
    Connecting,
    Connected,
    Reconnecting,
}

/// <summary>
/// Slack over Socket Mode (<c>Slack:AppToken</c>), for hosts Slack cannot reach: <c>apps.connections.open</c> with the
/// app token gives a WebSocket URL — a new one for every connection — and Slack sends envelopes over it. Each envelope
/// goes to the same handlers as the HTTP endpoints and is acknowledged (<c>{"envelope_id"}</c>, with the slash command's
/// immediate answer as payload) once it is in the inbox, inside Slack's 3 seconds; redeliveries are one turn as over
/// HTTP. A <c>disconnect</c> or a dropped socket reconnects with capped backoff. The state shows in <c>/readyz</c>.
/// </summary>
internal sealed partial class SlackSocketMode(
    IOptions<SlackOptions> options,
    IHttpClientFactory httpClients,
    SlackEventHandler events,
    SlackInteractions interactions,
    ILogger<SlackSocketMode> logger) : BackgroundService, IHealthCheck
{
    public const string HttpClientName = "slack-socket";
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public SocketModeState State { get; private set; } = SocketModeState.Off;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slack = options.Value;
        if (!slack.Enabled || string.IsNullOrWhiteSpace(slack.AppToken))
        {
            return;
        }

        var backoff = TimeSpan.FromSeconds(1);
        State = SocketModeState.Connecting;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var url = await OpenConnectionAsync(slack, stoppingToken);
                using var socket = new ClientWebSocket();
                await socket.ConnectAsync(url, stoppingToken);
                var reason = await ReceiveAsync(socket, () => backoff = TimeSpan.FromSeconds(1), stoppingToken);
                Log.Disconnected(logger, reason);
                if (socket.State == WebSocketState.Open)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "reconnecting", CancellationToken.None);
                }

                if (reason != "dropped")
                {
                    // Slack asked: reconnect at once with a new URL.
                    State = SocketModeState.Reconnecting;
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or InvalidOperationException or JsonException or OperationCanceledException)
            {
                Log.ConnectFailed(logger, ex.Message, backoff.TotalSeconds);
            }

            State = SocketModeState.Reconnecting;
            try
            {
                await Task.Delay(backoff, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
        }

        State = SocketModeState.Off;
    }

    /// <summary>A fresh WebSocket URL (Slack's URLs are single-use; a stale one loops forever).</summary>
    private async Task<Uri> OpenConnectionAsync(SlackOptions slack, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(slack.ApiBaseUrl), "apps.connections.open"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", slack.AppToken);
        request.Content = new FormUrlEncodedContent([]);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        if ((bool?)body?["ok"] != true || (string?)body["url"] is not { } url)
        {
            throw new InvalidOperationException("apps.connections.open failed: " + ((string?)body?["error"] ?? "no url"));
        }

        return new Uri(url);
    }

    /// <returns>Why the connection ended: Slack's disconnect reason, or "dropped".</returns>
    private async Task<string> ReceiveAsync(ClientWebSocket socket, Action connected, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return "dropped";
            }

            message.Write(buffer, 0, result.Count);
            if (message.Length > options.Value.MaxBodyBytes)
            {
                return "dropped"; // not a frame Slack sends
            }

            if (!result.EndOfMessage)
            {
                continue;
            }

            var frame = JsonNode.Parse(message.ToArray()) as JsonObject;
            message.SetLength(0);
            switch ((string?)frame?["type"])
            {
                case "hello":
                    State = SocketModeState.Connected;
                    connected();
                    Log.Connected(logger);
                    break;
                case "disconnect":
                    return (string?)frame!["reason"] ?? "disconnect";
                default:
                    if ((string?)frame?["envelope_id"] is { } envelopeId)
                    {
                        var payload = await HandleAsync(frame!, cancellationToken);
                        var ack = new JsonObject { ["envelope_id"] = envelopeId };
                        if (payload is not null && (bool?)frame!["accepts_response_payload"] == true)
                        {
                            ack["payload"] = payload;
                        }

                        await socket.SendAsync(Encoding.UTF8.GetBytes(ack.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);
                    }

                    break;
            }
        }

        return "dropped";
    }

    /// <summary>The same handlers as the HTTP endpoints; returns the payload for the acknowledgement, if any.</summary>
    private async Task<JsonObject?> HandleAsync(JsonObject envelope, CancellationToken cancellationToken)
    {
        if (envelope["payload"] is not JsonObject payload)
        {
            return null;
        }

        switch ((string?)envelope["type"])
        {
            case "events_api" when (string?)payload["type"] == "event_callback":
                await events.HandleAsync(payload, cancellationToken);
                return null;
            case "slash_commands":
                var form = payload.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal);
                return await interactions.CommandAsync(form, cancellationToken);
            case "interactive":
                await interactions.InteractionAsync(payload, cancellationToken);
                return null;
            default:
                return null;
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(State is SocketModeState.Off or SocketModeState.Connected
            ? HealthCheckResult.Healthy("Slack Socket Mode: " + State)
            : HealthCheckResult.Degraded("Slack Socket Mode: " + State));

    private static partial class Log
    {
        [LoggerMessage(EventId = 840, Level = LogLevel.Information, Message = "Slack Socket Mode connected")]
        public static partial void Connected(ILogger logger);

        [LoggerMessage(EventId = 841, Level = LogLevel.Information, Message = "Slack Socket Mode connection ended ({Reason}); reconnecting")]
        public static partial void Disconnected(ILogger logger, string reason);

        [LoggerMessage(EventId = 842, Level = LogLevel.Warning, Message = "Slack Socket Mode could not connect ({Reason}); retrying in {Seconds} s")]
        public static partial void ConnectFailed(ILogger logger, string reason, double seconds);
    }
}
