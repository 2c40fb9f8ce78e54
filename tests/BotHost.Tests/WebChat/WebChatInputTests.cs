using System.Net;
using System.Net.Http.Json;
using System.Text;
using ChatBot.BotHost.Accounts;
using ChatBot.ChatData.Database;
using ChatBot.TestSupport;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.WebChat;

/// <summary>Bad input at the web chat's edge: each gets a clear status and nothing is stored.</summary>
public sealed class WebChatInputTests
{
    [Fact]
    public async Task Api_WithoutSignIn_Is401AndThePageRedirectsToSignIn()
    {
        using var app = new ChatBotAppFactory();
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var api = await client.PostAsJsonAsync(new Uri($"/api/chat/conversations/{Guid.NewGuid()}/messages", UriKind.Relative), new { clientMessageId = Guid.NewGuid(), text = "hi" });
        using var page = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/signin", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        await AssertInboxEmptyAsync(app);
    }

    [Theory]
    [InlineData("{not json", HttpStatusCode.BadRequest)]
    [InlineData("{\"clientMessageId\":\"00000000-0000-0000-0000-000000000000\",\"text\":\"hi\"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"clientMessageId\":\"6f1d3a52-3f7e-4a8e-9d51-1f0c2b1f7a11\",\"text\":\"   \"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"clientMessageId\":\"not-a-guid\",\"text\":\"hi\"}", HttpStatusCode.BadRequest)]
    public async Task PostMessage_MalformedOrEmpty_Is400AndStoresNothing(string body, HttpStatusCode expected)
    {
        using var app = new ChatBotAppFactory();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await chat.Client.PostAsync(new Uri($"/api/chat/conversations/{Guid.NewGuid()}/messages", UriKind.Relative), content);

        Assert.Equal(expected, response.StatusCode);
        await AssertInboxEmptyAsync(app);
    }

    [Fact]
    public async Task PostMessage_TooLong_Is400NamingTheLimit()
    {
        using var app = new ChatBotAppFactory();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync(new string('x', 8_001));

        Assert.Equal(HttpStatusCode.BadRequest, exchange.Status);
        await AssertInboxEmptyAsync(app);
    }

    [Fact]
    public async Task SignIn_WrongPasswordFiveTimes_LocksTheAccount()
    {
        using var app = new ChatBotAppFactory();
        var accounts = app.Services.GetRequiredService<AccountService>();
        await accounts.CreateLocalAsync("lockme", "Lock Me", null, ChatData.Users.UserRole.User, ChatDriver.Password, false, CancellationToken.None);
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        for (var i = 0; i < AccountService.MaxFailedAttempts; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await ChatDriver.SignInAsync(client, "lockme", "wrong password " + i));
        }

        var withRightPassword = await ChatDriver.SignInAsync(client, "lockme", ChatDriver.Password);

        Assert.Equal(HttpStatusCode.OK, withRightPassword); // the form again, not a redirect: locked
        await using var db = app.Db();
        var account = await db.LocalAccounts.SingleAsync(a => a.NormalizedUserName == "lockme");
        Assert.True(account.LockedUntil > DateTime.UtcNow.AddMinutes(14));
    }

    [Fact]
    public async Task SignIn_BootstrapAdminWithConfiguredPassword_GoesStraightToTheChat()
    {
        using var app = new ChatBotAppFactory();
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var status = await ChatDriver.SignInAsync(client, "admin", "bootstrap-password-for-tests");
        using var me = await client.GetAsync(new Uri("/api/chat/me", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Contains("\"role\":\"Admin\"", await me.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_AccountThatMustChangeItsPassword_CanUseNothingElseUntilItDoes()
    {
        using var app = new ChatBotAppFactory();
        var accounts = app.Services.GetRequiredService<AccountService>();
        await accounts.CreateLocalAsync("newbie", "New Bie", null, ChatData.Users.UserRole.User, ChatDriver.Password, mustChangePassword: true, CancellationToken.None);
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        await ChatDriver.SignInAsync(client, "newbie", ChatDriver.Password);
        using var api = await client.GetAsync(new Uri("/api/chat/me", UriKind.Relative));
        using var page = await client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
        Assert.Equal("/account/password", page.Headers.Location!.OriginalString);
    }

    private static async Task AssertInboxEmptyAsync(ChatBotAppFactory app)
    {
        await using var db = app.Db();
        Assert.Equal(0, await db.Inbox.CountAsync());
    }
}
