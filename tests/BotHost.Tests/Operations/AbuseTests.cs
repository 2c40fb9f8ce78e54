using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Operations;

/// <summary>One host with Teams, Slack, the web chat and the API, attacked the way the internet attacks webhooks.</summary>
public sealed class AbuseFixture : IAsyncLifetime
{
    public FakeTeamsChannel Teams { get; private set; } = null!;

    public FakeSlack Slack { get; private set; } = null!;

    public FakeOpenAiServer Model { get; private set; } = null!;

    public ChatBotAppFactory App { get; private set; } = null!;

    public ChatDriver Person { get; private set; } = null!;

    public ChatDriver Admin { get; private set; } = null!;

    public string ApiKey { get; private set; } = "";

    public string RevokedApiKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Teams = await FakeTeamsChannel.StartAsync();
        Slack = await FakeSlack.StartAsync();
        Model = await FakeOpenAiServer.StartAsync();
        App = new ChatBotAppFactory()
            .WithModels(Model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m))
            .With("Limits:FailedVerificationsPerMinute", "100000") // every row fails verification on purpose
            .With("Admin:ShowConversationContent", "true");
        App.With("Knowledge:BlobPath", Path.Combine(App.DataDirectory, "blobs"));
        foreach (var (key, value) in FakeTeamsChannel.HostSettings(Teams).Concat(FakeSlack.HostSettings(Slack)))
        {
            App.With(key, value);
        }

        Person = await ChatDriver.SignInNewUserAsync(App);
        Admin = await ChatDriver.SignInNewUserAsync(App, UserRole.Admin);
        var keys = App.Services.GetRequiredService<ApiKeys>();
        ApiKey = (await keys.CreateAsync(Person.User.Id, "abuse", ["chat"], null, Person.User.Id, CancellationToken.None)).Secret;
        var revoked = await keys.CreateAsync(Person.User.Id, "revoked", ["chat"], null, Person.User.Id, CancellationToken.None);
        await keys.RevokeAsync(revoked.Key.Id, Person.User.Id, CancellationToken.None);
        RevokedApiKey = revoked.Secret;
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Model.DisposeAsync();
        await Slack.DisposeAsync();
        await Teams.DisposeAsync();
    }
}

/// <summary>
/// The table-driven abuse suite: every entry point × forged or stale credentials, malformed, huge and deeply nested
/// bodies, wrong content types — each refused with a 4xx and nothing stored; then what must be neutralised rather than
/// refused (path traversal and markup in file names and messages, XXE in OOXML).
/// </summary>
public sealed class AbuseTests(AbuseFixture fixture) : IClassFixture<AbuseFixture>
{
    private static readonly string Nested = string.Concat(Enumerable.Repeat("{\"a\":", 300)) + "1" + new string('}', 300);

    private static readonly string Huge = "{\"text\":\"" + new string('a', 3 * 1024 * 1024) + "\"}";

    public static TheoryData<string> Cases() => [.. Requests.Keys];

    /// <summary>Each row: the request, and the statuses that count as refused.</summary>
    private static readonly Dictionary<string, (Func<AbuseFixture, HttpRequestMessage> Build, HttpStatusCode[] Refused)> Requests = new()
    {
        ["teams: no Authorization header"] = (f => Teams(f, f.Teams.Message("hi"), authorization: ""), [HttpStatusCode.Unauthorized]),
        ["teams: token signed by a foreign key"] = (f => Teams(f, f.Teams.Message("hi"), f.Teams.Token(new TeamsTokenOptions { ForgeSignature = true })), [HttpStatusCode.Unauthorized]),
        ["teams: expired token"] = (f => Teams(f, f.Teams.Message("hi"), f.Teams.Token(new TeamsTokenOptions { ExpiresIn = TimeSpan.FromMinutes(-20), NotBeforeOffset = TimeSpan.FromMinutes(-60) })), [HttpStatusCode.Unauthorized]),
        ["teams: token for another bot"] = (f => Teams(f, f.Teams.Message("hi"), f.Teams.Token(new TeamsTokenOptions { Audience = "another-bot" })), [HttpStatusCode.Unauthorized]),
        ["teams: symmetric (alg confusion) token"] = (f => Teams(f, f.Teams.Message("hi"), f.Teams.Token(new TeamsTokenOptions { Symmetric = true })), [HttpStatusCode.Unauthorized]),
        ["teams: malformed JSON"] = (f => Raw(HttpMethod.Post, "/api/messages", "{\"type\":\"message\",", "application/json", "Bearer " + f.Teams.Token()), [HttpStatusCode.BadRequest]),
        ["teams: deeply nested JSON"] = (f => Raw(HttpMethod.Post, "/api/messages", "{\"type\":\"message\",\"x\":" + Nested + "}", "application/json", "Bearer " + f.Teams.Token()), [HttpStatusCode.BadRequest]),
        ["teams: huge body"] = (f => Raw(HttpMethod.Post, "/api/messages", Huge, "application/json", "Bearer " + f.Teams.Token()), [HttpStatusCode.RequestEntityTooLarge]),
        ["teams: wrong content type"] = (f => Raw(HttpMethod.Post, "/api/messages", f.Teams.Message("hi").ToJsonString(), "text/plain", "Bearer " + f.Teams.Token()), [HttpStatusCode.UnsupportedMediaType, HttpStatusCode.BadRequest]),
        ["slack events: unsigned"] = (f => Slack("/api/slack/events", f.Slack.Envelope(FakeSlack.Message("hi")).ToJsonString(), sign: false), [HttpStatusCode.Unauthorized]),
        ["slack events: forged signature"] = (f => Slack("/api/slack/events", f.Slack.Envelope(FakeSlack.Message("hi")).ToJsonString(), signature: "v0=" + new string('a', 64)), [HttpStatusCode.Unauthorized]),
        ["slack events: stale timestamp (replayed capture)"] = (f => Slack("/api/slack/events", f.Slack.Envelope(FakeSlack.Message("hi")).ToJsonString(), at: DateTimeOffset.UtcNow.AddMinutes(-10)), [HttpStatusCode.Unauthorized]),
        ["slack events: malformed JSON"] = (_ => Slack("/api/slack/events", "{\"type\":\"event_callback\",", sign: true), [HttpStatusCode.BadRequest]),
        ["slack events: deeply nested JSON"] = (_ => Slack("/api/slack/events", "{\"type\":\"event_callback\",\"x\":" + Nested + "}", sign: true), [HttpStatusCode.BadRequest]),
        ["slack events: huge body"] = (_ => Slack("/api/slack/events", Huge, sign: true), [HttpStatusCode.RequestEntityTooLarge]),
        ["slack commands: forged signature"] = (_ => Slack("/api/slack/commands", "command=%2Fask&text=hi&team_id=T111&user_id=U1&channel_id=C1", signature: "v0=" + new string('b', 64), contentType: "application/x-www-form-urlencoded"), [HttpStatusCode.Unauthorized]),
        ["slack interactivity: forged signature"] = (_ => Slack("/api/slack/interactivity", "payload=%7B%7D", signature: "v0=" + new string('c', 64), contentType: "application/x-www-form-urlencoded"), [HttpStatusCode.Unauthorized]),
        ["web chat: not signed in"] = (_ => Raw(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/messages", Message("hi"), "application/json"), [HttpStatusCode.Unauthorized, HttpStatusCode.Redirect]),
        ["web chat: deeply nested JSON"] = (_ => Raw(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/messages", "{\"clientMessageId\":\"" + Guid.NewGuid() + "\",\"text\":\"hi\",\"x\":" + Nested + "}", "application/json"), [HttpStatusCode.BadRequest]),
        ["web chat: huge body"] = (_ => Raw(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/messages", Huge, "application/json"), [HttpStatusCode.RequestEntityTooLarge]),
        ["web chat: wrong content type"] = (_ => Raw(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/messages", Message("hi"), "text/plain"), [HttpStatusCode.UnsupportedMediaType, HttpStatusCode.BadRequest]),
        ["web chat: message too long"] = (_ => Raw(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/messages", Message(new string('a', 8_001)), "application/json"), [HttpStatusCode.BadRequest]),
        ["web chat: upload without the page header (cross-site form)"] = (_ => Upload($"/api/chat/conversations/{Guid.NewGuid()}/documents", "notes.md", header: false), [HttpStatusCode.BadRequest]),
        ["api: no key"] = (_ => Raw(HttpMethod.Post, "/api/v1/conversations", "{}", "application/json"), [HttpStatusCode.Unauthorized]),
        ["api: forged key"] = (_ => Raw(HttpMethod.Post, "/api/v1/conversations", "{}", "application/json", "Bearer cbk_deadbeef_" + new string('A', 43)), [HttpStatusCode.Unauthorized]),
        ["api: revoked key"] = (f => Raw(HttpMethod.Post, "/api/v1/conversations", "{}", "application/json", "Bearer " + f.RevokedApiKey), [HttpStatusCode.Unauthorized]),
        ["api: deeply nested JSON"] = (f => Raw(HttpMethod.Post, "/api/v1/conversations", "{\"title\":" + Nested + "}", "application/json", "Bearer " + f.ApiKey), [HttpStatusCode.BadRequest]),
        ["api: wrong content type"] = (f => Raw(HttpMethod.Post, "/api/v1/conversations", "{}", "text/plain", "Bearer " + f.ApiKey), [HttpStatusCode.UnsupportedMediaType, HttpStatusCode.BadRequest]),
        ["openai: forged key"] = (_ => Raw(HttpMethod.Post, "/v1/chat/completions", "{\"model\":\"chatbot\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "application/json", "Bearer sk-forged"), [HttpStatusCode.Unauthorized]),
        ["openai: deeply nested JSON"] = (f => Raw(HttpMethod.Post, "/v1/chat/completions", "{\"messages\":" + Nested + "}", "application/json", "Bearer " + f.ApiKey), [HttpStatusCode.BadRequest]),
        ["openai: huge body"] = (f => Raw(HttpMethod.Post, "/v1/chat/completions", Huge, "application/json", "Bearer " + f.ApiKey), [HttpStatusCode.RequestEntityTooLarge]),
        ["sign-in: form without antiforgery token"] = (_ => Raw(HttpMethod.Post, "/signin", "UserName=admin&Password=x", "application/x-www-form-urlencoded"), [HttpStatusCode.BadRequest]),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryEntryPoint_RefusesAbuse_AndStoresNothing(string name)
    {
        var (build, refused) = Requests[name];
        var before = await CountsAsync();
        var client = name.StartsWith("web chat:", StringComparison.Ordinal) && name != "web chat: not signed in" ? fixture.Person.Client : Anonymous();
        using var request = build(fixture);

        using var response = await client.SendAsync(request);

        Assert.True(refused.Contains(response.StatusCode), $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Replay_OfAValidSlackEvent_IsStoredOnce()
    {
        var before = await CountsAsync();
        var body = fixture.Slack.Envelope(FakeSlack.Message("replayed question", channel: "D-replay")).ToJsonString();

        using var first = await Anonymous().SendAsync(Slack("/api/slack/events", body, sign: true));
        using var second = await Anonymous().SendAsync(Slack("/api/slack/events", body, sign: true));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(before.Inbox + 1, (await CountsAsync()).Inbox);
    }

    [Theory]
    [InlineData("../../../../evil.md")]
    [InlineData("..\\..\\..\\evil.md")]
    [InlineData("/etc/evil.md")]
    public async Task Upload_PathTraversalInTheFileName_IsNeutralised_TheFileStaysInTheStore(string fileName)
    {
        using var response = await fixture.Person.Client.SendAsync(Upload($"/api/chat/conversations/{Guid.NewGuid()}/documents", fileName));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content)).GetProperty("documentId").GetGuid();
        await using var db = fixture.App.Db();
        var document = await db.Documents.SingleAsync(d => d.Id == id);
        Assert.Equal("evil.md", document.SourceName); // the title may become the file's own heading once it is read
        Assert.DoesNotContain("..", document.SourceKey, StringComparison.Ordinal);
        var root = Path.GetFullPath(fixture.App.DataDirectory);
        Assert.False(File.Exists(Path.Combine(root, "..", "evil.md")));
        Assert.All(Directory.GetFiles(root, "*", SearchOption.AllDirectories), f => Assert.StartsWith(root, Path.GetFullPath(f), StringComparison.Ordinal));
    }

    [Fact]
    public async Task MarkupInMessagesAndFileNames_IsEscapedInThePortal()
    {
        const string script = "<script>alert('x')</script>";
        var chat = await ChatDriver.SignInNewUserAsync(fixture.App);
        Assert.NotNull((await chat.SendAsync("What about " + script + "?")).Final);
        using (var upload = await chat.Client.SendAsync(Upload($"/api/chat/conversations/{chat.ConversationId}/documents", "<img src=x onerror=alert(1)>.md")))
        {
            Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        }

        await using var db = fixture.App.Db();
        var conversation = await db.Conversations.SingleAsync(c => c.OwnerUserId == chat.User.Id);
        var details = await fixture.Admin.Client.GetStringAsync(new Uri($"/admin/conversations/{conversation.Id}", UriKind.Relative));
        var users = await fixture.Admin.Client.GetStringAsync(new Uri($"/admin/users/{chat.User.Id}", UriKind.Relative));
        var documents = await fixture.Admin.Client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative));

        Assert.Contains("&lt;script&gt;", details, StringComparison.Ordinal);
        Assert.Contains("&lt;img src", documents, StringComparison.Ordinal);
        foreach (var page in new[] { details, users, documents })
        {
            Assert.DoesNotContain(script, page, StringComparison.Ordinal);
            Assert.DoesNotContain("<img src=x", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Docx_WithAnExternalEntity_NeverReadsTheReferencedFile()
    {
        var secretFile = Path.Combine(fixture.App.DataDirectory, "host-secret.txt");
        await File.WriteAllTextAsync(secretFile, "TOP-SECRET-HOST-FILE");
        var docx = XxeDocx(new Uri(secretFile).AbsoluteUri);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(docx), "file", "xxe.docx" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/documents") { Content = form };
        request.Headers.Add("X-ChatBot-Upload", "1");

        using var response = await fixture.Person.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Guid id;
        await using (var db = fixture.App.Db())
        {
            id = (await db.Documents.OrderByDescending(d => d.CreatedAt).FirstAsync(d => d.Title == "xxe")).Id;
        }

        await fixture.App.WaitForAsync(async db => await db.Documents.AnyAsync(d => d.Id == id && (d.Status == DocumentStatus.Ready || d.Status == DocumentStatus.Failed)), TimeSpan.FromSeconds(30));
        await using var after = fixture.App.Db();
        Assert.False(await after.DocumentChunks.AnyAsync(c => c.DocumentId == id && c.Text.Contains("TOP-SECRET-HOST-FILE")));
    }

    private HttpClient Anonymous() => fixture.App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    private async Task<(int Inbox, int Documents, int Messages, int Conversations)> CountsAsync()
    {
        await using var db = fixture.App.Db();
        return (await db.Inbox.CountAsync(), await db.Documents.CountAsync(), await db.Messages.CountAsync(), await db.Conversations.CountAsync());
    }

    private static string Message(string text) => new JsonObject { ["clientMessageId"] = Guid.NewGuid(), ["text"] = text }.ToJsonString();

    private static HttpRequestMessage Raw(HttpMethod method, string path, string body, string contentType, string? authorization = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return request;
    }

    private static HttpRequestMessage Teams(AbuseFixture f, JsonObject activity, string? token = null, string? authorization = null) =>
        Raw(HttpMethod.Post, "/api/messages", activity.ToJsonString(), "application/json", authorization ?? "Bearer " + (token ?? f.Teams.Token()));

    private static HttpRequestMessage Slack(string path, string body, bool sign = true, string? signature = null, DateTimeOffset? at = null, string contentType = "application/json")
    {
        var request = Raw(HttpMethod.Post, path, body, contentType);
        if (sign || signature is not null)
        {
            var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
            request.Headers.Add("X-Slack-Signature", signature ?? Adapters.Slack.SlackSignature.Compute(FakeSlack.SigningSecret, timestamp, Encoding.UTF8.GetBytes(body)));
        }

        return request;
    }

    private static HttpRequestMessage Upload(string path, string fileName, bool header = true)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent("# Notes\n\nVisitors park on level 2."u8.ToArray());
        form.Add(file, "file", "placeholder");
        // Set the file name as sent on the wire, unescaped, the way a hostile client would.
        file.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"file\"", FileName = "\"" + fileName.Replace("\"", "", StringComparison.Ordinal) + "\"" };
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = form };
        if (header)
        {
            request.Headers.Add("X-ChatBot-Upload", "1");
        }

        return request;
    }

    /// <summary>A minimal .docx whose body declares an external entity pointing at a local file and uses it.</summary>
    private static byte[] XxeDocx(string target)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, string content)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open(), new UTF8Encoding(false));
                writer.Write(content);
            }

            Add("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>");
            Add("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>");
            Add("word/document.xml", $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM \"{target}\">]><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>Leak: &xxe;</w:t></w:r></w:p><w:p><w:r><w:t>Ordinary words about parking.</w:t></w:r></w:p></w:body></w:document>");
        }

        return buffer.ToArray();
    }
}
