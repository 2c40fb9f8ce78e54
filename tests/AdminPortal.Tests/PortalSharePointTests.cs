using System.Net;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Tests;

/// <summary>SharePoint sources in the portal against a fake Graph: add a library, its sync runs as a job, see what it found, remove it.</summary>
public sealed class PortalSharePointTests : IAsyncLifetime
{
    private FakeGraph _graph = null!;
    private ChatBotAppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        _graph.AddFile("a-travel", "travel.md", "# Travel policy\n\nHotels are refunded up to 180 EUR a night.", FakeGraph.OrganisationLink());
        _graph.AddFile("e-photo", "team.png", "png", FakeGraph.OrganisationLink());
        _app = new ChatBotAppFactory();
        foreach (var (key, value) in _graph.HostSettings())
        {
            _app.With(key, value);
        }
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _graph.DisposeAsync();
    }

    [Fact]
    public async Task KnowledgeOwner_AddsALibrary_ItSyncs_ThenSyncNowAndRemove()
    {
        var owner = await ChatDriver.SignInNewUserAsync(_app, UserRole.KnowledgeOwner);

        using (var added = await PortalForms.PostAsync(owner.Client, "/admin/sources", "Add", new Dictionary<string, string> { ["siteUrl"] = FakeGraph.SiteUrl, ["library"] = "Documents" }))
        {
            Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        }

        await _app.WaitForAsync(async db => await db.Documents.AnyAsync(d => d.Source == DocumentSource.SharePoint && d.Status == DocumentStatus.Ready), TimeSpan.FromSeconds(30));
        await _app.WaitForAsync(async db => (await db.SharePointSources.SingleAsync()).LastSyncedAt != null);
        var page = await owner.Client.GetStringAsync(new Uri("/admin/sources", UriKind.Relative));
        Assert.Contains("https://contoso.sharepoint.com/sites/hr / Documents", page, StringComparison.Ordinal);
        Assert.Contains("team.png</span>: not a supported file type", page, StringComparison.Ordinal);
        Assert.Contains("badge ok", page, StringComparison.Ordinal);

        _graph.AddFile("b-expenses", "expenses.md", "# Expenses\n\nTaxis need a receipt.", FakeGraph.OrganisationLink());
        long id;
        await using (var db = _app.Db())
        {
            id = (await db.SharePointSources.SingleAsync()).Id;
        }

        (await PortalForms.PostAsync(owner.Client, $"/admin/sources?handler=Sync&id={id}", null, tokenFrom: "/admin/sources")).Dispose();
        await _app.WaitForAsync(async db => await db.Documents.CountAsync(d => d.Source == DocumentSource.SharePoint) == 2, TimeSpan.FromSeconds(30));

        (await PortalForms.PostAsync(owner.Client, $"/admin/sources?handler=Remove&id={id}", null, tokenFrom: "/admin/sources")).Dispose();
        await using var check = _app.Db();
        Assert.False(await check.SharePointSources.AnyAsync());
        Assert.False(await check.Documents.AnyAsync());
        Assert.Equal(["source.added", "source.sync.requested", "source.removed"], await check.AuditLog.Where(a => a.Action.StartsWith("source.")).OrderBy(a => a.Id).Select(a => a.Action).ToListAsync());
    }

    [Fact]
    public async Task AddingABadSiteUrl_IsRefusedWithAReason()
    {
        var admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);

        (await PortalForms.PostAsync(admin.Client, "/admin/sources", "Add", new Dictionary<string, string> { ["siteUrl"] = "http://intranet/sites/hr" })).Dispose();

        Assert.Contains("must be an https address", await admin.Client.GetStringAsync(new Uri("/admin/sources", UriKind.Relative)), StringComparison.Ordinal);
        await using var db = _app.Db();
        Assert.False(await db.SharePointSources.AnyAsync());
    }
}
