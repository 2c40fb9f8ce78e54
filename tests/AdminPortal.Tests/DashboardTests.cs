using System.Net;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ChatBot.AdminPortal.Tests;

/// <summary>The portal as the host serves it under /admin: admins only.</summary>
public sealed class DashboardTests
{
    [Fact]
    public async Task Dashboard_Admin_SeesTodaysTurnsFromTheUsageRecords()
    {
        using var app = new ChatBotAppFactory();
        var user = await ChatDriver.SignInNewUserAsync(app);
        await user.SendAsync("What is the VPN?");
        await user.SendAsync("And the travel policy?");
        var admin = await ChatDriver.SignInNewUserAsync(app, UserRole.Admin);

        var page = await WaitForTurnsAsync(admin, "2");

        Assert.Contains("<span class=\"value\" id=\"turns\">2</span>", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"value\" id=\"active-users\">1</span>", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"value\" id=\"cost\">$0.00</span>", page, StringComparison.Ordinal); // extractive answers cost nothing
    }

    [Theory]
    [InlineData(UserRole.User)]
    [InlineData(UserRole.KnowledgeOwner)]
    public async Task Dashboard_NonAdmin_IsRefused(UserRole role)
    {
        using var app = new ChatBotAppFactory();
        var user = await ChatDriver.SignInNewUserAsync(app, role);

        using var response = await user.Client.GetAsync(new Uri("/admin", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(role == UserRole.KnowledgeOwner ? "/admin/documents" : "/signin", response.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_Anonymous_IsSentToSignIn()
    {
        using var app = new ChatBotAppFactory();
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await client.GetAsync(new Uri("/admin", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/signin", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    /// <summary>Usage rows are written just after the answer reaches the user: poll the page briefly.</summary>
    private static async Task<string> WaitForTurnsAsync(ChatDriver admin, string turns)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var page = await admin.Client.GetStringAsync(new Uri("/admin", UriKind.Relative));
            if (page.Contains($"id=\"turns\">{turns}<", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return page;
            }

            await Task.Delay(100);
        }
    }
}
