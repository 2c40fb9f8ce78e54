using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Ingestion;
using ChatBot.KnowledgeIngest.Retrieval;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChatBot.KnowledgeIngest.Tests;

public sealed class SqliteKnowledgeIndexTests : KnowledgeIndexTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class PostgresKnowledgeIndexTests : KnowledgeIndexTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

/// <summary>The whole ingestion path and permission-aware retrieval, on each real database.</summary>
public abstract class KnowledgeIndexTests
{
    private const string Travel = """
        # Travel policy

        ## Flights

        Flights longer than six hours may be booked in business class with a manager's approval.

        ## Hotels

        Hotels are booked through the travel desk, up to 180 euros a night in capital cities.
        """;

    protected abstract DatabaseProvider Provider { get; }

    private Task<KnowledgeEngine> EngineAsync(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        KnowledgeEngine.CreateAsync(Provider, settings, services);

    [Fact]
    public async Task IngestedDocument_IsFound_WithWhatACitationNeeds()
    {
        await using var engine = await EngineAsync();
        var result = await engine.IngestAsync("travel-policy.md", Travel);

        var passages = await engine.AskAsync("Can I fly business class on a long flight?");

        var best = passages[0];
        Assert.Equal(result.DocumentId.ToString(), best.DocumentId);
        Assert.Equal("Travel policy", best.Title); // the document's own heading beats the file name
        Assert.Equal("Travel policy > Flights", best.Section);
        Assert.Equal("travel-policy.md", best.Source);
        Assert.Contains("business class", best.Text, StringComparison.Ordinal);
        Assert.Equal($"/knowledge/documents/{result.DocumentId}/content", best.Url);
        var document = await engine.DocumentAsync(result.DocumentId);
        Assert.Equal(DocumentStatus.Ready, document.Status);
        Assert.Equal(2, document.ChunkCount);
        Assert.Equal(1, document.Attempts);
    }

    [Fact]
    public async Task PdfPages_AreCitedByPage()
    {
        await using var engine = await EngineAsync();
        await engine.AddAsync("security.pdf", TestFiles.Pdf("Security Handbook", ["Badges must be worn at all times."], ["Laptops are encrypted with BitLocker."]));
        await engine.RunQueuedJobsAsync();

        var best = (await engine.AskAsync("Are laptops encrypted?"))[0];

        Assert.Equal("Security Handbook", best.Title);
        Assert.Equal(2, best.Page);
    }

    [Fact]
    public async Task Ranking_PrefersThePassageThatMatchesMoreOfTheQuestion()
    {
        await using var engine = await EngineAsync();
        await engine.IngestAsync("a.txt", "The parking garage opens at seven. Visitors park on level two.");
        await engine.IngestAsync("b.txt", "Parental leave lasts sixteen weeks and can be shared between parents.");
        await engine.IngestAsync("c.txt", "Leave requests are approved by your manager in the HR portal.");

        var passages = await engine.AskAsync("How many weeks of parental leave do parents get?");

        Assert.Contains("sixteen weeks", passages[0].Text, StringComparison.Ordinal);
        Assert.DoesNotContain(passages, p => p.Text.Contains("parking", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NothingRelevant_FindsNothing_RatherThanAWeakGuess()
    {
        await using var engine = await EngineAsync();
        await engine.IngestAsync("travel.md", Travel);

        Assert.Empty(await engine.AskAsync("What is the quarterly revenue target for the Nordic sales region?"));
        Assert.Empty(await engine.AskAsync("the of and"));
    }

    [Fact]
    public async Task ChannelDocuments_AreSeenOnlyInThatChannel()
    {
        await using var engine = await EngineAsync();
        await engine.IngestAsync("launch.txt", "The Falcon launch date is the ninth of May.", DocumentScope.Channel, "team-rockets");

        Assert.NotEmpty(await engine.AskAsync("Falcon launch date", shared: true, channels: ["team-rockets"]));
        Assert.Empty(await engine.AskAsync("Falcon launch date", shared: true, channels: ["team-marketing"]));
        Assert.Empty(await engine.AskAsync("Falcon launch date", email: "ada@contoso.com"));
    }

    [Fact]
    public async Task ConversationDocuments_AreSeenOnlyInThatConversation()
    {
        await using var engine = await EngineAsync();
        var conversation = Guid.NewGuid();
        await engine.IngestAsync("notes.txt", "Meeting notes: the vendor shortlist is Acme and Globex.", DocumentScope.Conversation, conversation.ToString());

        Assert.NotEmpty(await engine.AskAsync("vendor shortlist", conversation: conversation));
        Assert.Empty(await engine.AskAsync("vendor shortlist"));
    }

    [Fact]
    public async Task RestrictedDocuments_AreSeenOnlyByTheirReaders_AndNeverInSharedConversations()
    {
        await using var engine = await EngineAsync();
        await engine.IngestAsync("salaries.txt", "Salary bands: engineers earn between 70k and 120k.", DocumentScope.Restricted, principals: ["user:HR@contoso.com"]);

        Assert.NotEmpty(await engine.AskAsync("engineer salary bands", email: "hr@contoso.com"));
        Assert.Empty(await engine.AskAsync("engineer salary bands", email: "ada@contoso.com"));
        Assert.Empty(await engine.AskAsync("engineer salary bands"));
        // The reader asks in a channel: others read the answer there, so the restricted document is not used.
        Assert.Empty(await engine.AskAsync("engineer salary bands", email: "hr@contoso.com", shared: true, channels: ["general"]));
    }

    [Fact]
    public async Task GroupRestrictedDocuments_AreSeenByGroupMembers()
    {
        var groups = new FixedGroups(new() { ["ada@contoso.com"] = ["finance-team"] });
        await using var engine = await EngineAsync(services: s => s.AddSingleton<IPrincipalGroups>(groups));
        await engine.IngestAsync("budget.txt", "The 2027 budget for cloud hosting is 2.4 million.", DocumentScope.Restricted, principals: ["group:FINANCE-team"]);

        Assert.NotEmpty(await engine.AskAsync("cloud hosting budget", email: "ada@contoso.com"));
        Assert.Empty(await engine.AskAsync("cloud hosting budget", email: "bob@contoso.com"));
    }

    [Fact]
    public async Task SameContentAgain_IsNoNewWork()
    {
        await using var engine = await EngineAsync();
        var first = await engine.IngestAsync("travel.md", Travel);

        var again = await engine.AddAsync("travel.md", System.Text.Encoding.UTF8.GetBytes(Travel));
        var renamed = await engine.AddAsync("travel (copy).md", System.Text.Encoding.UTF8.GetBytes(Travel));

        Assert.True(again.IsUnchanged);
        Assert.True(renamed.IsUnchanged);
        Assert.Equal(first.DocumentId, again.DocumentId);
        Assert.Equal(first.DocumentId, renamed.DocumentId);
        Assert.Empty(engine.Scheduler.Queue);
        Assert.Equal(1, await engine.QueryAsync(c => c.Documents.CountAsync()));
    }

    [Fact]
    public async Task NewVersion_ReplacesTheOldChunks_OnlyWhenItIsIndexed()
    {
        await using var engine = await EngineAsync();
        var first = await engine.IngestAsync("menu.txt", "The canteen serves lasagne on Mondays.");

        var second = await engine.AddAsync("menu.txt", System.Text.Encoding.UTF8.GetBytes("The canteen serves risotto on Mondays."));

        Assert.Equal(first.DocumentId, second.DocumentId);
        Assert.Equal(2, second.Version);
        Assert.Contains("lasagne", (await engine.AskAsync("canteen Mondays"))[0].Text, StringComparison.Ordinal); // old still served
        await engine.RunQueuedJobsAsync();
        var passages = await engine.AskAsync("canteen Mondays");
        Assert.Contains("risotto", Assert.Single(passages).Text, StringComparison.Ordinal);
        Assert.Empty(await engine.AskAsync("lasagne"));
    }

    [Fact]
    public async Task OutdatedJob_DoesNothing()
    {
        await using var engine = await EngineAsync();
        await engine.AddAsync("menu.txt", System.Text.Encoding.UTF8.GetBytes("Version one text about canteen."));
        await engine.AddAsync("menu.txt", System.Text.Encoding.UTF8.GetBytes("Version two text about canteen."));

        Assert.Equal(2, await engine.RunQueuedJobsAsync());

        Assert.Contains("two", Assert.Single(await engine.AskAsync("canteen text")).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_RemovesRowChunksIndexEntriesAndBlob()
    {
        await using var engine = await EngineAsync();
        var result = await engine.IngestAsync("travel.md", Travel);
        Assert.NotEmpty(Directory.EnumerateFiles(engine.BlobDirectory, "*", SearchOption.AllDirectories));

        Assert.True(await engine.Intake.DeleteAsync(result.DocumentId, CancellationToken.None));

        Assert.Empty(await engine.AskAsync("business class flights"));
        Assert.Equal(0, await engine.QueryAsync(c => c.DocumentChunks.CountAsync()));
        Assert.Empty(Directory.EnumerateFiles(engine.BlobDirectory, "*", SearchOption.AllDirectories));
        Assert.False(await engine.Intake.DeleteAsync(result.DocumentId, CancellationToken.None));
    }

    [Fact]
    public async Task PoisonFile_EndsFailedWithAReadableReason_AndIndexesNothing()
    {
        await using var engine = await EngineAsync();
        var result = await engine.AddAsync("secret.pdf", TestFiles.EncryptedPdf());

        await engine.RunQueuedJobsAsync();

        var document = await engine.DocumentAsync(result.DocumentId);
        Assert.Equal(DocumentStatus.Failed, document.Status);
        Assert.Contains("password-protected", document.FailureReason, StringComparison.Ordinal);
        Assert.Equal(1, document.Attempts);
        Assert.Empty(engine.Scheduler.Queue); // a file that can never be read is not retried
        Assert.Equal(0, await engine.QueryAsync(c => c.DocumentChunks.CountAsync()));
    }

    [Fact]
    public async Task TransientErrors_AreRetriedWithBackOff_ThenFail()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var engine = await EngineAsync(
            new() { ["Knowledge:MaxAttempts"] = "2" },
            s => s.AddSingleton(clock).AddSingleton<TimeProvider>(clock).AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new BrokenEmbeddings()));
        var result = await engine.AddAsync("notes.txt", System.Text.Encoding.UTF8.GetBytes("Some notes."));

        await engine.RunQueuedJobsAsync();
        var afterFirst = await engine.DocumentAsync(result.DocumentId);
        var retry = Assert.Single(engine.Scheduler.Queue);
        Assert.Equal(DocumentStatus.Pending, afterFirst.Status);
        Assert.True(retry.Delay >= TimeSpan.FromSeconds(10), $"back-off {retry.Delay}");

        await engine.RunQueuedJobsAsync(); // too early: the back-off holds the document
        Assert.Equal(1, (await engine.DocumentAsync(result.DocumentId)).Attempts);
        clock.Advance(TimeSpan.FromMinutes(1));
        engine.Scheduler.Enqueue(result.DocumentId, result.Version);
        await engine.RunQueuedJobsAsync();

        var failed = await engine.DocumentAsync(result.DocumentId);
        Assert.Equal(DocumentStatus.Failed, failed.Status);
        Assert.Equal(2, failed.Attempts);
        Assert.Contains("embedding service unavailable", failed.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrashedWorker_LapsedLease_IsResumedByRecovery_AndIndexedOnce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var engine = await EngineAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        var result = await engine.AddAsync("travel.md", System.Text.Encoding.UTF8.GetBytes(Travel));
        engine.Scheduler.Queue.Clear(); // the queue died with the process (in-memory Hangfire storage)
        // A worker claimed the document, extracted it and died before writing: its lease is in the row.
        await engine.QueryAsync(c => c.Documents.Where(d => d.Id == result.DocumentId).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, DocumentStatus.Processing)
            .SetProperty(d => d.LeaseOwner, "crashed-worker")
            .SetProperty(d => d.LeaseUntil, clock.GetUtcNow().UtcDateTime.AddMinutes(2))
            .SetProperty(d => d.Attempts, 1)));
        var recovery = engine.Services.GetRequiredService<IngestionRecovery>();

        Assert.Equal(0, await recovery.RequeueAsync(atStart: true, CancellationToken.None)); // its lease is still live
        clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(1, await recovery.RequeueAsync(atStart: false, CancellationToken.None));
        engine.Scheduler.Enqueue(result.DocumentId, result.Version); // and a duplicate delivery of the same job
        await engine.RunQueuedJobsAsync();

        var document = await engine.DocumentAsync(result.DocumentId);
        Assert.Equal(DocumentStatus.Ready, document.Status);
        Assert.Equal(2, document.Attempts);
        Assert.Null(document.LeaseOwner);
        Assert.Equal(2, await engine.QueryAsync(c => c.DocumentChunks.CountAsync()));
        Assert.Single(await engine.AskAsync("business class flights", top: 5), p => p.Text.Contains("business class", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Recovery_AtStart_QueuesPendingDocumentsTheLostQueueHeld()
    {
        await using var engine = await EngineAsync();
        var result = await engine.AddAsync("travel.md", System.Text.Encoding.UTF8.GetBytes(Travel));
        engine.Scheduler.Queue.Clear();

        Assert.Equal(1, await engine.Services.GetRequiredService<IngestionRecovery>().RequeueAsync(atStart: true, CancellationToken.None));
        await engine.RunQueuedJobsAsync();

        Assert.Equal(DocumentStatus.Ready, (await engine.DocumentAsync(result.DocumentId)).Status);
    }

    [Theory]
    [InlineData("empty.txt", 0, "empty")]
    [InlineData("big.txt", 5000, "larger than")]
    [InlineData("tool.exe", 10, "not a supported file type")]
    public async Task RefusedUploads_StoreNothing(string fileName, int size, string reason)
    {
        await using var engine = await EngineAsync(new() { ["Knowledge:MaxFileBytes"] = "4096" });

        var error = await Assert.ThrowsAsync<DocumentRejectedException>(() => engine.AddAsync(fileName, new byte[size]));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await engine.QueryAsync(c => c.Documents.CountAsync()));
        Assert.False(Directory.Exists(engine.BlobDirectory) && Directory.EnumerateFiles(engine.BlobDirectory, "*", SearchOption.AllDirectories).Any());
    }

    [Theory]
    [InlineData(DocumentScope.Channel, null, null, "needs the channel")]
    [InlineData(DocumentScope.Restricted, null, null, "at least one user or group")]
    [InlineData(DocumentScope.Restricted, null, "everyone", "'user:<email>' or 'group:<id>'")]
    public async Task UploadsWithoutAUsableScope_AreRefused(DocumentScope scope, string? scopeKey, string? principal, string reason)
    {
        await using var engine = await EngineAsync();

        var error = await Assert.ThrowsAsync<DocumentRejectedException>(() =>
            engine.AddAsync("a.txt", [65], scope, scopeKey, principal is null ? null : [principal]));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithEmbeddings_MeaningFindsWhatWordsMiss_AndStoredVectorsComeFromTheModel()
    {
        await using var engine = await EngineAsync(services: s => s.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new FakeEmbeddings()));
        await engine.IngestAsync("fleet.txt", "Company automobiles must be returned with a full tank.");
        await engine.IngestAsync("menu.txt", "The canteen serves lasagne on Mondays.");

        var passages = await engine.AskAsync("Car petrol rules?");

        Assert.Contains("automobiles", Assert.Single(passages).Text, StringComparison.Ordinal);
        var stored = await engine.QueryAsync(c => c.DocumentChunks.Select(x => x.Embedding).FirstAsync());
        Assert.Equal(256 * sizeof(float), stored!.Length);
    }

    [Fact]
    public async Task WithEmbeddings_RestrictedPassagesAreFilteredBeforeRanking()
    {
        await using var engine = await EngineAsync(services: s => s.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new FakeEmbeddings()));
        await engine.IngestAsync("fleet.txt", "Company automobiles must be returned with a full tank.", DocumentScope.Restricted, principals: ["user:fleet@contoso.com"]);

        Assert.Empty(await engine.AskAsync("Car petrol rules?", email: "dev@contoso.com"));
        Assert.Empty(await engine.AskAsync("Car petrol rules?", email: "fleet@contoso.com", shared: true));
        Assert.NotEmpty(await engine.AskAsync("Car petrol rules?", email: "fleet@contoso.com"));
    }

    [Fact]
    public async Task EmbeddingServiceDown_WhenAsking_FallsBackToFullText()
    {
        var embeddings = new FakeEmbeddings();
        await using var engine = await EngineAsync(services: s => s.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(embeddings));
        await engine.IngestAsync("fleet.txt", "Company automobiles must be returned with a full tank.");
        embeddings.Broken = true;

        Assert.Empty(await engine.AskAsync("Car petrol rules?"));
        Assert.Single(await engine.AskAsync("Must automobiles be returned with a full tank?"));
    }

    private sealed class FakeEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
    {
        public bool Broken { get; set; }

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Broken
                ? throw new HttpRequestException("embedding service unavailable")
                : Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(ChatBot.TestSupport.Fakes.FakeOpenAiServer.Embed(v)))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class FixedGroups(Dictionary<string, string[]> groups) : IPrincipalGroups
    {
        public Task<IReadOnlyList<string>> GroupsOfAsync(string email, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>(groups.GetValueOrDefault(email, []));
    }

    private sealed class BrokenEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new HttpRequestException("embedding service unavailable");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
