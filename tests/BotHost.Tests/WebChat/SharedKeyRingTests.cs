using System.Net;
using System.Text.RegularExpressions;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Tests.WebChat;

/// <summary>The Data Protection key ring lives in the database: a second host on it reads the first host's sign-in cookie.</summary>
public sealed partial class SharedKeyRingTests
{
    [Fact]
    public async Task SignInOnOneHost_IsValidOnAnotherHostOnTheSameDatabase()
    {
        await using var first = new ChatBotAppFactory();
        var person = await ChatDriver.SignInNewUserAsync(first, UserRole.User);
        var cookie = await SignInCookieAsync(first, person);
        await using var second = new ChatBotAppFactory().With("ConnectionStrings:ChatBot", $"Data Source={first.DatabasePath}");

        using var client = second.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/chat/me");
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(person.User.DisplayName, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = first.Db();
        Assert.True(await db.DataProtectionKeys.AnyAsync());
    }

    /// <summary>Signs in again with a client that keeps no cookies, to read the authentication cookie itself.</summary>
    private static async Task<string> SignInCookieAsync(ChatBotAppFactory app, ChatDriver person)
    {
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var page = await client.GetAsync(new Uri("/signin", UriKind.Relative));
        var antiforgeryCookie = string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var token = Token().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
        var userName = await UserNameAsync(app, person);
        using var post = new HttpRequestMessage(HttpMethod.Post, "/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["UserName"] = userName, ["Password"] = ChatDriver.Password, ["__RequestVerificationToken"] = token }),
        };
        post.Headers.Add("Cookie", antiforgeryCookie);
        using var signedIn = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("chatbot.auth=", StringComparison.Ordinal)).Split(';')[0];
    }

    private static async Task<string> UserNameAsync(ChatBotAppFactory app, ChatDriver person)
    {
        await using var db = app.Db();
        return await db.LocalAccounts.Where(a => a.UserId == person.User.Id).Select(a => a.UserName).SingleAsync();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
