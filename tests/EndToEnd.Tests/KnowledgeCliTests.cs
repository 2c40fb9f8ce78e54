using System.Text.Json;
using ChatBot.TestSupport;

namespace ChatBot.EndToEnd.Tests;

/// <summary>The <c>ingest</c> and <c>search</c> verbs as real processes, on the embedded default.</summary>
public sealed class KnowledgeCliTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly TempDirectory _directory = new();

    private Dictionary<string, string> Environment => new()
    {
        ["ConnectionStrings__ChatBot"] = $"Data Source={_directory.File("chatbot.db")}",
        ["Knowledge__BlobPath"] = _directory.File("blobs"),
    };

    [Fact]
    public async Task IngestFolder_ThenSearchJson_PrintsOneObjectPerLine_AndReportsFailures()
    {
        var docs = Directory.CreateDirectory(_directory.File("docs")).FullName;
        await File.WriteAllTextAsync(Path.Combine(docs, "travel.md"), "# Travel policy\n\n## Flights\n\nFlights longer than six hours may be booked in business class.\n");
        await File.WriteAllTextAsync(Path.Combine(docs, "canteen.txt"), "The canteen serves vegetarian lasagne on Mondays.");
        await File.WriteAllTextAsync(Path.Combine(docs, "broken.pdf"), "this is not a PDF");
        await File.WriteAllBytesAsync(Path.Combine(docs, "tool.exe"), [1, 2, 3]);

        var (ingestExit, ingestOut, ingestErr) = await RunAsync("ingest", docs);

        Assert.Equal(1, ingestExit); // one file failed
        Assert.Contains("travel.md: indexed (1 passage)", ingestOut, StringComparison.Ordinal);
        Assert.Contains("canteen.txt: indexed", ingestOut, StringComparison.Ordinal);
        Assert.Contains("broken.pdf: failed: The file is damaged", ingestOut, StringComparison.Ordinal);
        Assert.Contains("tool.exe (not a supported type)", ingestOut, StringComparison.Ordinal);
        Assert.Contains("3 document(s): 2 ready, 1 failed.", ingestOut, StringComparison.Ordinal);
        Assert.Contains("3/3", ingestErr, StringComparison.Ordinal); // the progress bar is on standard error

        var (searchExit, searchOut, _) = await RunAsync("search", "Can I fly business class on long flights?", "--json", "--top", "3");

        Assert.Equal(0, searchExit);
        var lines = searchOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var first = JsonDocument.Parse(Assert.Single(lines)).RootElement; // nothing else on standard output
        Assert.Equal(
            ["rank", "score", "documentId", "title", "source", "page", "section", "text"],
            first.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, first.GetProperty("rank").GetInt32());
        Assert.Equal("Travel policy", first.GetProperty("title").GetString());
        Assert.Equal("travel.md", first.GetProperty("source").GetString());
        Assert.Equal("Travel policy > Flights", first.GetProperty("section").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("page").ValueKind);
        Assert.Contains("business class", first.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.True(Guid.TryParse(first.GetProperty("documentId").GetString(), out _));

        var (againExit, againOut, _) = await RunAsync("ingest", Path.Combine(docs, "travel.md"));
        Assert.Equal(0, againExit);
        Assert.Contains("travel.md: unchanged", againOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestrictedDocument_IsFoundOnlyAsItsReader()
    {
        var file = _directory.File("salaries.txt");
        await File.WriteAllTextAsync(file, "Salary bands for engineers range from 70k to 120k.");

        var (ingestExit, _, _) = await RunAsync("ingest", file, "--scope", "user:hr@contoso.com");
        var (_, anonymous, _) = await RunAsync("search", "engineer salary bands", "--json");
        var (_, asReader, _) = await RunAsync("search", "engineer salary bands", "--json", "--as", "hr@contoso.com");
        var (_, asOther, _) = await RunAsync("search", "engineer salary bands", "--json", "--as", "dev@contoso.com");

        Assert.Equal(0, ingestExit);
        Assert.Equal("", anonymous.Trim());
        Assert.Equal("", asOther.Trim());
        Assert.Contains("70k to 120k", asReader, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ingest")]
    [InlineData("ingest", "/no/such/folder")]
    [InlineData("ingest", ".", "--scope", "everyone")]
    [InlineData("search")]
    [InlineData("search", "q", "--top", "zero")]
    public async Task BadArguments_PrintUsageAndExit1(params string[] args)
    {
        var (exit, _, errors) = await RunAsync(args);

        Assert.Equal(1, exit);
        Assert.True(errors.Contains("Usage:", StringComparison.Ordinal) || errors.Contains("neither a file nor a folder", StringComparison.Ordinal), errors);
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        await using var process = HostProcess.Start(Environment, args);
        var exit = await process.WaitForExitAsync(Timeout);
        return (exit, process.StandardOutput, process.StandardError);
    }

    public void Dispose() => _directory.Dispose();
}
