using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatBot.BotHost.Api;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace ChatBot.BotHost.Tests.Api;

/// <summary>
/// The public API through the real host: every endpoint with and without a key, with a revoked, an expired and a
/// wrongly scoped key; conversations and chat (whole and streamed); documents and admin; quotas shared with the web
/// chat; and the official OpenAI .NET client streaming a cited answer from /v1/chat/completions.
/// </summary>
public sealed class PublicApiTests : IAsyncLifetime
{
    private const string Answer = "Install the **Contoso VPN** client from the Software Center [1]. Connect before anything else on hotel Wi-Fi [2].";

    private FakeOpenAiServer _model = null!;
    private ChatBotAppFactory _app = null!;
    private ChatDriver _ada = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _model = await FakeOpenAiServer.StartAsync();
        _model.Default = _ => FakeReply.Text(Answer, firstTokenDelay: TimeSpan.FromMilliseconds(50), tokenDelay: TimeSpan.FromMilliseconds(20), pieceLength: 10);
        _app = new ChatBotAppFactory()
            .WithModels(_model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m))
            .WithServices(s => s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide()));
        _ada = await ChatDriver.SignInNewUserAsync(_app, UserRole.User, "ada@example.com");
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _model.DisposeAsync();
    }

    private async Task<string> KeyAsync(Guid userId, string scopes = "chat", int? days = null) =>
        (await _app.Services.GetRequiredService<ApiKeys>().CreateAsync(userId, "test", scopes.Split(','), days, null, CancellationToken.None)).Secret;

    private static HttpRequestMessage Request(HttpMethod method, string path, string? key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, object? body = null)
    {
        using var request = Request(method, path, key, body);
        return await _client.SendAsync(request);
    }

    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", "/api/v1/me" },
        { "GET", "/api/v1/me/usage" },
        { "GET", "/api/v1/conversations" },
        { "POST", "/api/v1/conversations" },
        { "GET", $"/api/v1/conversations/{Guid.Empty}" },
        { "PATCH", $"/api/v1/conversations/{Guid.Empty}" },
        { "POST", $"/api/v1/conversations/{Guid.Empty}/archive" },
        { "DELETE", $"/api/v1/conversations/{Guid.Empty}" },
        { "POST", $"/api/v1/conversations/{Guid.Empty}/messages" },
        { "POST", $"/api/v1/conversations/{Guid.Empty}/files" },
        { "GET", "/api/v1/documents" },
        { "POST", "/api/v1/documents" },
        { "DELETE", $"/api/v1/documents/{Guid.Empty}" },
        { "GET", "/api/v1/admin/users" },
        { "POST", $"/api/v1/admin/users/{Guid.Empty}/suspend" },
        { "GET", "/api/v1/admin/usage" },
        { "GET", "/v1/models" },
        { "POST", "/v1/chat/completions" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_WithoutAGoodKey_Is401(string method, string path)
    {
        var revoked = await KeyAsync(_ada.User.Id, "chat,documents,admin");
        var keys = _app.Services.GetRequiredService<ApiKeys>();
        var id = (await keys.ListAsync(_ada.User.Id, CancellationToken.None))[0].Id;
        await keys.RevokeAsync(id, _ada.User.Id, CancellationToken.None);
        var expired = await KeyAsync(_ada.User.Id, "chat,documents,admin", days: 1);
        await using (var db = _app.Db())
        {
            await db.ApiKeys.Where(k => k.ExpiresAt != null).ExecuteUpdateAsync(s => s.SetProperty(k => k.ExpiresAt, DateTime.UtcNow.AddMinutes(-1)));
        }

        foreach (var key in new[] { null, "cbk_00000000_forged-secret-forged-secret", revoked, expired, revoked[..^2] + "xx" })
        {
            using var response = await SendAsync(new HttpMethod(method), path, key, new { text = "hi" });
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with {key ?? "no key"}: {response.StatusCode}");
            Assert.Equal("invalid_api_key", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        }

        await using var check = _app.Db();
        Assert.Equal(0, await check.Inbox.CountAsync());
    }

    [Fact]
    public async Task WrongScopeOrRole_Is403()
    {
        var documentsOnly = await KeyAsync(_ada.User.Id, "documents");
        var chatOnly = await KeyAsync(_ada.User.Id, "chat");
        var adminButNotAnAdmin = await KeyAsync(_ada.User.Id, "chat,admin");

        using var me = await SendAsync(HttpMethod.Get, "/api/v1/me", documentsOnly);
        using var documents = await SendAsync(HttpMethod.Get, "/api/v1/documents", chatOnly);
        using var documentsAsUser = await SendAsync(HttpMethod.Get, "/api/v1/documents", documentsOnly); // the scope, but not the role
        using var admin = await SendAsync(HttpMethod.Get, "/api/v1/admin/users", adminButNotAnAdmin);

        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], new[] { me.StatusCode, documents.StatusCode, documentsAsUser.StatusCode, admin.StatusCode });
    }

    [Fact]
    public async Task Conversations_CreateChatReadRenameArchiveDelete()
    {
        var key = await KeyAsync(_ada.User.Id);

        using var created = await SendAsync(HttpMethod.Post, "/api/v1/conversations", key, new { title = "VPN questions" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();

        using var chat = await SendAsync(HttpMethod.Post, $"/api/v1/conversations/{id}/messages", key, new { text = "How do I connect to the VPN?" });
        var answer = JsonDocument.Parse(await chat.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(Answer, answer.GetProperty("text").GetString());
        Assert.Equal("https://intranet.example.com/vpn", answer.GetProperty("citations")[0].GetProperty("url").GetString());
        Assert.Equal("gpt-4o-mini", answer.GetProperty("model").GetString());

        using var read = await SendAsync(HttpMethod.Get, $"/api/v1/conversations/{id}", key);
        var conversation = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["user", "assistant"], conversation.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("VPN questions", conversation.GetProperty("title").GetString());

        (await SendAsync(HttpMethod.Patch, $"/api/v1/conversations/{id}", key, new { title = "Remote access" })).Dispose();
        (await SendAsync(HttpMethod.Post, $"/api/v1/conversations/{id}/archive", key)).Dispose();
        var active = JsonDocument.Parse(await (await SendAsync(HttpMethod.Get, "/api/v1/conversations?archived=false", key)).Content.ReadAsStringAsync()).RootElement;
        var archived = JsonDocument.Parse(await (await SendAsync(HttpMethod.Get, "/api/v1/conversations?archived=true", key)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(0, active.GetArrayLength());
        Assert.Equal("Remote access", archived[0].GetProperty("title").GetString());

        // Someone else's key sees none of it.
        var bob = await ChatDriver.SignInNewUserAsync(_app);
        using var foreign = await SendAsync(HttpMethod.Get, $"/api/v1/conversations/{id}", await KeyAsync(bob.User.Id));
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);

        using var deleted = await SendAsync(HttpMethod.Delete, $"/api/v1/conversations/{id}", key);
        using var gone = await SendAsync(HttpMethod.Get, $"/api/v1/conversations/{id}", key);
        Assert.Equal((HttpStatusCode.NoContent, HttpStatusCode.NotFound), (deleted.StatusCode, gone.StatusCode));
        await using var db = _app.Db();
        Assert.Equal(ChatData.Conversations.Channel.Api, (await db.UsageRecords.SingleAsync()).Channel);
    }

    [Fact]
    public async Task FileUpload_ToAConversation_IsIndexedForThatConversationOnly()
    {
        var key = await KeyAsync(_ada.User.Id);
        var id = Guid.NewGuid();

        using var uploaded = await UploadAsync($"/api/v1/conversations/{id}/files", key, "badge.md", "# Badge\n\nBadges are collected at reception.");
        var bob = await ChatDriver.SignInNewUserAsync(_app);
        using var foreign = await UploadAsync($"/api/v1/conversations/{id}/files", await KeyAsync(bob.User.Id), "sneaky.md", "# Sneaky\n\nNot yours.");
        using var empty = await UploadAsync($"/api/v1/conversations/{id}/files", key, "empty.md", "");

        Assert.Equal(HttpStatusCode.Accepted, uploaded.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        await _app.WaitForAsync(async db => await db.Documents.AnyAsync(d => d.Status == ChatData.Knowledge.DocumentStatus.Ready));
        await using var db = _app.Db();
        var document = await db.Documents.SingleAsync();
        var conversation = await db.Conversations.SingleAsync(c => c.ExternalId == id.ToString());
        Assert.Equal((ChatData.Knowledge.DocumentScope.Conversation, conversation.Id.ToString(), _ada.User.Id), (document.Scope, document.ScopeKey, conversation.OwnerUserId!.Value));
    }

    private async Task<HttpResponseMessage> UploadAsync(string path, string key, string name, string text)
    {
        using var request = Request(HttpMethod.Post, path, key);
        request.Content = new MultipartFormDataContent { { new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(text)), "file", name } };
        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task Chat_Streamed_ArrivesAsServerSentEvents()
    {
        var key = await KeyAsync(_ada.User.Id);
        using var request = Request(HttpMethod.Post, $"/api/v1/conversations/{Guid.NewGuid()}/messages", key, new { text = "How do I connect to the VPN?", stream = true });

        using var response = await _client.SendAsync(request);
        var events = ChatDriver.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("accepted", events[0].Name);
        Assert.True(events.Count(e => e.Name == "delta") > 1);
        Assert.Equal(Answer, events.Single(e => e.Name == "final").Data.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Quota_IsSharedBetweenTheWebChatAndTheApi()
    {
        await using (var db = _app.Db())
        {
            await db.Users.Where(u => u.Id == _ada.User.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.DailyTokenQuota, 1));
        }

        await _ada.SendAsync("How do I connect to the VPN?"); // the web chat uses up the day
        using var response = await SendAsync(HttpMethod.Post, $"/api/v1/conversations/{Guid.NewGuid()}/messages", await KeyAsync(_ada.User.Id), new { text = "And from a hotel?" });

        var text = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("text").GetString();
        Assert.Contains("daily allowance", text, StringComparison.Ordinal);
        Assert.Single(_model.Requests);
        using var usage = await SendAsync(HttpMethod.Get, "/api/v1/me/usage", await KeyAsync(_ada.User.Id));
        Assert.Equal(1, JsonDocument.Parse(await usage.Content.ReadAsStringAsync()).RootElement.GetProperty("dailyLimit").GetInt64());
    }

    [Fact]
    public async Task OpenAiDotNetClient_StreamsACitedAnswer_AndCompletesWhole()
    {
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(await KeyAsync(_ada.User.Id)), new OpenAIClientOptions
        {
            Endpoint = new Uri(_client.BaseAddress!, "/v1"),
            Transport = new HttpClientPipelineTransport(_app.CreateClient()),
        });

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new SystemChatMessage("ignored"), new UserChatMessage("How do I connect to the VPN?")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        ChatCompletion whole = await client.CompleteChatAsync([new UserChatMessage("How do I connect to the VPN?")]);

        Assert.Equal(Answer, streamed.ToString());
        Assert.Equal(Answer, whole.Content[0].Text);
        Assert.Equal("gpt-4o-mini", whole.Model);
        Assert.Equal(ChatFinishReason.Stop, whole.FinishReason);
        using var models = await SendAsync(HttpMethod.Get, "/v1/models", await KeyAsync(_ada.User.Id));
        Assert.Equal("gpt-4o-mini", JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task ChatCompletions_MalformedBodies_Are400WithAnOpenAiStyleError()
    {
        var key = await KeyAsync(_ada.User.Id);
        foreach (var body in new[] { "{not json", "{\"messages\":[]}", "{\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"}]}", "[]" })
        {
            using var request = Request(HttpMethod.Post, "/v1/chat/completions", key);
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var response = await _client.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("invalid_request_error", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Documents_KnowledgeOwnerUploadsListsDeletes()
    {
        var owner = await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner);
        var key = await KeyAsync(owner.User.Id, "documents");
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent("# Parking\n\nThe garage opens at 7."u8.ToArray()), "file", "parking.md" },
            { new StringContent("organisation"), "scope" },
        };
        using var upload = Request(HttpMethod.Post, "/api/v1/documents", key);
        upload.Content = form;

        using var uploaded = await _client.SendAsync(upload);
        var id = JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var list = JsonDocument.Parse(await (await SendAsync(HttpMethod.Get, "/api/v1/documents", key)).Content.ReadAsStringAsync()).RootElement;
        using var deleted = await SendAsync(HttpMethod.Delete, $"/api/v1/documents/{id}", key);

        Assert.Equal(HttpStatusCode.Accepted, uploaded.StatusCode);
        Assert.Contains(list.EnumerateArray(), d => d.GetProperty("id").GetGuid() == id && d.GetProperty("scope").GetString() == "organisation");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await using var db = _app.Db();
        Assert.Equal(["document.uploaded", "document.deleted"], await db.AuditLog.Where(a => a.Action.StartsWith("document.")).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
    }

    [Fact]
    public async Task Admin_SuspendsSomeone_WhoseNextApiMessageIsRefused()
    {
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        var adminKey = await KeyAsync(admin.User.Id, "admin");
        var adaKey = await KeyAsync(_ada.User.Id);

        var users = JsonDocument.Parse(await (await SendAsync(HttpMethod.Get, "/api/v1/admin/users?q=ada", adminKey)).Content.ReadAsStringAsync()).RootElement;
        using var suspend = await SendAsync(HttpMethod.Post, $"/api/v1/admin/users/{_ada.User.Id}/suspend", adminKey);
        using var refused = await SendAsync(HttpMethod.Post, $"/api/v1/conversations/{Guid.NewGuid()}/messages", adaKey, new { text = "How do I connect to the VPN?" });

        Assert.Equal(_ada.User.Id, users[0].GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.NoContent, suspend.StatusCode);
        Assert.Contains("suspended", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Empty(_model.Requests);
    }

    [Fact]
    public async Task OpenApiDocumentAndReference_AreServed()
    {
        var document = JsonDocument.Parse(await _client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative))).RootElement;
        using var reference = await _client.GetAsync(new Uri("/api/reference", UriKind.Relative));

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/conversations/{id}/messages", paths);
        Assert.Contains("/v1/chat/completions", paths);
        Assert.Contains("/api/v1/admin/users", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/api/chat", StringComparison.Ordinal)); // the web chat's own endpoints are not the public API
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        var html = await reference.Content.ReadAsStringAsync();
        Assert.Contains("scalar.js", html, StringComparison.Ordinal); // served by the host itself, no CDN
        Assert.DoesNotContain("cdn.jsdelivr.net", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebChatSettings_CreateAKeyShownOnce_ItWorks_RevokeIt()
    {
        var page = await _ada.Client.GetStringAsync(new Uri("/account/keys", UriKind.Relative));
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.DoesNotContain("value=\"admin\"", page, StringComparison.Ordinal); // an ordinary user may only chat
        using var form = new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("name", "my script"), new("scopes", "chat"), new("scopes", "admin"), new("expiresDays", "30")]);

        using var created = await _ada.Client.PostAsync(new Uri("/account/keys?handler=Create", UriKind.Relative), form);
        var html = await created.Content.ReadAsStringAsync();
        var key = System.Text.RegularExpressions.Regex.Match(html, "<code id=\"new-key\">([^<]+)</code>").Groups[1].Value;

        Assert.StartsWith("cbk_", key, StringComparison.Ordinal);
        using (var me = await SendAsync(HttpMethod.Get, "/api/v1/me", key))
        {
            Assert.Equal(["chat"], JsonDocument.Parse(await me.Content.ReadAsStringAsync()).RootElement.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        }

        Assert.DoesNotContain(key, await _ada.Client.GetStringAsync(new Uri("/account/keys", UriKind.Relative)), StringComparison.Ordinal); // shown once
        var id = (await _app.Services.GetRequiredService<ApiKeys>().ListAsync(_ada.User.Id, CancellationToken.None))[0].Id;
        var again = await _ada.Client.GetStringAsync(new Uri("/account/keys", UriKind.Relative));
        token = System.Text.RegularExpressions.Regex.Match(again, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var revoke = new FormUrlEncodedContent([new("__RequestVerificationToken", token)]);
        (await _ada.Client.PostAsync(new Uri($"/account/keys?handler=Revoke&id={id}", UriKind.Relative), revoke)).Dispose();
        using var after = await SendAsync(HttpMethod.Get, "/api/v1/me", key);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task ApiKeyVerb_PrintsTheKeyOnce_AndTheKeyWorks()
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();

        var exit = await ApiKeyCommand.RunAsync(_app.Services, new ChatBot.BotHost.Knowledge.CommandArguments(["create", "--user", "ADA@example.com", "--scopes", "chat", "--expires-days", "30"]), output, errors, CancellationToken.None);
        var bad = await ApiKeyCommand.RunAsync(_app.Services, new ChatBot.BotHost.Knowledge.CommandArguments(["create", "--user", "ada@example.com", "--scopes", "everything"]), TextWriter.Null, errors, CancellationToken.None);

        Assert.Equal((0, 1), (exit, bad));
        var key = output.ToString().Trim();
        Assert.StartsWith("cbk_", key, StringComparison.Ordinal);
        using var me = await SendAsync(HttpMethod.Get, "/api/v1/me", key);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Contains("Scopes are chat, documents, admin", errors.ToString(), StringComparison.Ordinal);
        await using var db = _app.Db();
        Assert.DoesNotContain(key, string.Concat(await db.ApiKeys.Select(k => k.SecretHash + k.Prefix).ToListAsync()), StringComparison.Ordinal);
    }
}
