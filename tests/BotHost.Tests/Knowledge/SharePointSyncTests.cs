using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.KnowledgeIngest.SharePoint;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Knowledge;

/// <summary>
/// SharePoint sync through the real host against a fake Graph on 127.0.0.1: a library over several delta pages, files
/// shared with two groups, one user and the whole organisation, changes and deletions between syncs, throttling, a
/// crash mid-sync, an expired delta link — and people in group A and group B asking through the real chat path.
/// </summary>
public sealed class SharePointSyncTests : IAsyncLifetime
{
    private const string GroupA = "aaaaaaaa-0000-0000-0000-00000000000a";
    private const string GroupB = "bbbbbbbb-0000-0000-0000-00000000000b";

    private FakeGraph _graph = null!;
    private ChatBotAppFactory _app = null!;
    private long _sourceId;

    public async Task InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        _graph.AddFolder("f-pol", "Policies");
        _graph.AddFile("a-travel", "travel.md", "# Travel policy\n\nTake the train for trips under four hours. Hotels are refunded up to 180 EUR a night.", FakeGraph.OrganisationLink(), "f-pol");
        _graph.AddFile("b-salary", "salary-bands.md", "# Salary bands\n\nEngineering band E3 pays 90000 EUR a year.", FakeGraph.Group(GroupA), "f-pol");
        _graph.AddFile("c-bonus", "bonus-plan.md", "# Sales bonus plan\n\nThe sales bonus is 12 percent of quota, paid quarterly.", FakeGraph.Group(GroupB), "f-pol");
        _graph.AddFile("d-big", "handbook.pdf", "%PDF-1.7", FakeGraph.OrganisationLink(), "f-pol").ReportedSize = 50L * 1024 * 1024;
        _graph.AddFile("e-photo", "team.png", "png", FakeGraph.OrganisationLink(), "f-pol");
        _graph.AddFile("f-members", "members-only.md", "# Members\n\nOnly for site members.", FakeGraph.SiteGroupOnly(), "f-pol");
        _graph.AddFile("g-user", "ada-notes.md", "# Ada's onboarding notes\n\nAda's laptop arrives on Monday.", FakeGraph.User("ada@contoso.com"), "f-pol");
        _graph.AddFile("h-outside", "elsewhere.md", "# Elsewhere\n\nNot in the Policies folder.", FakeGraph.OrganisationLink());
        _graph.Users["ada@contoso.com"] = ("oid-ada", [GroupA]);
        _graph.Users["bob@contoso.com"] = ("oid-bob", [GroupB]);

        _app = new ChatBotAppFactory().With("Knowledge:MaxFileBytes", (10 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (key, value) in _graph.HostSettings())
        {
            _app.With(key, value);
        }

        _ = _app.Services;
        _sourceId = (await _app.Services.GetRequiredService<SharePointSources>().AddAsync(FakeGraph.SiteUrl, "Documents", "Policies", null, null, CancellationToken.None)).Id;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _graph.DisposeAsync();
    }

    private Task<SyncReport> SyncAsync() => _app.Services.GetRequiredService<SharePointSync>().SyncAsync(_sourceId, CancellationToken.None);

    [Fact]
    public async Task FirstSync_PagesThroughTheLibrary_TakesFilesWithTheirAccess_AndRecordsWhyOthersWereSkipped()
    {
        var report = await SyncAsync();

        Assert.Equal((4, 0, 0, 3, 5, true), (report.Added, report.Changed, report.Removed, report.Skipped, report.Pages, report.FullEnumeration));
        await WaitForReadyAsync(4);
        await using var db = _app.Db();
        var documents = await db.Documents.Include(d => d.Principals).Where(d => d.Source == DocumentSource.SharePoint).ToDictionaryAsync(d => d.SourceName);
        Assert.Equal(["ada-notes.md", "bonus-plan.md", "salary-bands.md", "travel.md"], documents.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(DocumentScope.Organisation, documents["travel.md"].Scope);
        Assert.Equal(FakeGraph.SiteUrl + "/Shared%20Documents/travel.md", documents["travel.md"].Url);
        Assert.Equal(("group:" + GroupA, DocumentScope.Restricted), (Assert.Single(documents["salary-bands.md"].Principals).Principal, documents["salary-bands.md"].Scope));
        Assert.Equal("user:ada@contoso.com", Assert.Single(documents["ada-notes.md"].Principals).Principal);
        var skipped = await db.SharePointItems.Where(i => i.SkippedReason != null).ToDictionaryAsync(i => i.Name, i => i.SkippedReason!);
        Assert.StartsWith("larger than the 10 MB limit", skipped["handbook.pdf"], StringComparison.Ordinal);
        Assert.Equal("not a supported file type", skipped["team.png"]);
        Assert.Contains("SharePoint site groups", skipped["members-only.md"], StringComparison.Ordinal);
        Assert.Equal("outside the folder", skipped["elsewhere.md"]);
        Assert.Equal(0, _graph.DownloadsOf("d-big") + _graph.DownloadsOf("e-photo") + _graph.DownloadsOf("h-outside")); // refused before any download
        var source = await db.SharePointSources.SingleAsync();
        Assert.Equal((4, (string?)null, false), (source.ItemCount, source.LastError, source.IsEnumerating));
        Assert.Contains("token=seq-", source.DeltaLink, StringComparison.Ordinal);
        Assert.Equal(1, _graph.TokensIssued); // one token for the whole pass
    }

    [Fact]
    public async Task SecondSync_TakesOnlyWhatChanged_EditsRenamesDeletionsAndNewAccess()
    {
        await SyncAsync();
        _graph.Edit("a-travel", "# Travel policy\n\nTake the train for trips under five hours. Hotels are refunded up to 200 EUR a night.");
        _graph.Rename("c-bonus", "sales-bonus-plan.md");
        _graph.Delete("b-salary");
        _graph.SetPermissions("g-user", FakeGraph.OrganisationLink());

        var report = await SyncAsync();

        Assert.Equal((0, 2, 1, 0, false), (report.Added, report.Changed, report.Removed, report.Skipped, report.FullEnumeration));
        Assert.Equal((2, 1), (_graph.DownloadsOf("a-travel"), _graph.DownloadsOf("c-bonus"))); // the rename kept its content tag: not downloaded again
        await WaitForReadyAsync(3);
        await using var db = _app.Db();
        var documents = await db.Documents.Where(d => d.Source == DocumentSource.SharePoint).ToDictionaryAsync(d => d.SourceKey);
        Assert.False(documents.ContainsKey($"sharepoint:{FakeGraph.DriveId}:b-salary"));
        Assert.Equal((2, DocumentScope.Organisation), (documents[$"sharepoint:{FakeGraph.DriveId}:a-travel"].Version, documents[$"sharepoint:{FakeGraph.DriveId}:g-user"].Scope));
        Assert.Contains(await db.DocumentChunks.Select(c => c.Text).ToListAsync(), t => t.Contains("200 EUR", StringComparison.Ordinal));
        Assert.DoesNotContain(await db.DocumentChunks.Select(c => c.Text).ToListAsync(), t => t.Contains("90000", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task ThrottledPage_WaitsForRetryAfterAndCarriesOn(int status)
    {
        _graph.FailDeltaRequest(2, status, retryAfterSeconds: 1);

        var report = await SyncAsync();

        Assert.Equal(4, report.Added);
        Assert.Equal(6, _graph.DeltaRequests); // five pages, one of them asked twice
        var asked = _graph.Requests.Where(r => r.Contains("delta()", StringComparison.Ordinal)).ToList();
        Assert.Equal(asked[1], asked[2]); // the throttled page was asked again, not skipped
    }

    [Fact]
    public async Task CrashMidSync_TheNextRunResumesFromTheSavedLink_AndNothingIsIngestedTwice()
    {
        _graph.FailDeltaRequest(4, 500);

        await Assert.ThrowsAnyAsync<Exception>(SyncAsync);
        string? savedLink;
        await using (var db = _app.Db())
        {
            var source = await db.SharePointSources.SingleAsync();
            Assert.NotNull(source.LastError);
            Assert.Contains("skip=6", source.DeltaLink, StringComparison.Ordinal); // page 4 of 5: where it stopped
            savedLink = source.DeltaLink;
        }

        var before = _graph.Requests.Count;
        var report = await SyncAsync();

        Assert.Equal((2, true), (report.Pages, report.FullEnumeration));
        var resumedWith = _graph.Requests.Skip(before).First(r => r.Contains("delta()", StringComparison.Ordinal));
        Assert.EndsWith(savedLink!.Split('?')[1], resumedWith, StringComparison.Ordinal);
        Assert.All(new[] { "a-travel", "b-salary", "c-bonus", "g-user" }, id => Assert.Equal(1, _graph.DownloadsOf(id)));
        await WaitForReadyAsync(4);
        await using var check = _app.Db();
        Assert.All(await check.Documents.ToListAsync(), d => Assert.Equal(1, d.Version));
        Assert.Null((await check.SharePointSources.SingleAsync()).LastError);
    }

    [Fact]
    public async Task ExpiredDeltaLink_EnumeratesAgain_AndPrunesWhatIsGone()
    {
        await SyncAsync();
        _graph.DeleteSilently("c-bonus");
        _graph.ExpireTokens();

        var report = await SyncAsync();

        Assert.Equal((0, 0, 1, true), (report.Added, report.Changed, report.Removed, report.FullEnumeration));
        await using var db = _app.Db();
        Assert.False(await db.Documents.AnyAsync(d => d.SourceKey == $"sharepoint:{FakeGraph.DriveId}:c-bonus"));
        Assert.False(await db.SharePointItems.AnyAsync(i => i.ItemId == "c-bonus"));
        Assert.Equal(1, _graph.DownloadsOf("a-travel")); // unchanged files are not taken again
    }

    [Fact]
    public async Task WrongCredentials_FailTheSyncWithAReasonNamingTheSettings()
    {
        await _app.DisposeAsync();
        _app = new ChatBotAppFactory();
        foreach (var (key, value) in _graph.HostSettings())
        {
            _app.With(key, value);
        }

        _app.With("Graph:ClientSecret", "wrong");
        _sourceId = (await _app.Services.GetRequiredService<SharePointSources>().AddAsync(FakeGraph.SiteUrl, "", "", null, null, CancellationToken.None)).Id;

        await Assert.ThrowsAsync<GraphAuthenticationException>(SyncAsync);

        await using var db = _app.Db();
        Assert.Contains("Graph:ClientSecret", (await db.SharePointSources.SingleAsync()).LastError, StringComparison.Ordinal);
        Assert.False(await db.Documents.AnyAsync());
    }

    [Fact]
    public async Task PeopleInGroupAAndGroupB_EachRetrieveOnlyTheirGroupsFiles_ThroughTheChat()
    {
        await SyncAsync();
        await WaitForReadyAsync(4);
        var ada = await ChatDriver.SignInNewUserAsync(_app, UserRole.User, "ada@contoso.com");
        var bob = await ChatDriver.SignInNewUserAsync(_app, UserRole.User, "bob@contoso.com");
        var eve = await ChatDriver.SignInNewUserAsync(_app, UserRole.User, "eve@contoso.com"); // unknown to Graph: no groups

        var adaSalary = await ada.SendAsync("How much does engineering band E3 pay?");
        var bobSalary = await bob.SendAsync("How much does engineering band E3 pay?");
        var bobBonus = await bob.SendAsync("What is the sales bonus?");
        var adaBonus = await ada.SendAsync("What is the sales bonus?");
        var eveTravel = await eve.SendAsync("Up to how much are hotels refunded?");
        var eveSalary = await eve.SendAsync("How much does engineering band E3 pay?");

        Assert.Contains("90000", adaSalary.FinalText, StringComparison.Ordinal);
        Assert.DoesNotContain("90000", bobSalary.FinalText, StringComparison.Ordinal);
        Assert.Contains("12 percent", bobBonus.FinalText, StringComparison.Ordinal);
        Assert.DoesNotContain("12 percent", adaBonus.FinalText, StringComparison.Ordinal);
        Assert.Contains("180 EUR", eveTravel.FinalText, StringComparison.Ordinal);
        Assert.DoesNotContain("90000", eveSalary.FinalText, StringComparison.Ordinal);
        var citation = adaSalary.Final!.Data.GetProperty("citations")[0];
        Assert.Equal(FakeGraph.SiteUrl + "/Shared%20Documents/salary-bands.md", citation.GetProperty("url").GetString());
    }

    [Fact]
    public async Task GroupFiles_AreUsedInTheChannelsOfTheTeamBehindTheGroup_AndNowhereElseShared()
    {
        await SyncAsync();
        await WaitForReadyAsync(4);
        var retriever = _app.Services.GetRequiredService<IKnowledgeRetriever>();

        var teamChannel = await retriever.RetrieveAsync(new RetrievalRequest("engineering band E3 pay", Guid.NewGuid(), "bob@contoso.com", Guid.NewGuid(), true, ["team-1", "channel-1", "group:" + GroupA], 5), CancellationToken.None);
        var otherChannel = await retriever.RetrieveAsync(new RetrievalRequest("engineering band E3 pay", Guid.NewGuid(), "ada@contoso.com", Guid.NewGuid(), true, ["team-2", "channel-2"], 5), CancellationToken.None);

        Assert.Contains(teamChannel, p => p.Text.Contains("90000", StringComparison.Ordinal));
        Assert.DoesNotContain(otherChannel, p => p.Text.Contains("90000", StringComparison.Ordinal)); // a shared channel never uses Ada's own access
    }

    private Task WaitForReadyAsync(int count) =>
        _app.WaitForAsync(async db => await db.Documents.CountAsync(d => d.Source == DocumentSource.SharePoint && d.Status == DocumentStatus.Ready) == count, TimeSpan.FromSeconds(30));
}
