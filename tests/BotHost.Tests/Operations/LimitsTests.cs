using System.Net;
using System.Text;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Operations;

/// <summary>Body caps, JSON depth, message length and the limits for requests nobody has authenticated yet.</summary>
public sealed class LimitsTests : IAsyncLifetime
{
    private FakeSlack _slack = null!;
    private FakeOpenAiServer _model = null!;

    public async Task InitializeAsync()
    {
        _slack = await FakeSlack.StartAsync();
        _model = await FakeOpenAiServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _model.DisposeAsync();
        await _slack.DisposeAsync();
    }

    private ChatBotAppFactory NewApp(params (string Key, string Value)[] settings)
    {
        var app = new ChatBotAppFactory()
            .WithModels(_model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m))
            .With("Inbox:PollSeconds", "0.2")
            .WithServices(s => s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide()));
        foreach (var (key, value) in FakeSlack.HostSettings(_slack))
        {
            app.With(key, value);
        }

        foreach (var (key, value) in settings)
        {
            app.With(key, value);
        }

        return app;
    }

    [Fact]
    public async Task ForgedSlackRequests_FromOneAddress_Get429BeforeAnyVerification_AfterTheLimit()
    {
        await using var app = NewApp(("Limits:FailedVerificationsPerMinute", "5"));
        using var bot = app.CreateClient();
        var body = _slack.Envelope(FakeSlack.Message("hello")).ToJsonString();

        for (var i = 0; i < 5; i++)
        {
            using var forged = await FakeSlack.PostAsync(bot, "/api/slack/events", body, signature: "v0=" + new string('0', 64));
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        using var blocked = await FakeSlack.PostAsync(bot, "/api/slack/events", body, signature: "v0=" + new string('0', 64));
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Equal("60", blocked.Headers.GetValues("Retry-After").Single());
        using var badKey = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        badKey.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "cbk_00000000_guess");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await bot.SendAsync(badKey)).StatusCode); // the same address, any endpoint
        // Browsers behind the same company address are not locked out of signing in or the web chat.
        using var signIn = await bot.GetAsync(new Uri("/signin", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        await using var db = app.Db();
        Assert.Equal(0, await db.Inbox.CountAsync());
    }

    [Fact]
    public async Task ExpiredBrowserSessions_DoNotLockOutTheirAddress()
    {
        await using var app = NewApp(("Limits:FailedVerificationsPerMinute", "3"));
        using var browser = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        for (var i = 0; i < 10; i++)
        {
            using var anonymous = await browser.GetAsync(new Uri("/api/chat/me", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var webhook = await FakeSlack.SendEventAsync(browser, _slack.Envelope(FakeSlack.Message("still answered")));
        Assert.Equal(HttpStatusCode.OK, webhook.StatusCode);
    }

    [Fact]
    public async Task VerifiedTraffic_NeverCountsAgainstTheLimit()
    {
        await using var app = NewApp(("Limits:FailedVerificationsPerMinute", "3"));
        using var bot = app.CreateClient();

        for (var i = 0; i < 10; i++)
        {
            using var response = await FakeSlack.SendEventAsync(bot, _slack.Envelope(FakeSlack.Message($"question {i}", channel: $"D{i}")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await app.WaitForAsync(async db => await db.Inbox.CountAsync() == 10);
    }

    [Fact]
    public async Task SignIn_PastTheAttemptsPerMinute_Is429()
    {
        await using var app = NewApp(("Limits:SignInAttemptsPerMinute", "3"));
        using var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add(await ChatDriver.SignInAsync(client, "nobody", "wrong-password-" + i));
        }

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(3));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[3]);
    }

    [Fact]
    public async Task WebChat_OversizedBody_Is413_DeeplyNestedJson_Is400_NothingStored()
    {
        await using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var url = new Uri($"/api/chat/conversations/{Guid.NewGuid()}/messages", UriKind.Relative);

        using var huge = new StringContent("{\"clientMessageId\":\"" + Guid.NewGuid() + "\",\"text\":\"" + new string('a', 2 * 1024 * 1024) + "\"}", Encoding.UTF8, "application/json");
        using var hugeResponse = await chat.Client.PostAsync(url, huge);
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200);
        using var deep = new StringContent("{\"clientMessageId\":\"" + Guid.NewGuid() + "\",\"text\":\"hi\",\"extra\":" + nested + "}", Encoding.UTF8, "application/json");
        using var deepResponse = await chat.Client.PostAsync(url, deep);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, hugeResponse.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, deepResponse.StatusCode);
        await using var db = app.Db();
        Assert.Equal(0, await db.Inbox.CountAsync());
    }

    [Fact]
    public async Task SlackMessage_LongerThanTheLimit_IsAnsweredWithANoticeWithoutTheModel()
    {
        await using var app = NewApp();
        using var bot = app.CreateClient();

        using var response = await FakeSlack.SendEventAsync(bot, _slack.Envelope(FakeSlack.Message(new string('x', 9_000))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await _slack.WaitForCallAsync(c => c.Method is "chat.postMessage" or "chat.stopStream" && (c["text"] ?? c["markdown_text"] ?? "").Contains("too long", StringComparison.Ordinal));
        Assert.Contains("9,000 characters; the limit is 8,000", reply["text"] ?? reply["markdown_text"], StringComparison.Ordinal);
        Assert.Empty(_model.Requests);
    }
}
