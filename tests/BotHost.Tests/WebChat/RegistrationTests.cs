using System.Net;
using System.Text.RegularExpressions;
using ChatBot.ChatData.Database;
using ChatBot.TestSupport;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.WebChat;

public sealed partial class RegistrationTests
{
    [Fact]
    public async Task Register_AllowedDomain_CreatesAUserAndSignsThemIn()
    {
        using var app = new ChatBotAppFactory().With("WebChat:SelfRegistrationDomains:0", "contoso.com");
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var (status, _) = await RegisterAsync(client, "grace@Contoso.com", "Grace Hopper", "a long enough password");
        using var me = await client.GetAsync(new Uri("/api/chat/me", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Contains("\"role\":\"User\"", await me.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mallory@evil.example", "company email address")]
    [InlineData("nobody", "company email address")]
    [InlineData("grace@contoso.com.evil.example", "company email address")]
    public async Task Register_OtherDomain_IsRefused(string email, string message)
    {
        using var app = new ChatBotAppFactory().With("WebChat:SelfRegistrationDomains:0", "contoso.com");
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var (status, page) = await RegisterAsync(client, email, "Mallory", "a long enough password");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(message, page, StringComparison.Ordinal);
        await using var db = app.Db();
        Assert.False(await db.LocalAccounts.AnyAsync(a => a.NormalizedUserName != "admin"));
    }

    [Fact]
    public async Task Register_SomeoneElsesAddress_NeverInheritsTheirIdentity()
    {
        using var app = new ChatBotAppFactory().With("WebChat:SelfRegistrationDomains:0", "contoso.com");
        var owner = await ChatDriver.SignInNewUserAsync(app, email: "ceo@contoso.com");
        await owner.SendAsync("Board meeting notes");
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        await RegisterAsync(client, "ceo@contoso.com", "Not the CEO", "a long enough password");

        await using var db = app.Db();
        var account = await db.LocalAccounts.SingleAsync(a => a.NormalizedUserName == "ceo@contoso.com");
        Assert.NotEqual(owner.User.Id, account.UserId);
        Assert.Null((await db.Users.SingleAsync(u => u.Id == account.UserId)).NormalizedEmail); // unverified: never linked
    }

    [Fact]
    public async Task Register_NotConfigured_Is404()
    {
        using var app = new ChatBotAppFactory();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(new Uri("/register", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, string Page)> RegisterAsync(HttpClient client, string email, string name, string password)
    {
        var form = await client.GetStringAsync(new Uri("/register", UriKind.Relative));
        var token = Token().Match(form).Groups[1].Value;
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = email, ["DisplayName"] = name, ["Password"] = password, ["__RequestVerificationToken"] = token,
        });
        using var response = await client.PostAsync(new Uri("/register", UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
