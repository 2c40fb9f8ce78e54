using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatBot.TestSupport.Fakes;

/// <summary>A Web API call the bot made to the fake Slack: the method and its form fields.</summary>
public sealed record SlackCall(string Method, IReadOnlyDictionary<string, string> Fields, string? Authorization, DateTimeOffset At)
{
    public string? this[string field] => Fields.GetValueOrDefault(field);

    public JsonArray? Blocks => this["blocks"] is { } json ? JsonNode.Parse(json) as JsonArray : null;
}

/// <summary>
/// Slack's Web API on 127.0.0.1 (<c>POST /api/{method}</c>, form-encoded, Bearer token, <c>ok:false</c> errors with HTTP
/// 200, HTTP 429 with Retry-After), recording every call; scripted failures per method. Also signs event callbacks the
/// way Slack does, to post them to the bot.
/// </summary>
public sealed class FakeSlack : IAsyncDisposable
{
    public const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    public const string BotToken = "xoxb-test-token";
    public const string TeamId = "T111";
    public const string BotUserId = "UBOT";
    public const string BotId = "BBOT";
    public const string ClientId = "111.222";
    public const string ClientSecret = "fake-client-secret";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SlackCall> _calls = new();
    private readonly ConcurrentQueue<JsonObject> _responses = new();
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private int _fileDownloads;
    private readonly ConcurrentQueue<JsonObject> _acks = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private System.Net.WebSockets.WebSocket? _socket;
    private int _connectionsOpened;
    private int _socketsAccepted;

    public const string AppToken = "xapp-test-token";

    /// <summary>apps.connections.open calls (each reconnect asks for a new URL).</summary>
    public int ConnectionsOpened => _connectionsOpened;

    public int SocketsAccepted => _socketsAccepted;

    /// <summary>apps.connections.open answers ok:false (Socket Mode cannot connect).</summary>
    public bool RefuseConnections { get; set; }

    public IReadOnlyList<JsonObject> Acks => [.. _acks];
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(int Status, string? Error, int? RetryAfter)>> _faults = new(StringComparer.Ordinal);
    private int _ts = 100;
    private int _events;

    private FakeSlack(WebApplication app) => _app = app;

    public string ApiBaseUrl { get; private set; } = "";

    public IReadOnlyList<SlackCall> Calls => [.. _calls];

    /// <summary>Raised for every Web API call as it arrives (load benchmarks wait on replies without polling).</summary>
    public event Action<SlackCall>? CallRecorded;

    /// <summary>Answers file downloads with Slack's HTML sign-in page, as Slack does when the token lacks files:read.</summary>
    public bool LoginPageForFiles { get; set; }

    public int FileDownloads => _fileDownloads;

    /// <summary>Stores a file; returns its entry for a message's <c>files</c> array (with a private download URL).</summary>
    public JsonObject AddFile(string name, byte[] content, string mimetype = "text/markdown")
    {
        var id = "F" + Interlocked.Increment(ref _ts).ToString(CultureInfo.InvariantCulture);
        _files[id] = content;
        return new JsonObject
        {
            ["id"] = id, ["name"] = name, ["title"] = name, ["mimetype"] = mimetype, ["size"] = content.Length,
            ["url_private"] = ApiBaseUrl.Replace("/api/", $"/files-pri/T111-{id}/{name}", StringComparison.Ordinal),
            ["url_private_download"] = ApiBaseUrl.Replace("/api/", $"/files-pri/T111-{id}/download/{name}", StringComparison.Ordinal),
        };
    }

    /// <summary>Messages posted to response URLs (slash command answers).</summary>
    public IReadOnlyList<JsonObject> Responses => [.. _responses];

    /// <summary>A response URL of this fake (Slack's are https://hooks.slack.com/commands/…).</summary>
    public string ResponseUrl => ApiBaseUrl.Replace("/api/", "/hooks/commands/T111/1/abc", StringComparison.Ordinal);

    /// <summary>The workspaces (or Grid orgs) whose bot tokens this fake accepts: token → who the bot is there.</summary>
    public ConcurrentDictionary<string, FakeSlackWorkspace> Workspaces { get; } = new(StringComparer.Ordinal)
    {
        [BotToken] = new FakeSlackWorkspace(TeamId, "Test", null, false, BotUserId, BotId),
    };

    /// <summary>What the next approved OAuth install gives (its bot token is <see cref="FakeSlackWorkspace.Token"/>).</summary>
    public FakeSlackWorkspace? NextInstall { get; set; }

    /// <summary>The person on Slack's authorization page clicks "Cancel".</summary>
    public bool DenyInstall { get; set; }

    /// <summary>Messages conversations.replies returns (oldest first), per thread ts.</summary>
    public ConcurrentDictionary<string, JsonArray> Threads { get; } = new(StringComparer.Ordinal);

    /// <summary>Emails users.info reports (user id → email).</summary>
    public ConcurrentDictionary<string, string> Emails { get; } = new(StringComparer.Ordinal);

    public static Dictionary<string, string?> HostSettings(FakeSlack slack) => new()
    {
        ["Slack:BotToken"] = BotToken,
        ["Slack:SigningSecret"] = SigningSecret,
        ["Slack:ApiBaseUrl"] = slack.ApiBaseUrl,
        ["Slack:StreamIntervalSeconds"] = "0.2",
    };

    public static async Task<FakeSlack> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        var slack = new FakeSlack(app);
        app.Map("/link", slack.SocketAsync);
        app.MapPost("/api/{method}", slack.ApiAsync);
        app.MapGet("/oauth/v2/authorize", slack.AuthorizeAsync);
        app.MapGet("/files-pri/{file}/download/{name}", (string file, HttpRequest request) =>
        {
            Interlocked.Increment(ref slack._fileDownloads);
            if (!slack.Workspaces.ContainsKey(request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal)) || slack.LoginPageForFiles)
            {
                return Results.Content("<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to your workspace</body></html>", "text/html; charset=utf-8");
            }

            return slack._files.TryGetValue(file.Split('-')[1], out var bytes) ? Results.Bytes(bytes, "application/octet-stream") : Results.NotFound();
        });
        app.MapPost("/hooks/{**path}", async (HttpRequest request) =>
        {
            slack._responses.Enqueue((JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync()) as JsonObject)!);
            return Results.Text("ok");
        });
        await app.StartAsync();
        slack.ApiBaseUrl = app.Urls.First().TrimEnd('/') + "/api/";
        return slack;
    }

    /// <summary>Makes the next call(s) of <paramref name="method"/> answer <c>ok:false</c> with <paramref name="error"/>.</summary>
    public void Fail(string method, string error, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _faults.GetOrAdd(method, _ => new()).Enqueue((200, error, null));
        }
    }

    /// <summary>Makes the next call of <paramref name="method"/> answer HTTP 429 with Retry-After.</summary>
    public void RateLimit(string method, int retryAfterSeconds) => _faults.GetOrAdd(method, _ => new()).Enqueue((429, null, retryAfterSeconds));

    /// <summary>An event_callback envelope around <paramref name="inner"/>.</summary>
    public JsonObject Envelope(JsonObject inner, string? eventId = null, string teamId = TeamId, string? enterpriseId = null, bool orgWide = false, string botUserId = BotUserId) => new()
    {
        ["token"] = "deprecated-verification-token",
        ["team_id"] = teamId,
        ["enterprise_id"] = enterpriseId,
        ["api_app_id"] = "A111",
        ["event"] = inner,
        ["type"] = "event_callback",
        ["event_id"] = eventId ?? "Ev" + Interlocked.Increment(ref _events).ToString(CultureInfo.InvariantCulture),
        ["event_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["is_enterprise_install"] = orgWide,
        ["authorizations"] = new JsonArray(new JsonObject
        {
            ["enterprise_id"] = enterpriseId, ["team_id"] = orgWide ? null : teamId, ["user_id"] = botUserId, ["is_bot"] = true, ["is_enterprise_install"] = orgWide,
        }),
    };

    /// <summary>A message event: a DM (<c>im</c>) by default, or a channel message.</summary>
    public static JsonObject Message(string text, string channel = "D111", string channelType = "im", string user = "U222", string? ts = null, string? threadTs = null, string type = "message")
    {
        var e = new JsonObject
        {
            ["type"] = type,
            ["user"] = user,
            ["text"] = text,
            ["ts"] = ts ?? NextTs(),
            ["channel"] = channel,
            ["event_ts"] = ts ?? NextTs(),
            ["team"] = TeamId,
        };
        if (type == "message")
        {
            e["channel_type"] = channelType;
        }

        if (threadTs is not null)
        {
            e["thread_ts"] = threadTs;
        }

        return e;
    }

    /// <summary>Posts a body to the bot signed as Slack signs it (or with the given headers).</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient bot, string path, string body, string contentType = "application/json", DateTimeOffset? at = null, string? signature = null, bool sign = true, IDictionary<string, string>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(bot);
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (sign)
        {
            request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
            request.Headers.Add("X-Slack-Signature", signature ?? SlackSignature.Compute(SigningSecret, timestamp, Encoding.UTF8.GetBytes(body)));
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        return await bot.SendAsync(request);
    }

    /// <summary>A slash command as Slack posts it (form-encoded, signed).</summary>
    public Task<HttpResponseMessage> SendCommandAsync(HttpClient bot, string command, string text, string channel = "C111", string user = "U222") =>
        PostAsync(bot, SlackEndpoints.CommandsPath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = "deprecated", ["team_id"] = TeamId, ["team_domain"] = "test", ["channel_id"] = channel, ["channel_name"] = "general",
            ["user_id"] = user, ["user_name"] = "ada", ["command"] = command, ["text"] = text, ["api_app_id"] = "A111",
            ["response_url"] = ResponseUrl, ["trigger_id"] = "trigger-" + Interlocked.Increment(ref _events).ToString(CultureInfo.InvariantCulture),
        }).ReadAsStringAsync().Result, "application/x-www-form-urlencoded");

    /// <summary>An interactive payload as Slack posts it (<c>payload=</c> form, signed).</summary>
    public static Task<HttpResponseMessage> SendInteractionAsync(HttpClient bot, JsonObject payload) =>
        PostAsync(bot, SlackEndpoints.InteractivityPath, new FormUrlEncodedContent(new Dictionary<string, string> { ["payload"] = payload.ToJsonString() }).ReadAsStringAsync().Result, "application/x-www-form-urlencoded");

    public static Task<HttpResponseMessage> SendEventAsync(HttpClient bot, JsonObject envelope) =>
        PostAsync(bot, SlackEndpoints.EventsPath, envelope.ToJsonString());

    public async Task<SlackCall> WaitForCallAsync(Func<SlackCall, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < deadline)
        {
            if (_calls.FirstOrDefault(match) is { } call)
            {
                return call;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("No matching Slack call. Calls: " + string.Join(" | ", _calls.Select(c => c.Method + " " + string.Join("&", c.Fields.Select(f => f.Key + "=" + f.Value)))));
    }

    private static string NextTs() => $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Random.Shared.Next(100000, 999999)}";

    private async Task<IResult> ApiAsync(string method, HttpRequest request)
    {
        var form = request.HasFormContentType ? await request.ReadFormAsync() : null;
        var fields = form?.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal) ?? [];
        var call = new SlackCall(method, fields, request.Headers.Authorization.ToString(), DateTimeOffset.UtcNow);
        _calls.Enqueue(call);
        CallRecorded?.Invoke(call);
        if (method == "apps.connections.open")
        {
            if (call.Authorization != "Bearer " + AppToken || RefuseConnections)
            {
                return Results.Json(new { ok = false, error = RefuseConnections ? "forbidden_team" : "invalid_auth" });
            }

            var ticket = Interlocked.Increment(ref _connectionsOpened);
            return Results.Json(new { ok = true, url = ApiBaseUrl.Replace("http://", "ws://", StringComparison.Ordinal).Replace("/api/", $"/link/?ticket={ticket}&app_id=A111", StringComparison.Ordinal) });
        }

        if (method == "oauth.v2.access")
        {
            return OAuthAccess(call);
        }

        var token = call.Authorization?.StartsWith("Bearer ", StringComparison.Ordinal) == true ? call.Authorization[7..] : "";
        if (!Workspaces.TryGetValue(token, out var workspace))
        {
            return Results.Json(new { ok = false, error = "invalid_auth" });
        }

        if (method == "auth.revoke")
        {
            Workspaces.TryRemove(token, out _);
            return Results.Json(new { ok = true, revoked = true });
        }

        if (_faults.TryGetValue(method, out var faults) && faults.TryDequeue(out var fault))
        {
            if (fault.Status == 429)
            {
                request.HttpContext.Response.Headers.RetryAfter = fault.RetryAfter!.Value.ToString(CultureInfo.InvariantCulture);
                return Results.StatusCode(429);
            }

            return Results.Json(new { ok = false, error = fault.Error });
        }

        var ts = $"1700000000.{Interlocked.Increment(ref _ts):D6}";
        return method switch
        {
            "auth.test" => Results.Json(new
            {
                ok = true, url = "https://test.slack.com/", team = workspace.TeamName, user = "chatbot", team_id = workspace.TeamId,
                user_id = workspace.BotUserId, bot_id = workspace.BotId, enterprise_id = workspace.EnterpriseId, is_enterprise_install = workspace.OrgWide,
            }),
            "conversations.replies" => Results.Text(new JsonObject
            {
                ["ok"] = true,
                ["messages"] = Threads.TryGetValue(fields.GetValueOrDefault("ts") ?? "", out var thread) ? thread.DeepClone() : new JsonArray(),
                ["has_more"] = false,
            }.ToJsonString(), "application/json"),
            "conversations.info" => Results.Json(new { ok = true, channel = new { id = fields.GetValueOrDefault("channel"), name = "project-apollo", is_channel = true } }),
            "users.info" => Results.Json(new
            {
                ok = true,
                user = new { id = fields["user"], name = "ada", real_name = "Ada Lovelace", is_bot = false, profile = new { real_name = "Ada Lovelace", email = Emails.GetValueOrDefault(fields["user"]) } },
            }),
            "chat.startStream" or "chat.postMessage" => Results.Json(new { ok = true, channel = fields.GetValueOrDefault("channel"), ts }),
            "chat.appendStream" or "chat.stopStream" or "chat.update" => Results.Json(new { ok = true, channel = fields.GetValueOrDefault("channel"), ts = fields.GetValueOrDefault("ts") }),
            _ => Results.Json(new { ok = true }),
        };
    }

    /// <summary>Slack's authorization page, approved at once (or cancelled): back to the app's redirect URI with a code.</summary>
    private IResult AuthorizeAsync(HttpRequest request)
    {
        var query = request.Query;
        var redirect = query["redirect_uri"].ToString();
        if (query["client_id"] != ClientId || redirect.Length == 0)
        {
            return Results.BadRequest("invalid_client_id");
        }

        _authorizeRequests.Enqueue(request.QueryString.Value ?? "");
        if (DenyInstall || NextInstall is null)
        {
            return Results.Redirect($"{redirect}?error=access_denied&state={Uri.EscapeDataString(query["state"].ToString())}");
        }

        var code = "code-" + Guid.NewGuid().ToString("N");
        _codes[code] = (NextInstall, redirect);
        return Results.Redirect($"{redirect}?code={code}&state={Uri.EscapeDataString(query["state"].ToString())}");
    }

    /// <summary>The query strings the bot sent people to the authorization page with.</summary>
    public IReadOnlyList<string> AuthorizeRequests => [.. _authorizeRequests];

    private readonly ConcurrentQueue<string> _authorizeRequests = new();
    private readonly ConcurrentDictionary<string, (FakeSlackWorkspace Workspace, string RedirectUri)> _codes = new(StringComparer.Ordinal);

    /// <summary>oauth.v2.access: the app's credentials as HTTP Basic, a code used once, the same redirect URI.</summary>
    private IResult OAuthAccess(SlackCall call)
    {
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));
        if (call.Authorization != basic)
        {
            return Results.Json(new { ok = false, error = "invalid_client_id" });
        }

        if (!_codes.TryRemove(call["code"] ?? "", out var grant))
        {
            return Results.Json(new { ok = false, error = "invalid_code" });
        }

        if (grant.RedirectUri != call["redirect_uri"])
        {
            return Results.Json(new { ok = false, error = "bad_redirect_uri" });
        }

        var w = grant.Workspace;
        Workspaces[w.Token] = w;
        return Results.Text(new JsonObject
        {
            ["ok"] = true, ["app_id"] = "A111", ["authed_user"] = new JsonObject { ["id"] = "U222" },
            ["scope"] = "app_mentions:read,chat:write", ["token_type"] = "bot", ["access_token"] = w.Token, ["bot_user_id"] = w.BotUserId,
            ["team"] = w.OrgWide ? null : new JsonObject { ["id"] = w.TeamId, ["name"] = w.TeamName },
            ["enterprise"] = w.EnterpriseId is null ? null : new JsonObject { ["id"] = w.EnterpriseId, ["name"] = "Sandbox Org" },
            ["is_enterprise_install"] = w.OrgWide,
        }.ToJsonString(), "application/json");
    }

    /// <summary>Sends an envelope over the open socket; returns its envelope id.</summary>
    public async Task<string> SendEnvelopeAsync(string type, JsonObject payload, int retryAttempt = 0, string? envelopeId = null)
    {
        envelopeId ??= Guid.NewGuid().ToString();
        await SendFrameAsync(new JsonObject
        {
            ["envelope_id"] = envelopeId, ["type"] = type, ["payload"] = payload,
            ["accepts_response_payload"] = type == "slash_commands", ["retry_attempt"] = retryAttempt, ["retry_reason"] = retryAttempt > 0 ? "timeout" : "",
        });
        return envelopeId;
    }

    /// <summary>Slack's disconnect message (refresh_requested, warning, too_many_websockets…).</summary>
    public Task SendDisconnectAsync(string reason) => SendFrameAsync(new JsonObject { ["type"] = "disconnect", ["reason"] = reason, ["debug_info"] = new JsonObject { ["host"] = "applink-1" } });

    /// <summary>Drops the connection without a word, as a broken network does.</summary>
    public void DropConnection() => _socket?.Abort();

    public async Task<JsonObject> WaitForAckAsync(string envelopeId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (_acks.FirstOrDefault(a => (string?)a["envelope_id"] == envelopeId) is { } ack)
            {
                return ack;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("No acknowledgement for envelope " + envelopeId);
    }

    public async Task WaitForSocketAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            if (_socketsAccepted >= count && _socket?.State == System.Net.WebSockets.WebSocketState.Open)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"Socket {count} never connected ({_socketsAccepted} so far).");
    }

    private async Task SendFrameAsync(JsonObject frame)
    {
        var socket = _socket ?? throw new InvalidOperationException("No socket is connected.");
        await _sendLock.WaitAsync();
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Slack's side of a Socket Mode connection: hello, then envelopes from the test; acknowledgements recorded.</summary>
    private async Task SocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        _socket = socket;
        Interlocked.Increment(ref _socketsAccepted);
        await SendFrameAsync(new JsonObject { ["type"] = "hello", ["num_connections"] = 1, ["connection_info"] = new JsonObject { ["app_id"] = "A111" } });
        var buffer = new byte[64 * 1024];
        try
        {
            while (socket.State == System.Net.WebSockets.WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                {
                    break;
                }

                if (JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count)) is JsonObject ack)
                {
                    _acks.Enqueue(ack);
                }
            }
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException)
        {
            // Dropped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A workspace (or, org-wide, a Grid org) where the fake's bot is installed, and its bot token.</summary>
public sealed record FakeSlackWorkspace(string TeamId, string TeamName, string? EnterpriseId, bool OrgWide, string BotUserId, string BotId, string Token = FakeSlack.BotToken);
