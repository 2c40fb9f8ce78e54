using System.Net;
using System.Text;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Usage;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Tests;

/// <summary>What admins and knowledge owners do in the portal, through the real host and its forms, and the effect in chat.</summary>
public sealed class PortalActionTests : IAsyncLifetime
{
    private const string SuspendedText = "Your access to ChatBot is suspended";

    private ChatBotAppFactory _app = null!;
    private ChatDriver _admin = null!;

    public async Task InitializeAsync()
    {
        _app = new ChatBotAppFactory();
        _admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Suspend_TheUserIsRefusedInChatAtOnce_ReactivateLetsThemBack()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);
        Assert.DoesNotContain(SuspendedText, (await person.SendAsync("What is the VPN?")).FinalText, StringComparison.Ordinal);
        var page = $"/admin/users/{person.User.Id}";

        using (var suspend = await PortalForms.PostAsync(_admin.Client, page, "Suspend"))
        {
            Assert.Equal(HttpStatusCode.Redirect, suspend.StatusCode);
        }

        Assert.Contains(SuspendedText, (await person.SendAsync("And the travel policy?")).FinalText, StringComparison.Ordinal);
        Assert.Contains("id=\"status\">Suspended<", await _admin.Client.GetStringAsync(new Uri(page, UriKind.Relative)), StringComparison.Ordinal);

        (await PortalForms.PostAsync(_admin.Client, page, "Reactivate")).Dispose();

        Assert.DoesNotContain(SuspendedText, (await person.SendAsync("And now?")).FinalText, StringComparison.Ordinal);
        await using var db = _app.Db();
        var actions = await db.AuditLog.Where(a => a.TargetId == person.User.Id.ToString()).OrderBy(a => a.Id).Select(a => new { a.Action, a.ActorUserId }).ToListAsync();
        Assert.Equal(["user.suspended", "user.reactivated"], actions.Select(a => a.Action).Where(a => a.StartsWith("user.", StringComparison.Ordinal)));
        Assert.All(actions.Where(a => a.Action.StartsWith("user.", StringComparison.Ordinal)), a => Assert.Equal(_admin.User.Id, a.ActorUserId));
    }

    [Fact]
    public async Task ChangeRole_IsStoredAndAudited_ButAnAdminCannotDemoteThemselves()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);

        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{person.User.Id}", "Role", new Dictionary<string, string> { ["role"] = "KnowledgeOwner" })).Dispose();
        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{_admin.User.Id}", "Role", new Dictionary<string, string> { ["role"] = "User" })).Dispose();

        await using var db = _app.Db();
        Assert.Equal(UserRole.KnowledgeOwner, (await db.Users.SingleAsync(u => u.Id == person.User.Id)).Role);
        Assert.Equal(UserRole.Admin, (await db.Users.SingleAsync(u => u.Id == _admin.User.Id)).Role);
        var entry = await db.AuditLog.SingleAsync(a => a.Action == "user.role.changed");
        Assert.Equal(person.User.Id.ToString(), entry.TargetId);
        Assert.Contains("\"from\":\"User\"", entry.Details, StringComparison.Ordinal);
        Assert.Contains("\"to\":\"KnowledgeOwner\"", entry.Details, StringComparison.Ordinal);
        var page = await _admin.Client.GetStringAsync(new Uri($"/admin/users/{_admin.User.Id}", UriKind.Relative));
        Assert.Contains("You cannot demote or suspend yourself", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemotedOrSuspendedAdmin_LosesThePortalAtTheirNextRequest()
    {
        var demoted = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        var suspended = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        foreach (var other in new[] { demoted, suspended })
        {
            using var before = await other.Client.GetAsync(new Uri("/admin/users", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{demoted.User.Id}", "Role", new Dictionary<string, string> { ["role"] = "User" })).Dispose();
        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{suspended.User.Id}", "Suspend")).Dispose();

        foreach (var other in new[] { demoted, suspended })
        {
            using var after = await other.Client.GetAsync(new Uri("/admin/users", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
            Assert.StartsWith("/signin", after.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task QuotaOverride_TakesEffectAtTheNextMessage()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);

        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{person.User.Id}", "Quota", new Dictionary<string, string> { ["dailyTokens"] = "1", ["monthlyTokens"] = "", ["messagesPerMinute"] = "" })).Dispose();

        // A turn is admitted while the day's counter is below the limit: the first uses it up, the second is refused.
        await person.SendAsync("What is the VPN?");
        var answer = await person.SendAsync("And the travel policy?");
        Assert.Contains("daily allowance of 1 tokens", answer.FinalText, StringComparison.Ordinal);
        await using var db = _app.Db();
        var user = await db.Users.SingleAsync(u => u.Id == person.User.Id);
        Assert.Equal((1L, (long?)null, (int?)null), (user.DailyTokenQuota!.Value, user.MonthlyTokenQuota, user.MessagesPerMinute));
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "user.quota.changed"));
    }

    [Fact]
    public async Task RoleQuota_IsSavedForThatRole_AndNegativeLimitsAreRefused()
    {
        (await PortalForms.PostAsync(_admin.Client, "/admin/quotas", null, new Dictionary<string, string> { ["role"] = "User", ["dailyTokens"] = "5000", ["monthlyTokens"] = "", ["messagesPerMinute"] = "3" })).Dispose();
        (await PortalForms.PostAsync(_admin.Client, "/admin/quotas", null, new Dictionary<string, string> { ["role"] = "KnowledgeOwner", ["dailyTokens"] = "-1" })).Dispose();

        await using var db = _app.Db();
        var quotas = await db.RoleQuotas.ToDictionaryAsync(q => q.Role);
        Assert.Equal((5000L, (long?)null, 3), (quotas[UserRole.User].DailyTokens!.Value, quotas[UserRole.User].MonthlyTokens, quotas[UserRole.User].MessagesPerMinute!.Value));
        Assert.Equal(500_000, quotas[UserRole.KnowledgeOwner].DailyTokens);
        Assert.Equal(1, await db.AuditLog.CountAsync(a => a.Action == "quota.role.changed"));
    }

    [Fact]
    public async Task UsageCsv_HasARowPerUserAndATotal_AndNeutralisesFormulas()
    {
        await using (var db = _app.Db())
        {
            var now = DateTime.UtcNow;
            var evil = new User { DisplayName = "=HYPERLINK(\"http://evil.example\",\"x\")", Email = "evil@example.com", NormalizedEmail = "evil@example.com", CreatedAt = now };
            var good = new User { DisplayName = "Grace Hopper", Email = "grace@example.com", NormalizedEmail = "grace@example.com", CreatedAt = now };
            db.Users.AddRange(evil, good);
            db.UsageRecords.AddRange(
                new UsageRecord { UserId = evil.Id, Model = "gpt-4o-mini", InputTokens = 100, OutputTokens = 50, CostMicroUsd = 1_500, LatencyMs = 900, CreatedAt = now },
                new UsageRecord { UserId = good.Id, Model = "gpt-4o-mini", InputTokens = 1000, OutputTokens = 500, CostMicroUsd = 250_000, LatencyMs = 1100, CreatedAt = now },
                new UsageRecord { UserId = good.Id, Model = "gpt-4o", InputTokens = 10, OutputTokens = 0, CostMicroUsd = 0, LatencyMs = 0, Outcome = UsageOutcome.Refused, CreatedAt = now });
            await db.SaveChangesAsync();
        }

        using var response = await _admin.Client.GetAsync(new Uri("/admin/usage?handler=csv&by=User", UriKind.Relative));
        var csv = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()).TrimStart('\uFEFF');

        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("user,turns,input_tokens,output_tokens,cost_usd,failed,refused,avg_latency_ms", lines[0]);
        Assert.Equal("Grace Hopper <grace@example.com>,2,1010,500,0.250000,0,1,1100", lines[1]);
        Assert.Equal("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\") <evil@example.com>\",1,100,50,0.001500,0,0,900", lines[2]);
        Assert.Equal("Total,3,1110,550,0.251500,0,1,1000", lines[3]);
        var html = await _admin.Client.GetStringAsync(new Uri("/admin/usage?by=Model", UriKind.Relative));
        Assert.Contains("<td>gpt-4o-mini</td><td>2</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KnowledgeOwner_UploadsADocument_ItBecomesReady_ReindexAndDelete()
    {
        var owner = await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner);

        using (var upload = await UploadAsync(owner.Client, "expenses.md", "# Expenses\n\nHotel nights are refunded up to 180 EUR in Paris."))
        {
            Assert.Equal(HttpStatusCode.Redirect, upload.StatusCode);
        }

        await _app.WaitForAsync(async db => await db.Documents.AnyAsync(d => d.Title == "Expenses" && d.Status == DocumentStatus.Ready), TimeSpan.FromSeconds(30));
        Guid id;
        await using (var db = _app.Db())
        {
            var document = await db.Documents.SingleAsync();
            (id, var scope, var chunks, var uploader) = (document.Id, document.Scope, document.ChunkCount, document.UploadedByUserId);
            Assert.Equal((DocumentScope.Organisation, owner.User.Id), (scope, uploader!.Value));
            Assert.True(chunks > 0);
        }

        var list = await owner.Client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative));
        Assert.Contains("data-title=\"Expenses\"", list, StringComparison.Ordinal);
        Assert.Contains("status-ready", list, StringComparison.Ordinal);

        (await PortalForms.PostAsync(owner.Client, $"/admin/documents?handler=Reindex&id={id}", null, tokenFrom: "/admin/documents")).Dispose();
        await _app.WaitForAsync(async db => await db.Documents.AnyAsync(d => d.Id == id && d.Version == 2 && d.Status == DocumentStatus.Ready), TimeSpan.FromSeconds(30));

        (await PortalForms.PostAsync(owner.Client, $"/admin/documents?handler=Delete&id={id}", null, tokenFrom: "/admin/documents")).Dispose();
        await using var check = _app.Db();
        Assert.False(await check.Documents.AnyAsync());
        Assert.False(await check.DocumentChunks.AnyAsync());
        Assert.Equal(["document.uploaded", "document.reindexed", "document.deleted"], await check.AuditLog.Where(a => a.Action.StartsWith("document.")).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
    }

    [Fact]
    public async Task Upload_UnsupportedOrTooLarge_IsRefusedWithAReasonAndNothingStored()
    {
        await _app.DisposeAsync();
        _app = new ChatBotAppFactory().With("Knowledge:MaxFileBytes", "1024");
        _admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);

        using (var exe = await UploadAsync(_admin.Client, "tool.exe", "MZ"))
        {
            Assert.Equal(HttpStatusCode.Redirect, exe.StatusCode);
        }

        Assert.Contains("not a supported file type", await _admin.Client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative)), StringComparison.Ordinal);
        (await UploadAsync(_admin.Client, "big.md", new string('x', 4096))).Dispose();
        Assert.Contains("larger than the", await _admin.Client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative)), StringComparison.Ordinal);
        await using var db = _app.Db();
        Assert.False(await db.Documents.AnyAsync());
    }

    [Fact]
    public async Task KnowledgeOwner_DoesNotSeeFilesPeopleSharedInTheirOwnConversations()
    {
        await using (var db = _app.Db())
        {
            db.Documents.Add(new Document
            {
                Title = "my-payslip", Source = DocumentSource.Chat, SourceName = "web", SourceKey = "k", ContentType = "text/plain", ContentHash = "h", BlobName = "h",
                Scope = DocumentScope.Conversation, ScopeKey = Guid.NewGuid().ToString(), Status = DocumentStatus.Ready, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        var owner = await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner);

        Assert.DoesNotContain("my-payslip", await owner.Client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative)), StringComparison.Ordinal);
        Assert.Contains("my-payslip", await _admin.Client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Conversations_ShowMetadataOnly_UnlessThePrivacySettingAllowsContent()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);
        await person.SendAsync("A very private question about my salary");
        Guid id;
        await using (var db = _app.Db())
        {
            id = await db.Conversations.Select(c => c.Id).SingleAsync();
        }

        var hidden = await _admin.Client.GetStringAsync(new Uri($"/admin/conversations/{id}", UriKind.Relative));
        Assert.Contains("id=\"content-hidden\"", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("private question", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("private question", await _admin.Client.GetStringAsync(new Uri("/admin/conversations", UriKind.Relative)), StringComparison.Ordinal);

        await using var open = new ChatBotAppFactory().With("ConnectionStrings:ChatBot", $"Data Source={_app.DatabasePath}").With("Admin:ShowConversationContent", "true");
        var admin = await ChatDriver.SignInNewUserAsync(open, UserRole.Admin);
        var shown = await admin.Client.GetStringAsync(new Uri($"/admin/conversations/{id}", UriKind.Relative));
        Assert.Contains("A very private question about my salary", shown, StringComparison.Ordinal);
        await using var check = open.Db();
        Assert.True(await check.AuditLog.AnyAsync(a => a.Action == "conversation.content.viewed" && a.TargetId == id.ToString()));
    }

    [Fact]
    public async Task NewLocalAccount_MustChangeItsPasswordAtFirstSignIn_AndNamesAreUnique()
    {
        var fields = new Dictionary<string, string>
        {
            ["UserName"] = "ada", ["DisplayName"] = "Ada Lovelace", ["Email"] = "ada@example.com", ["Role"] = "User", ["Password"] = "first-password-123",
        };

        using (var created = await PortalForms.PostAsync(_admin.Client, "/admin/users/new", null, fields))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        }

        using (var again = await PortalForms.PostAsync(_admin.Client, "/admin/users/new", null, fields))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("is taken", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var ada = _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        Assert.Equal(HttpStatusCode.Redirect, await ChatDriver.SignInAsync(ada, "ada", "first-password-123"));
        using var home = await ada.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal("/account/password", home.Headers.Location?.OriginalString);
        await using var db = _app.Db();
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "user.created"));
    }

    [Fact]
    public async Task AdminCreatesAKeyForSomeone_ShownOnce_ThenRevokesIt()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);
        using var created = await PortalForms.PostAsync(_admin.Client, $"/admin/users/{person.User.Id}", "CreateKey", new Dictionary<string, string> { ["name"] = "ticketing", ["scopes"] = "chat", ["expiresDays"] = "90" });
        var key = System.Text.RegularExpressions.Regex.Match(await created.Content.ReadAsStringAsync(), "<code id=\"new-key\">([^<]+)</code>").Groups[1].Value;
        Assert.StartsWith("cbk_", key, StringComparison.Ordinal);

        using var api = _app.CreateClient();
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using (var me = await api.GetAsync(new Uri("/api/v1/me", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        await using var db = _app.Db();
        var keyId = (await db.ApiKeys.SingleAsync()).Id;
        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{person.User.Id}?handler=RevokeKey&keyId={keyId}", null, tokenFrom: $"/admin/users/{person.User.Id}")).Dispose();
        using var after = await api.GetAsync(new Uri("/api/v1/me", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(["apikey.created", "apikey.revoked"], await db.AuditLog.Where(a => a.Action.StartsWith("apikey.")).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
    }

    [Fact]
    public async Task AuditLog_FiltersByActionAndWho()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);
        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{person.User.Id}", "Suspend")).Dispose();

        var suspended = await _admin.Client.GetStringAsync(new Uri("/admin/audit?action=user.susp", UriKind.Relative));
        var signIns = await _admin.Client.GetStringAsync(new Uri("/admin/audit?action=signin", UriKind.Relative));
        var nobody = await _admin.Client.GetStringAsync(new Uri("/admin/audit?actor=nobody-at-all", UriKind.Relative));

        Assert.Contains("<code>user.suspended</code>", suspended, StringComparison.Ordinal);
        Assert.DoesNotContain("<code>signin</code>", suspended, StringComparison.Ordinal);
        Assert.Contains("<code>signin</code>", signIns, StringComparison.Ordinal);
        Assert.Contains("No entries match.", nobody, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string name, string text)
    {
        var html = await client.GetStringAsync(new Uri("/admin/documents", UriKind.Relative));
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new StringContent("Organisation"), "scope" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(text)), "file", name },
        };
        return await client.PostAsync(new Uri("/admin/documents?handler=Upload", UriKind.Relative), form);
    }
}
