using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest.Chunking;
using ChatBot.KnowledgeIngest.Documents;
using ChatBot.KnowledgeIngest.Extraction;
using ChatBot.KnowledgeIngest.Index;
using ChatBot.KnowledgeIngest.Ingestion;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.KnowledgeIngest.SharePoint;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest;

public static class KnowledgeIngestServiceCollectionExtensions
{
    /// <summary>
    /// The knowledge engine: intake, extraction, chunking, the index of the configured database, retrieval and the
    /// ingestion job. The job queue (<see cref="IIngestionScheduler"/>) is the host's: Hangfire.
    /// </summary>
    public static IHostApplicationBuilder AddKnowledgeIngest(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var contentRoot = builder.Environment.ContentRootPath;
        services.AddOptions<GraphOptions>().BindConfiguration(GraphOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GraphOptions>, GraphOptionsValidator>();
        services.AddOptions<SharePointOptions>().BindConfiguration(SharePointOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SharePointOptions>, SharePointOptionsValidator>();
        services.AddOptions<KnowledgeOptions>().BindConfiguration(KnowledgeOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KnowledgeOptions>, KnowledgeOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IBlobStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<KnowledgeOptions>>().Value;
            return string.IsNullOrWhiteSpace(o.AzureBlobConnectionString)
                ? new DiskBlobStore(Path.GetFullPath(Path.Combine(contentRoot, o.BlobPath)))
                : new AzureBlobStore(new Azure.Storage.Blobs.BlobContainerClient(o.AzureBlobConnectionString, o.AzureBlobContainer));
        });
        services.AddSingleton<DocumentExtractor>();
        services.AddSingleton<TextChunker>();
        services.AddSingleton(sp => new ChunkEmbedder(sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>()));
        services.AddSingleton<IKnowledgeIndex>(sp => sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider switch
        {
            DatabaseProvider.Postgres => ActivatorUtilities.CreateInstance<PostgresKnowledgeIndex>(sp),
            DatabaseProvider.SqlServer => ActivatorUtilities.CreateInstance<SqlServerKnowledgeIndex>(sp),
            _ => ActivatorUtilities.CreateInstance<SqliteKnowledgeIndex>(sp),
        });
        services.AddSingleton<InMemoryVectorIndex>();
        services.TryAddSingleton<IVectorIndex>(sp => sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
            ? ActivatorUtilities.CreateInstance<PostgresVectorIndex>(sp)
            : sp.GetRequiredService<InMemoryVectorIndex>());
        // SharePoint through Graph (used only when Graph:ClientId is set); group memberships from Graph likewise.
        services.AddHttpClient(GraphTokenProvider.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<GraphTokenProvider>();
        services.AddSingleton<GraphClients>();
        services.AddSingleton<SharePointSync>();
        services.AddSingleton<SharePointSources>();
        services.AddTransient<SharePointSyncJob>();
        services.TryAddSingleton<IPrincipalGroups>(sp => sp.GetRequiredService<IOptions<GraphOptions>>().Value.Enabled
            ? ActivatorUtilities.CreateInstance<GraphPrincipalGroups>(sp)
            : new NoPrincipalGroups());
        services.TryAddSingleton<IIngestionNotifier, NoIngestionNotifier>();
        services.AddSingleton(sp => new DocumentLinks(sp.GetRequiredService<IOptions<KnowledgeOptions>>().Value.PublicUrl));
        services.AddSingleton<IKnowledgeRetriever, KnowledgeRetriever>();
        services.AddSingleton<DocumentIntake>();
        services.AddTransient<IngestionJob>();
        services.AddSingleton<IngestionRecovery>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestionRecovery>());
        return builder;
    }
}
