using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;

namespace ChatBot.EndToEnd.Tests;

/// <summary>The <c>sync</c> verb and <c>search --as</c> with SharePoint permissions, as real processes against a fake Graph.</summary>
public sealed class SharePointCliTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private const string GroupA = "aaaaaaaa-0000-0000-0000-00000000000a";

    private readonly TempDirectory _directory = new();
    private FakeGraph _graph = null!;

    public async Task InitializeAsync()
    {
        _graph = await FakeGraph.StartAsync();
        _graph.AddFile("a-travel", "travel.md", "# Travel policy\n\nHotels are refunded up to 180 EUR a night.", FakeGraph.OrganisationLink());
        _graph.AddFile("b-salary", "salary-bands.md", "# Salary bands\n\nEngineering band E3 pays 90000 EUR a year.", FakeGraph.Group(GroupA));
        _graph.AddFile("c-canteen", "canteen.md", "# Canteen\n\nVegetarian lasagne on Mondays.", FakeGraph.OrganisationLink());
        _graph.AddFile("e-photo", "team.png", "png", FakeGraph.OrganisationLink());
        _graph.Users["ada@contoso.com"] = ("oid-ada", [GroupA]);
        _graph.Users["bob@contoso.com"] = ("oid-bob", []);
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _directory.Dispose();
    }

    private Dictionary<string, string> Environment
    {
        get
        {
            var environment = new Dictionary<string, string>
            {
                ["ConnectionStrings__ChatBot"] = $"Data Source={_directory.File("chatbot.db")}",
                ["Knowledge__BlobPath"] = _directory.File("blobs"),
                ["SharePoint__Sites__0__SiteUrl"] = FakeGraph.SiteUrl,
                ["SharePoint__Sites__0__Library"] = "Documents",
            };
            foreach (var (key, value) in _graph.HostSettings())
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
            }

            return environment;
        }
    }

    [Fact]
    public async Task Sync_PrintsWhatChanged_AndSearchAsAUserAppliesTheirGroups()
    {
        var (exit, output, errors) = await RunAsync("sync");

        Assert.True(exit == 0, errors);
        Assert.Contains("https://contoso.sharepoint.com/sites/hr / Documents: 3 added, 0 changed, 0 removed, 1 skipped (3 pages, full enumeration)", output, StringComparison.Ordinal);
        Assert.Contains("  skipped  team.png: not a supported file type", output, StringComparison.Ordinal);

        var (_, asAda, _) = await RunAsync("search", "engineering band E3 pay", "--as", "ada@contoso.com");
        var (_, asBob, _) = await RunAsync("search", "engineering band E3 pay", "--as", "bob@contoso.com");
        Assert.Contains("90000 EUR", asAda, StringComparison.Ordinal);
        Assert.DoesNotContain("90000 EUR", asBob, StringComparison.Ordinal);

        _graph.Edit("a-travel", "# Travel policy\n\nHotels are refunded up to 200 EUR a night.");
        _graph.Delete("c-canteen");
        var (again, changes, _) = await RunAsync("sync", "--source", FakeGraph.SiteUrl + "/");

        Assert.Equal(0, again);
        Assert.Contains(": 0 added, 1 changed, 1 removed, 0 skipped (1 page)", changes, StringComparison.Ordinal);
        var (_, travel, _) = await RunAsync("search", "hotels refunded");
        Assert.Contains("200 EUR", travel, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_UnknownSource_Exits1WithAReason()
    {
        var (unknown, _, unknownErrors) = await RunAsync("sync", "--source", "https://contoso.sharepoint.com/sites/finance");

        Assert.Equal(1, unknown);
        Assert.Contains("No enabled SharePoint source has the site URL", unknownErrors, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        await using var process = HostProcess.Start(Environment, args);
        var exit = await process.WaitForExitAsync(Timeout);
        return (exit, process.StandardOutput, process.StandardError);
    }
}
