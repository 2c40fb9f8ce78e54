using System.Collections.Concurrent;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Ingestion;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ChatBot.KnowledgeIngest.Tests;

/// <summary>
/// The real knowledge engine (intake, extraction, chunking, index, retrieval, the ingestion job) on a real database,
/// with the job queue replaced by a recording one so a test decides when (and how often) jobs run.
/// </summary>
internal sealed class KnowledgeEngine : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TempDirectory _directory;
    private readonly PostgresTestDatabase? _postgres;

    private KnowledgeEngine(IHost host, TempDirectory directory, PostgresTestDatabase? postgres)
    {
        _host = host;
        _directory = directory;
        _postgres = postgres;
    }

    public IServiceProvider Services => _host.Services;

    public RecordingScheduler Scheduler => Services.GetRequiredService<RecordingScheduler>();

    public DocumentIntake Intake => Services.GetRequiredService<DocumentIntake>();

    public IKnowledgeRetriever Retriever => Services.GetRequiredService<IKnowledgeRetriever>();

    public string BlobDirectory => Path.Combine(_directory.Path, "blobs");

    public static async Task<KnowledgeEngine> CreateAsync(
        DatabaseProvider provider, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, string? connectionString = null)
    {
        var directory = new TempDirectory();
        var postgres = provider == DatabaseProvider.Postgres && connectionString is null ? await PostgresTestDatabase.CreateAsync() : null;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = directory.Path, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider.ToString(),
            ["ConnectionStrings:ChatBot"] = connectionString ?? postgres?.ConnectionString ?? $"Data Source={directory.File("chatbot.db")}",
            ["Knowledge:BlobPath"] = "blobs",
            ["Knowledge:RunJobs"] = "false",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.AddChatData();
        builder.AddKnowledgeIngest();
        builder.Services.AddSingleton<RecordingScheduler>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IIngestionScheduler>(sp => sp.GetRequiredService<RecordingScheduler>()));
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.Services.GetRequiredService<ChatDatabase>().MigrateAsync(CancellationToken.None);
        return new KnowledgeEngine(host, directory, postgres);
    }

    public async Task<IntakeResult> AddAsync(string fileName, byte[] content, DocumentScope scope = DocumentScope.Organisation, string? scopeKey = null, IReadOnlyList<string>? principals = null, string? sourceKey = null)
    {
        using var stream = new MemoryStream(content);
        return await Intake.AddAsync(new DocumentUpload(fileName, DocumentSource.Upload, scope, scopeKey, principals, SourceKey: sourceKey), stream, CancellationToken.None);
    }

    /// <summary>Adds the file and runs the jobs it queued.</summary>
    public async Task<IntakeResult> IngestAsync(string fileName, string text, DocumentScope scope = DocumentScope.Organisation, string? scopeKey = null, IReadOnlyList<string>? principals = null)
    {
        var result = await AddAsync(fileName, System.Text.Encoding.UTF8.GetBytes(text), scope, scopeKey, principals);
        await RunQueuedJobsAsync();
        return result;
    }

    /// <summary>
    /// Runs the jobs queued so far (not those they queue, such as retries), one after another, each with a fresh job
    /// instance as Hangfire would.
    /// </summary>
    public async Task<int> RunQueuedJobsAsync()
    {
        var ran = 0;
        for (var count = Scheduler.Queue.Count; count > 0 && Scheduler.Queue.TryDequeue(out var job); count--)
        {
            using var scope = Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<IngestionJob>().RunAsync(job.DocumentId, job.Version, CancellationToken.None);
            ran++;
        }

        return ran;
    }

    public async Task<Document> DocumentAsync(Guid id)
    {
        await using var context = await Services.GetRequiredService<IDbContextFactory<ChatDbContext>>().CreateDbContextAsync();
        return await context.Documents.AsNoTracking().Include(d => d.Principals).SingleAsync(d => d.Id == id);
    }

    public async Task<T> QueryAsync<T>(Func<ChatDbContext, Task<T>> query)
    {
        await using var context = await Services.GetRequiredService<IDbContextFactory<ChatDbContext>>().CreateDbContextAsync();
        return await query(context);
    }

    public Task<IReadOnlyList<RetrievedPassage>> AskAsync(string question, string? email = null, bool shared = false, Guid? conversation = null, IReadOnlyList<string>? channels = null, int top = 5) =>
        Retriever.RetrieveAsync(new RetrievalRequest(question, Guid.NewGuid(), email, conversation ?? Guid.NewGuid(), shared, channels ?? [], top), CancellationToken.None);

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
}

internal sealed class RecordingScheduler : IIngestionScheduler
{
    public ConcurrentQueue<(Guid DocumentId, int Version, TimeSpan Delay)> Queue { get; } = new();

    public void Enqueue(Guid documentId, int version, TimeSpan delay = default) => Queue.Enqueue((documentId, version, delay));
}
