using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatBot.TestSupport.Fakes;

/// <summary>A call the bot made to the fake connector.</summary>
public sealed record ConnectorCall(string Method, string Path, JsonObject? Body, string? Authorization, DateTimeOffset At)
{
    public string? Type => (string?)Body?["type"];

    public JsonObject? StreamInfo => Body?["entities"]?.AsArray().OfType<JsonObject>().FirstOrDefault(e => (string?)e["type"] == "streaminfo");

    public JsonObject? AiEntity => Body?["entities"]?.AsArray().OfType<JsonObject>().FirstOrDefault(e => (string?)e["type"] == "https://schema.org/Message");
}

/// <summary>How the fake connector answers one call instead of succeeding.</summary>
public sealed record ConnectorFault(int Status, string? Code = null, string? Message = null, int? RetryAfterSeconds = null);

/// <summary>Options for a token the fake channel signs.</summary>
public sealed record TeamsTokenOptions
{
    public string? KeyId { get; init; } = FakeTeamsChannel.TeamsKey;
    public string Algorithm { get; init; } = SecurityAlgorithms.RsaSha256;
    public string Audience { get; init; } = FakeTeamsChannel.AppId;
    public string Issuer { get; init; } = "https://api.botframework.com";
    public string? ServiceUrl { get; init; }
    public bool OmitServiceUrl { get; init; }
    public TimeSpan ExpiresIn { get; init; } = TimeSpan.FromMinutes(30);
    public TimeSpan NotBeforeOffset { get; init; } = TimeSpan.FromMinutes(-1);
    public bool ForgeSignature { get; init; }
    public bool Symmetric { get; init; }
}

/// <summary>
/// The Teams side of the Bot Framework on 127.0.0.1, speaking its wire protocol: OpenID metadata and a JWKS whose keys
/// carry channel endorsements (one for msteams, one only for slack, one without any, one published only after a
/// rollover); a token endpoint for the bot's client credentials; the connector REST API (activities, updates,
/// conversations, members) recording every call, with scripted faults; and file download links.
/// </summary>
public sealed class FakeTeamsChannel : IAsyncDisposable
{
    public const string AppId = "11111111-aaaa-bbbb-cccc-000000000001";
    public const string AppPassword = "bot-secret";
    public const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public const string TeamsKey = "teams-key";
    public const string SlackOnlyKey = "slack-only-key";
    public const string UnendorsedKey = "unendorsed-key";
    public const string RolledKey = "rolled-key";
    public const string BotId = "28:" + AppId;

    private readonly WebApplication _app;
    private readonly Dictionary<string, RsaSecurityKey> _keys = new()
    {
        [TeamsKey] = NewKey(TeamsKey),
        [SlackOnlyKey] = NewKey(SlackOnlyKey),
        [UnendorsedKey] = NewKey(UnendorsedKey),
        [RolledKey] = NewKey(RolledKey),
    };

    private readonly RsaSecurityKey _foreign = NewKey(TeamsKey);
    private readonly ConcurrentQueue<ConnectorCall> _calls = new();
    private readonly ConcurrentQueue<ConnectorFault> _faults = new();
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private int _activityIds = 1000;
    private int _keyFetches;
    private int _tokenRequests;

    private FakeTeamsChannel(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public string ServiceUrl => BaseUrl + "/amer/";

    public string MetadataUrl => BaseUrl + "/v1/.well-known/openidconfiguration";

    public string TokenEndpoint => BaseUrl + "/botframework.com/oauth2/v2.0/token";

    /// <summary>Whether the JWKS lists <see cref="RolledKey"/> (keys roll over: it appears later).</summary>
    public bool PublishRolledKey { get; set; }

    public int KeyFetches => _keyFetches;

    public int TokenRequests => _tokenRequests;

    public IReadOnlyList<ConnectorCall> Calls => [.. _calls];

    /// <summary>Raised for every connector call as it arrives (load benchmarks wait on replies without polling).</summary>
    public event Action<ConnectorCall>? CallRecorded;

    /// <summary>Faults for the next connector calls that are not typing indicators (messages, updates, conversations), in order.</summary>
    public void FailNext(params ConnectorFault[] faults)
    {
        foreach (var fault in faults)
        {
            _faults.Enqueue(fault);
        }
    }

    /// <summary>Answers streaming updates with 403 "cancelled by user" from the <paramref name="afterUpdates"/>-th one on.</summary>
    public int? StopStreamAfterUpdates { get; set; }

    /// <summary>Answers the final streamed message with 403 "exceeded streaming time", as Teams does after two minutes.</summary>
    public bool StreamTimeExceededAtFinal { get; set; }

    /// <summary>Members the connector knows: user id (29:…) → email.</summary>
    public ConcurrentDictionary<string, string> MemberEmails { get; } = new(StringComparer.Ordinal);

    /// <summary>Makes a file downloadable; returns its download URL.</summary>
    public string AddFile(string name, byte[] content)
    {
        _files[name] = content;
        return $"{BaseUrl}/files/{Uri.EscapeDataString(name)}";
    }

    public static Dictionary<string, string?> HostSettings(FakeTeamsChannel teams) => new()
    {
        ["Teams:AppId"] = AppId,
        ["Teams:AppPassword"] = AppPassword,
        ["Teams:OpenIdMetadataUrl"] = teams.MetadataUrl,
        ["Teams:TokenEndpoint"] = teams.TokenEndpoint,
        ["Teams:ServiceUrlHosts:0"] = "127.0.0.1",
        ["Teams:StreamIntervalSeconds"] = "0.2",
    };

    public static async Task<FakeTeamsChannel> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var teams = new FakeTeamsChannel(app);
        app.MapGet("/v1/.well-known/openidconfiguration", () => Results.Json(new
        {
            issuer = "https://api.botframework.com",
            authorization_endpoint = "https://invalid.botframework.com",
            jwks_uri = teams.BaseUrl + "/v1/.well-known/keys",
            id_token_signing_alg_values_supported = new[] { "RS256" },
            token_endpoint_auth_methods_supported = new[] { "private_key_jwt" },
        }));
        app.MapGet("/v1/.well-known/keys", teams.Keys);
        app.MapPost("/botframework.com/oauth2/v2.0/token", teams.TokenAsync);
        app.MapGet("/files/{name}", (string name) => teams._files.TryGetValue(name, out var bytes) ? Results.Bytes(bytes, "application/octet-stream") : Results.StatusCode(401));
        app.MapMethods("/amer/{**path}", ["GET", "POST", "PUT", "DELETE"], teams.ConnectorAsync);
        await app.StartAsync();
        teams.BaseUrl = app.Urls.First().TrimEnd('/');
        return teams;
    }

    /// <summary>A channel token for an activity with <paramref name="serviceUrl"/> (the channel's own by default).</summary>
    public string Token(TeamsTokenOptions? options = null)
    {
        options ??= new TeamsTokenOptions();
        var now = DateTime.UtcNow;
        // As a real channel token: serviceurl, nbf, exp, iss, aud — no appid or ver (those would make it look like a skill token).
        var claims = new Dictionary<string, object>();
        if (!options.OmitServiceUrl)
        {
            claims["serviceurl"] = options.ServiceUrl ?? ServiceUrl;
        }

        SigningCredentials credentials = options.Symmetric
            ? new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = options.KeyId }, SecurityAlgorithms.HmacSha256)
            : new SigningCredentials(options.ForgeSignature ? _foreign : _keys[options.KeyId!], options.Algorithm);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now + options.NotBeforeOffset,
            NotBefore = now + options.NotBeforeOffset,
            Expires = now + options.ExpiresIn,
            Claims = claims,
            SigningCredentials = credentials,
        });
    }

    /// <summary>A message activity as Teams sends it.</summary>
    public JsonObject Message(string text, string conversationType = "personal", string? conversationId = null, string userId = "29:user-ada", string aadObjectId = "aad-ada", string userName = "Ada Lovelace", bool mentionBot = false, string? id = null)
    {
        var activity = Activity("message", conversationType, conversationId, userId, aadObjectId, userName, id);
        activity["text"] = mentionBot ? $"<at>ChatBot</at> {text}" : text;
        activity["textFormat"] = "plain";
        var entities = new JsonArray(new JsonObject { ["type"] = "clientInfo", ["locale"] = "en-US" });
        if (mentionBot)
        {
            entities.Add(new JsonObject { ["type"] = "mention", ["mentioned"] = new JsonObject { ["id"] = BotId, ["name"] = "ChatBot" }, ["text"] = "<at>ChatBot</at>" });
        }

        activity["entities"] = entities;
        activity["attachments"] = new JsonArray(new JsonObject { ["contentType"] = "text/html", ["content"] = $"<p>{text}</p>" });
        return activity;
    }

    /// <summary>The common envelope of an activity in a personal chat, group chat or channel.</summary>
    public JsonObject Activity(string type, string conversationType = "personal", string? conversationId = null, string userId = "29:user-ada", string aadObjectId = "aad-ada", string userName = "Ada Lovelace", string? id = null)
    {
        conversationId ??= conversationType switch
        {
            "channel" => "19:general@thread.tacv2;messageid=1759881511856",
            "groupChat" => "19:group-chat@thread.v2",
            _ => "a:1personal-" + userId,
        };
        var channelData = new JsonObject { ["tenant"] = new JsonObject { ["id"] = TenantId } };
        if (conversationType == "channel")
        {
            channelData["team"] = new JsonObject { ["id"] = "19:team@thread.tacv2", ["name"] = "Engineering", ["aadGroupId"] = "group-engineering" };
            channelData["channel"] = new JsonObject { ["id"] = "19:general@thread.tacv2" };
        }

        return new JsonObject
        {
            ["type"] = type,
            ["id"] = id ?? Interlocked.Increment(ref _activityIds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["channelId"] = "msteams",
            ["serviceUrl"] = ServiceUrl,
            ["timestamp"] = DateTime.UtcNow.ToString("O"),
            ["from"] = new JsonObject { ["id"] = userId, ["name"] = userName, ["aadObjectId"] = aadObjectId },
            ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "ChatBot" },
            ["conversation"] = new JsonObject
            {
                ["id"] = conversationId, ["conversationType"] = conversationType, ["tenantId"] = TenantId, ["isGroup"] = conversationType != "personal",
            },
            ["channelData"] = channelData,
            ["locale"] = "en-US",
        };
    }

    /// <summary>Posts an activity to the bot as Teams does (signed unless <paramref name="token"/> says otherwise).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpClient bot, JsonObject activity, string? token = null, string? authorization = null)
    {
        ArgumentNullException.ThrowIfNull(bot);
        ArgumentNullException.ThrowIfNull(activity);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = new StringContent(activity.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", authorization ?? "Bearer " + (token ?? Token()));
        return await bot.SendAsync(request);
    }

    /// <summary>Waits until a recorded call matches (the bot answers asynchronously).</summary>
    public async Task<ConnectorCall> WaitForCallAsync(Func<ConnectorCall, bool> match, TimeSpan? timeout = null)
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

        throw new TimeoutException("No matching connector call. Calls: " + string.Join(" | ", _calls.Select(c => $"{c.Method} {c.Path} {c.Body?.ToJsonString()}")));
    }

    private IResult Keys()
    {
        Interlocked.Increment(ref _keyFetches);
        var keys = new JsonArray();
        foreach (var (kid, key) in _keys)
        {
            if (kid == RolledKey && !PublishRolledKey)
            {
                continue;
            }

            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
            var entry = new JsonObject { ["kty"] = "RSA", ["use"] = "sig", ["kid"] = kid, ["n"] = jwk.N, ["e"] = jwk.E };
            entry["endorsements"] = kid switch
            {
                SlackOnlyKey => new JsonArray("slack"),
                UnendorsedKey => null,
                _ => new JsonArray("msteams", "skype", "webchat"),
            };
            if (entry["endorsements"] is null)
            {
                entry.Remove("endorsements");
            }

            keys.Add(entry);
        }

        return Results.Text(new JsonObject { ["keys"] = keys }.ToJsonString(), "application/json");
    }

    private async Task<IResult> TokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["grant_type"] != "client_credentials" || form["client_id"] != AppId || form["client_secret"] != AppPassword
            || form["scope"] != "https://api.botframework.com/.default")
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }

        var n = Interlocked.Increment(ref _tokenRequests);
        return Results.Json(new { token_type = "Bearer", expires_in = 3600, ext_expires_in = 3600, access_token = "connector-token-" + n });
    }

    private async Task<IResult> ConnectorAsync(string path, HttpRequest request)
    {
        JsonObject? body = null;
        if (request.ContentLength > 0 || request.Headers.ContentType.Count > 0)
        {
            body = JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync()) as JsonObject;
        }

        // The path as sent (conversation ids stay percent-encoded), without the service URL's /amer prefix.
        var raw = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
        var call = new ConnectorCall(request.Method, raw["/amer".Length..].Split('?')[0], body, request.Headers.Authorization.ToString(), DateTimeOffset.UtcNow);
        _calls.Enqueue(call);
        CallRecorded?.Invoke(call);
        if (call.Authorization is not { } auth || !auth.StartsWith("Bearer connector-token-", StringComparison.Ordinal))
        {
            return Results.Json(new { error = new { code = "Unauthorized", message = "Authorization has been denied for this request." } }, statusCode: 401);
        }

        if (request.Method == "GET" && path.Contains("/members/", StringComparison.Ordinal))
        {
            var userId = Uri.UnescapeDataString(path[(path.LastIndexOf('/') + 1)..]);
            return MemberEmails.TryGetValue(userId, out var email)
                ? Results.Json(new { id = userId, name = "Ada Lovelace", aadObjectId = "aad-ada", email, userPrincipalName = email, tenantId = TenantId })
                : Results.Json(new { error = new { code = "MemberNotFoundInConversation", message = "Member not found" } }, statusCode: 404);
        }

        if (call.Type != "typing" && _faults.TryDequeue(out var fault))
        {
            if (fault.RetryAfterSeconds is { } seconds)
            {
                request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.Json(new { error = new { code = fault.Code ?? "ServiceError", message = fault.Message ?? "Failure" } }, statusCode: fault.Status);
        }

        if (call.StreamInfo is { } info && (string?)info["streamType"] == "streaming" && StopStreamAfterUpdates is { } stopAfter
            && _calls.Count(c => (string?)c.StreamInfo?["streamType"] == "streaming") >= stopAfter)
        {
            return Results.Json(new { error = new { code = "ContentStreamNotAllowed", message = "Content stream was cancelled by user." } }, statusCode: 403);
        }

        if (StreamTimeExceededAtFinal && (string?)call.StreamInfo?["streamType"] == "final")
        {
            return Results.Json(new { error = new { code = "ContentStreamNotAllowed", message = "Content stream finished due to exceeded streaming time." } }, statusCode: 403);
        }

        if (path == "v3/conversations" && request.Method == "POST")
        {
            var member = (string?)body?["members"]?[0]?["id"];
            return Results.Json(new { id = "a:1personal-" + member });
        }

        var id = Interlocked.Increment(ref _activityIds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (call.StreamInfo is { } stream && stream["streamId"] is null)
        {
            return Results.Json(new { id }, statusCode: 201);
        }

        return call.StreamInfo is not null ? Results.Json(new { }, statusCode: 202) : Results.Json(new { id });
    }

    private static RsaSecurityKey NewKey(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
