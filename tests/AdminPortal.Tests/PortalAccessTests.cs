using System.Net;
using ChatBot.AdminPortal.Security;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.AdminPortal.Tests;

/// <summary>
/// Every portal route, found from the host's own endpoints (a page added later is covered without touching this
/// test), tried anonymously and as each role; and every POST handler tried without an antiforgery token.
/// </summary>
public sealed class PortalAccessTests : IAsyncLifetime
{
    /// <summary>The pages a knowledge owner may open; everything else under /admin is for admins.</summary>
    private static readonly HashSet<string> KnowledgeOwnerPages = ["/admin/documents", "/admin/sources"];

    private ChatBotAppFactory _app = null!;
    private ChatDriver _admin = null!;
    private Dictionary<string, string> _routes = null!;

    public async Task InitializeAsync()
    {
        _app = new ChatBotAppFactory();
        _admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        await _admin.SendAsync("What is the VPN?"); // a conversation for /admin/conversations/{id}
        await using var db = _app.Db();
        var conversation = await db.Conversations.Select(c => c.Id).FirstAsync();
        _routes = PortalRoutes().ToDictionary(
            r => r,
            r => r.Replace("{id:guid}", r.Contains("conversations", StringComparison.Ordinal) ? conversation.ToString() : _admin.User.Id.ToString(), StringComparison.Ordinal));
        _routes["/admin/jobs"] = "/admin/jobs";
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task EveryPortalPage_CarriesAPortalPolicy()
    {
        var pages = await CompiledPagesAsync();

        Assert.True(pages.Count >= 11, "expected every portal page: " + string.Join(", ", pages.Select(p => p.Route)));
        Assert.All(pages, p => Assert.Contains(
            p.Page.EndpointMetadata.OfType<IAuthorizeData>(),
            a => a.Policy is PortalPolicies.Admin or PortalPolicies.Knowledge));
    }

    [Fact]
    public async Task Anonymous_IsSentToSignInEverywhere()
    {
        using var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        foreach (var (route, path) in _routes)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{route}: {response.StatusCode}");
            Assert.StartsWith("/signin", response.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task OrdinaryUser_IsRefusedEverywhere()
    {
        var user = await ChatDriver.SignInNewUserAsync(_app);

        foreach (var (route, path) in _routes)
        {
            using var response = await user.Client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Forbidden, $"{route}: {response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.Redirect)
            {
                Assert.StartsWith("/signin", response.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task KnowledgeOwner_ReachesDocumentsAndSourcesOnly()
    {
        var owner = await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner);

        foreach (var (route, path) in _routes)
        {
            using var response = await owner.Client.GetAsync(new Uri(path, UriKind.Relative));
            if (KnowledgeOwnerPages.Contains(route))
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {response.StatusCode}");
                var html = await response.Content.ReadAsStringAsync();
                Assert.DoesNotContain("href=\"/admin/users\"", html, StringComparison.Ordinal); // the menu shows only their pages
            }
            else if (route == "/admin")
            {
                Assert.Equal("/admin/documents", response.Headers.Location?.OriginalString);
            }
            else
            {
                Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Forbidden, $"{route}: {response.StatusCode}");
                Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            }
        }
    }

    [Fact]
    public async Task Admin_ReachesEveryPage()
    {
        foreach (var (route, path) in _routes)
        {
            using var response = await _admin.Client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {response.StatusCode}");
            Assert.Contains("ChatBot", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryPostHandler_WithoutAntiforgeryToken_Is400AndChangesNothing()
    {
        var target = await ChatDriver.SignInNewUserAsync(_app);
        var handlers = (await CompiledPagesAsync())
            .SelectMany(p => p.Page.HandlerMethods.Where(h => string.Equals(h.HttpMethod, "POST", StringComparison.OrdinalIgnoreCase)).Select(h => (p.Route, h.Name)))
            .ToList();

        Assert.True(handlers.Count >= 9, "expected the portal's POST handlers: " + string.Join(", ", handlers));
        foreach (var (route, name) in handlers)
        {
            var path = route.Replace("{id:guid}", target.User.Id.ToString(), StringComparison.Ordinal);
            using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["role"] = "Admin", ["dailyTokens"] = "1", ["userName"] = "forged", ["displayName"] = "Forged", ["password"] = "forged-password-123" });
            using var response = await _admin.Client.PostAsync(new Uri(name is null ? path : $"{path}?handler={name}", UriKind.Relative), form);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route} {name}: {response.StatusCode}");
        }

        await using var db = _app.Db();
        var user = await db.Users.SingleAsync(u => u.Id == target.User.Id);
        Assert.Equal((UserRole.User, false, (long?)null), (user.Role, user.IsSuspended, user.DailyTokenQuota));
        Assert.False(await db.LocalAccounts.AnyAsync(a => a.UserName == "forged"));
        Assert.Equal(200_000, (await db.RoleQuotas.SingleAsync(q => q.Role == UserRole.User)).DailyTokens); // the seeded value
        Assert.False(await db.AuditLog.AnyAsync(a => a.Action.StartsWith("user.") || a.Action.StartsWith("quota.")));
    }

    private IEnumerable<(string Route, Microsoft.AspNetCore.Http.Endpoint Endpoint)> PortalEndpoints() =>
        _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<PageActionDescriptor>() is not null)
            .Select(e => ("/" + e.RoutePattern.RawText!.TrimStart('/'), (Microsoft.AspNetCore.Http.Endpoint)e))
            .Where(e => e.Item1 == "/admin" || e.Item1.StartsWith("/admin/", StringComparison.Ordinal))
            .DistinctBy(e => e.Item1);

    /// <summary>The portal's pages as Razor Pages compiled them: their model's handlers and metadata.</summary>
    private async Task<List<(string Route, CompiledPageActionDescriptor Page)>> CompiledPagesAsync()
    {
        var loader = _app.Services.GetRequiredService<Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure.PageLoader>();
        var pages = new List<(string, CompiledPageActionDescriptor)>();
        foreach (var (route, endpoint) in PortalEndpoints())
        {
            pages.Add((route, await loader.LoadAsync(endpoint.Metadata.GetMetadata<PageActionDescriptor>()!, endpoint.Metadata)));
        }

        return pages;
    }

    private IEnumerable<string> PortalRoutes() => PortalEndpoints().Select(e => e.Route);
}
