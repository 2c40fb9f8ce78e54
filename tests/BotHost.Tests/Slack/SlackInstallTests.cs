using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Slack.Installs;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Slack;

/// <summary>
/// Installing the Slack app in more workspaces through OAuth v2 (a fake Slack authorization page and
/// <c>oauth.v2.access</c> on 127.0.0.1), and serving each workspace, or a whole Grid org, with its own token.
/// </summary>
public sealed class SlackInstallTests : IAsyncLifetime
{
    private static readonly FakeSlackWorkspace Second = new("T222", "Second Workspace", null, false, "UBOT2", "BBOT2", "xoxb-second-token");
    private static readonly FakeSlackWorkspace Org = new("E900", "Sandbox Org", "E900", true, "UBOT9", "BBOT9", "xoxb-org-token");

    private FakeSlack _slack = null!;
    private FakeOpenAiServer _model = null!;
    private ChatBotAppFactory _app = null!;
    private HttpClient _bot = null!;

    public async Task InitializeAsync()
    {
        _slack = await FakeSlack.StartAsync();
        _model = await FakeOpenAiServer.StartAsync();
        _model.Default = _ => FakeReply.Text("Use the VPN client [1].");
        StartHost();
    }

    public async Task DisposeAsync()
    {
        _bot.Dispose();
        await _app.DisposeAsync();
        await _model.DisposeAsync();
        await _slack.DisposeAsync();
    }

    private void StartHost(params (string Key, string Value)[] extra)
    {
        _app = new ChatBotAppFactory()
            .WithModels(_model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m))
            .WithServices(s => s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide()));
        foreach (var (key, value) in FakeSlack.HostSettings(_slack))
        {
            _app.With(key, value);
        }

        _app.With("Slack:ClientId", FakeSlack.ClientId)
            .With("Slack:ClientSecret", FakeSlack.ClientSecret)
            .With("Slack:AuthorizeUrl", _slack.ApiBaseUrl.Replace("/api/", "/oauth/v2/authorize", StringComparison.Ordinal))
            .With("Inbox:PollSeconds", "0.2");
        foreach (var (key, value) in extra)
        {
            _app.With(key, value);
        }

        _bot = _app.CreateClient();
    }

    [Fact]
    public async Task AdminInstallsASecondWorkspace_TokenIsStoredEncrypted_AndThatWorkspaceIsAnsweredWithIt()
    {
        _slack.NextInstall = Second;
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);

        using var page = await InstallAsync(admin.Client);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("ChatBot is now installed in Second Workspace", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var authorize = System.Web.HttpUtility.ParseQueryString(Assert.Single(_slack.AuthorizeRequests));
        Assert.Equal(FakeSlack.ClientId, authorize["client_id"]);
        Assert.Equal(string.Join(',', SlackOAuth.BotScopes), authorize["scope"]);
        await using (var db = _app.Db())
        {
            var row = await db.BotInstallations.SingleAsync(i => i.TenantId == "T222");
            Assert.True(row.IsActive);
            Assert.DoesNotContain(Second.Token, row.AddressJson, StringComparison.Ordinal);
            Assert.Contains("UBOT2", row.AddressJson, StringComparison.Ordinal);
        }

        using (await FakeSlack.SendEventAsync(_bot, _slack.Envelope(FakeSlack.Message("How do I connect to the VPN?", channel: "D222"), teamId: "T222", botUserId: "UBOT2")))
        {
        }

        var stop = await _slack.WaitForCallAsync(c => c.Method == "chat.stopStream" && c["channel"] == "D222");
        Assert.Equal("Bearer " + Second.Token, stop.Authorization);
        Assert.All(_slack.Calls.Where(c => c["channel"] == "D222"), c => Assert.Equal("Bearer " + Second.Token, c.Authorization));

        // The configured workspace still uses its own token.
        using (await FakeSlack.SendEventAsync(_bot, _slack.Envelope(FakeSlack.Message("How do I connect to the VPN?", channel: "D111"))))
        {
        }

        var first = await _slack.WaitForCallAsync(c => c.Method == "chat.stopStream" && c["channel"] == "D111");
        Assert.Equal("Bearer " + FakeSlack.BotToken, first.Authorization);
    }

    [Fact]
    public async Task OrgWideInstall_AnswersInEveryWorkspaceOfTheOrg_WithTheOrgAsTenant()
    {
        _slack.NextInstall = Org;
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        using (var page = await InstallAsync(admin.Client))
        {
            Assert.Contains("(the whole organisation)", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (await FakeSlack.SendEventAsync(_bot, _slack.Envelope(FakeSlack.Message("VPN?", channel: "D333"), teamId: "T333", enterpriseId: "E900", orgWide: true, botUserId: "UBOT9")))
        {
        }

        var stop = await _slack.WaitForCallAsync(c => c.Method == "chat.stopStream" && c["channel"] == "D333");
        Assert.Equal("Bearer " + Org.Token, stop.Authorization);
        await using var db = _app.Db();
        Assert.Equal("E900", (await db.Conversations.SingleAsync()).TenantId);
    }

    [Fact]
    public async Task Callback_ReplayedForgedOrFromAnotherBrowser_IsRefusedAndNothingStored()
    {
        _slack.NextInstall = Second;
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        using var start = await admin.Client.GetAsync(new Uri(SlackOAuth.InstallPath, UriKind.Relative));
        var callback = await ApproveAsync(start);

        // Another browser (no state cookie) cannot finish it.
        using var stranger = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using (var foreign = await stranger.GetAsync(callback))
        {
            Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
        }

        // A forged state fails even with a matching cookie.
        using (var forged = new HttpRequestMessage(HttpMethod.Get, SlackOAuth.CallbackPath + "?code=x&state=forged"))
        {
            forged.Headers.Add("Cookie", SlackOAuth.StateCookie + "=forged");
            using var response = await stranger.SendAsync(forged);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using (var done = await admin.Client.GetAsync(callback))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        }

        // The same state (and its cookie) a second time: already used.
        using (var replay = new HttpRequestMessage(HttpMethod.Get, callback))
        {
            replay.Headers.Add("Cookie", SlackOAuth.StateCookie + "=" + System.Web.HttpUtility.ParseQueryString(callback.OriginalString.Split('?')[1])["state"]);
            using var response = await stranger.SendAsync(replay);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("expired or was already used", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using var db = _app.Db();
        Assert.Equal(1, await db.BotInstallations.CountAsync(i => i.TenantId == "T222"));
    }

    [Fact]
    public async Task Install_OnlyForAdmins()
    {
        using var anonymous = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using (var response = await anonymous.GetAsync(new Uri(SlackOAuth.InstallPath, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/signin", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        var user = await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner);
        using (var response = await user.Client.GetAsync(new Uri(SlackOAuth.InstallPath, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.Empty(_slack.AuthorizeRequests);
    }

    [Fact]
    public async Task InstallerCancels_NothingIsStored()
    {
        _slack.DenyInstall = true;
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);

        using var page = await InstallAsync(admin.Client);

        Assert.Contains("Installation cancelled", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(_slack.Calls, c => c.Method == "oauth.v2.access");
        await using var db = _app.Db();
        Assert.False(await db.BotInstallations.AnyAsync(i => i.TenantId == "T222"));
    }

    [Fact]
    public async Task WorkspaceNotAllowed_IsRefusedAndItsTokenRevoked()
    {
        await _app.DisposeAsync();
        StartHost(("Slack:AllowedTeams:0", "T111"));
        _slack.NextInstall = Second;
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);

        using var page = await InstallAsync(admin.Client);

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains(_slack.Calls, c => c.Method == "auth.revoke" && c.Authorization == "Bearer " + Second.Token);
        await using var db = _app.Db();
        Assert.False(await db.BotInstallations.AnyAsync(i => i.TenantId == "T222"));
    }

    [Fact]
    public async Task RevokedToken_DeactivatesThatWorkspaceOnly()
    {
        _slack.NextInstall = Second;
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        (await InstallAsync(admin.Client)).Dispose();
        _slack.Workspaces.TryRemove(Second.Token, out _); // revoked on Slack's side: every call now answers invalid_auth

        using (await FakeSlack.SendEventAsync(_bot, _slack.Envelope(FakeSlack.Message("VPN?", channel: "D222"), teamId: "T222", botUserId: "UBOT2")))
        {
        }

        await _app.WaitForAsync(async db => !(await db.BotInstallations.SingleAsync(i => i.TenantId == "T222")).IsActive);
        using (await FakeSlack.SendEventAsync(_bot, _slack.Envelope(FakeSlack.Message("anyone?", channel: "D222"), teamId: "T222", botUserId: "UBOT2")))
        using (await FakeSlack.SendEventAsync(_bot, _slack.Envelope(FakeSlack.Message("VPN?", channel: "D111"))))
        {
        }

        await _slack.WaitForCallAsync(c => c.Method == "chat.stopStream" && c["channel"] == "D111");
        await using var check = _app.Db();
        Assert.Equal(2, await check.Inbox.CountAsync()); // the event after deactivation was dropped
    }

    [Fact]
    public async Task OAuthNotConfigured_InstallIs404()
    {
        await using var app = new ChatBotAppFactory();
        foreach (var (key, value) in FakeSlack.HostSettings(_slack))
        {
            app.With(key, value);
        }

        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var install = await client.GetAsync(new Uri(SlackOAuth.InstallPath, UriKind.Relative));
        using var callback = await client.GetAsync(new Uri(SlackOAuth.CallbackPath + "?code=a&state=b", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, install.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, callback.StatusCode);
    }

    /// <summary>The whole flow in the admin's browser: install → Slack's page (approves) → callback.</summary>
    private static async Task<HttpResponseMessage> InstallAsync(HttpClient browser)
    {
        using var start = await browser.GetAsync(new Uri(SlackOAuth.InstallPath, UriKind.Relative));
        return await browser.GetAsync(await ApproveAsync(start));
    }

    /// <summary>Follows the install redirect to the fake Slack's authorization page; returns where Slack sends the browser back.</summary>
    private static async Task<Uri> ApproveAsync(HttpResponseMessage start)
    {
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        using var slackBrowser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var approved = await slackBrowser.GetAsync(start.Headers.Location);
        Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        var back = approved.Headers.Location!;
        Assert.Equal(SlackOAuth.CallbackPath, back.AbsolutePath);
        return new Uri(back.PathAndQuery, UriKind.Relative);
    }
}
