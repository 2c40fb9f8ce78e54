using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ChatBot.Bench;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest;
using ChatBot.KnowledgeIngest.Ingestion;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: dotnet run -c Release --project bench/RetrievalBench [-- --split test|train --scale 10000,100000 --postgres "<admin cs>" --set Knowledge:Key=Value,...]
// 1. BEIR SciFact (../shared/bench/retrieval/scifact): every document through intake → extraction → chunking → index,
//    then each query of the split through the retriever; nDCG@10 and Recall@100 over documents (a document ranks where
//    its best passage ranks), latency of the chat's own call (top 5, the product's defaults) p50/p99.
// 2. Scale: N generated chunks (sentences of the corpus recombined), the same queries, latency p50/p99.
// Ends with: scifact nDCG@10=<x> Recall@100=<y> p50_ms=<z> p99_ms=<w>

var split = BenchMachine.Arg("--split", "test");
var scales = BenchMachine.Arg("--scale", "10000,100000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var postgres = BenchMachine.Arg("--postgres", "");
var overrides = BenchMachine.Arg("--set", "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => (string?)kv[1]);
var data = Path.GetFullPath(BenchMachine.Arg("--data", Path.Combine(FindRepository(), "..", "shared", "bench", "retrieval", "scifact")));
if (postgres.Length > 0)
{
    Environment.SetEnvironmentVariable(PostgresTestDatabase.EnvironmentVariable, postgres);
}

BenchMachine.Print(postgres.Length > 0 ? "PostgreSQL" : "SQLite (embedded default)");
var corpus = File.ReadLines(Path.Combine(data, "corpus.jsonl")).Select(l => JsonSerializer.Deserialize<CorpusLine>(l)!).ToList();
var queries = File.ReadLines(Path.Combine(data, "queries.jsonl")).Select(l => JsonSerializer.Deserialize<QueryLine>(l)!).ToDictionary(q => q.Id, q => q.Text);
var qrels = File.ReadLines(Path.Combine(data, "qrels", split + ".tsv")).Skip(1)
    .Select(l => l.Split('\t'))
    .Where(p => int.Parse(p[2], CultureInfo.InvariantCulture) > 0)
    .GroupBy(p => p[0])
    .ToDictionary(g => g.Key, g => g.Select(p => p[1]).ToHashSet());
Console.WriteLine($"scifact: {corpus.Count} documents, {qrels.Count} {split} queries; settings: {(overrides.Count == 0 ? "defaults" : string.Join(", ", overrides.Select(o => $"{o.Key}={o.Value}")))}");

// 1. SciFact through the real pipeline.
double ndcg, recall;
List<double> latencies;
await using (var engine = await Engine.CreateAsync(overrides))
{
    var started = Stopwatch.GetTimestamp();
    var ids = await engine.IngestAsync(corpus);
    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    var chunks = await engine.CountChunksAsync();
    Console.WriteLine($"ingest: {corpus.Count} documents → {chunks} chunks in {seconds:0.0} s = {corpus.Count / seconds:0} documents/s");

    var ndcgSum = 0.0;
    var recallSum = 0.0;
    foreach (var (queryId, relevant) in qrels)
    {
        var passages = await engine.RetrieveAsync(queries[queryId], top: 300, minRelevance: 0);
        var ranked = passages.Select(p => ids[p.DocumentId]).Distinct().Take(100).ToList();
        ndcgSum += Ndcg(ranked, relevant, 10);
        recallSum += (double)ranked.Count(relevant.Contains) / relevant.Count;
    }

    ndcg = ndcgSum / qrels.Count;
    recall = recallSum / qrels.Count;

    // Latency of the call the chat pipeline makes (top 5 with the product's relevance cut), after one warm-up pass.
    foreach (var queryId in qrels.Keys)
    {
        await engine.RetrieveAsync(queries[queryId], top: 5);
    }

    latencies = [];
    foreach (var queryId in qrels.Keys)
    {
        var t = Stopwatch.GetTimestamp();
        await engine.RetrieveAsync(queries[queryId], top: 5);
        latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    }
}

var sciFactLine = string.Create(CultureInfo.InvariantCulture, $"scifact nDCG@10={ndcg:0.000} Recall@100={recall:0.000} p50_ms={Percentile(latencies, 50):0.0} p99_ms={Percentile(latencies, 99):0.0}");

// 2. Scale.
var sentences = corpus.SelectMany(d => d.Text.Split(". ", StringSplitOptions.RemoveEmptyEntries)).Where(s => s.Length > 20).ToArray();
foreach (var size in scales)
{
    await using var engine = await Engine.CreateAsync(overrides);
    var started = Stopwatch.GetTimestamp();
    await engine.GenerateChunksAsync(size, sentences);
    var loadSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    var scaleLatencies = new List<double>();
    foreach (var pass in new[] { false, true })
    {
        foreach (var queryId in qrels.Keys)
        {
            var t = Stopwatch.GetTimestamp();
            await engine.RetrieveAsync(queries[queryId], top: 5);
            if (pass)
            {
                scaleLatencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scale chunks={size} load_s={loadSeconds:0.0} p50_ms={Percentile(scaleLatencies, 50):0.0} p99_ms={Percentile(scaleLatencies, 99):0.0}"));
    if (BenchMachine.Flag("--profile"))
    {
        var indexOnly = new List<double>();
        foreach (var queryId in qrels.Keys)
        {
            var t = Stopwatch.GetTimestamp();
            await engine.SearchIndexAsync(queries[queryId]);
            indexOnly.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  index query alone: p50_ms={Percentile(indexOnly, 50):0.0} p99_ms={Percentile(indexOnly, 99):0.0}"));
    }
}

Console.WriteLine(sciFactLine);
return 0;

static double Ndcg(List<string> ranked, HashSet<string> relevant, int k)
{
    var dcg = ranked.Take(k).Select((id, i) => relevant.Contains(id) ? 1 / Math.Log2(i + 2) : 0).Sum();
    var ideal = Enumerable.Range(0, Math.Min(k, relevant.Count)).Sum(i => 1 / Math.Log2(i + 2));
    return ideal == 0 ? 0 : dcg / ideal;
}

static double Percentile(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

static string FindRepository()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ChatBot.sln")))
    {
        directory = directory.Parent;
    }

    return directory?.FullName ?? throw new InvalidOperationException("Run from inside the repository.");
}

internal sealed record CorpusLine(
    [property: System.Text.Json.Serialization.JsonPropertyName("_id")] string Id,
    [property: System.Text.Json.Serialization.JsonPropertyName("title")] string Title,
    [property: System.Text.Json.Serialization.JsonPropertyName("text")] string Text);

internal sealed record QueryLine(
    [property: System.Text.Json.Serialization.JsonPropertyName("_id")] string Id,
    [property: System.Text.Json.Serialization.JsonPropertyName("text")] string Text);

/// <summary>The knowledge engine of the host (same registrations), on a fresh database, jobs run in this process.</summary>
internal sealed class Engine : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TempDirectory _directory;
    private readonly PostgresTestDatabase? _postgres;

    private Engine(IHost host, TempDirectory directory, PostgresTestDatabase? postgres) => (_host, _directory, _postgres) = (host, directory, postgres);

    public static async Task<Engine> CreateAsync(Dictionary<string, string?> overrides)
    {
        var directory = new TempDirectory();
        var postgres = Environment.GetEnvironmentVariable(PostgresTestDatabase.EnvironmentVariable) is { Length: > 0 } ? await PostgresTestDatabase.CreateAsync() : null;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = directory.Path, EnvironmentName = "Production" });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = postgres is null ? "Sqlite" : "Postgres",
            ["ConnectionStrings:ChatBot"] = postgres?.ConnectionString ?? $"Data Source={directory.File("bench.db")}",
            ["Knowledge:BlobPath"] = "blobs",
        });
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.AddChatData();
        builder.AddKnowledgeIngest();
        builder.Services.Replace(ServiceDescriptor.Singleton<IIngestionScheduler, NoScheduler>());
        var host = builder.Build();
        await host.Services.GetRequiredService<ChatDatabase>().MigrateAsync(CancellationToken.None);
        return new Engine(host, directory, postgres);
    }

    /// <summary>Each document as a Markdown file (title as its heading) through intake and the ingestion job, two at a time.</summary>
    public async Task<Dictionary<string, string>> IngestAsync(List<CorpusLine> corpus)
    {
        var intake = _host.Services.GetRequiredService<DocumentIntake>();
        var ids = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (document, cancellationToken) =>
        {
            using var content = new MemoryStream(Encoding.UTF8.GetBytes($"# {document.Title}\n\n{document.Text}\n"));
            var result = await intake.AddAsync(new DocumentUpload(document.Id + ".md", DocumentSource.Cli, DocumentScope.Organisation, SourceKey: "scifact:" + document.Id), content, cancellationToken);
            using var scope = _host.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<IngestionJob>().RunAsync(result.DocumentId, result.Version, cancellationToken);
            ids[result.DocumentId.ToString()] = document.Id;
        });
        return new Dictionary<string, string>(ids);
    }

    /// <summary>Chunks made of random corpus sentences, written straight to the chunk table (the index triggers still run).</summary>
    public async Task GenerateChunksAsync(int count, string[] sentences)
    {
        var random = new Random(42);
        var contexts = _host.Services.GetRequiredService<IDbContextFactory<ChatDbContext>>();
        var keys = ChatBot.KnowledgeIngest.Index.AccessKeys.Organisation;
        const int perDocument = 100;
        for (var start = 0; start < count; start += perDocument)
        {
            await using var db = await contexts.CreateDbContextAsync();
            var document = new Document
            {
                Title = "Generated " + start, Source = DocumentSource.Cli, SourceName = $"generated-{start}.txt", SourceKey = "generated:" + start,
                ContentType = "text/plain", ContentHash = start.ToString("x64", CultureInfo.InvariantCulture), BlobName = "none",
                Status = DocumentStatus.Ready, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            };
            db.Documents.Add(document);
            for (var i = 0; i < Math.Min(perDocument, count - start); i++)
            {
                var text = string.Join(". ", Enumerable.Range(0, 8).Select(_ => sentences[random.Next(sentences.Length)]));
                db.DocumentChunks.Add(new DocumentChunk { DocumentId = document.Id, Ordinal = i, Heading = document.Title, Text = text, AccessKeys = keys, Tokens = text.Length / 4 });
            }

            await db.SaveChangesAsync();
        }
    }

    public Task<IReadOnlyList<ChatBot.KnowledgeIngest.Index.ChunkHit>> SearchIndexAsync(string query) =>
        _host.Services.GetRequiredService<ChatBot.KnowledgeIngest.Index.IKnowledgeIndex>()
            .SearchAsync(ChatBot.KnowledgeIngest.Index.QueryTerms.Parse(query), [ChatBot.KnowledgeIngest.Index.AccessKeys.Organisation], 50, CancellationToken.None);

    public async Task<int> CountChunksAsync()
    {
        await using var db = await _host.Services.GetRequiredService<IDbContextFactory<ChatDbContext>>().CreateDbContextAsync();
        return await db.DocumentChunks.CountAsync();
    }

    public Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(string query, int top, double? minRelevance = null)
    {
        // For ranking metrics the retriever reads only the relevance cut and the candidate count from its options;
        // the index keeps the configured ones (heading weight).
        var retriever = minRelevance is null
            ? _host.Services.GetRequiredService<IKnowledgeRetriever>()
            : ActivatorUtilities.CreateInstance<KnowledgeRetriever>(
                _host.Services,
                Microsoft.Extensions.Options.Options.Create(new KnowledgeOptions { MinRelevance = minRelevance.Value, Candidates = top }));
        return retriever.RetrieveAsync(new RetrievalRequest(query, Guid.Empty, null, Guid.Empty, true, [], top), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        _host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _directory.Dispose();
    }

    private sealed class NoScheduler : IIngestionScheduler
    {
        public void Enqueue(Guid documentId, int version, TimeSpan delay = default)
        {
        }
    }
}
