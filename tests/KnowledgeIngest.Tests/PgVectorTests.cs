using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ChatBot.KnowledgeIngest.Tests;

/// <summary>The pgvector path (HNSW in PostgreSQL), against PGlite with pgvector: our migrations, ingestion and hybrid retrieval.</summary>
public sealed class PgVectorTests
{
    [Fact]
    public async Task WithPgvector_VectorsLiveInPostgres_InAnHnswIndex_AndAccessIsFilteredInTheQuery()
    {
        await using var pglite = await PgliteServer.StartAsync();
        await using var engine = await KnowledgeEngine.CreateAsync(
            DatabaseProvider.Postgres,
            services: s => s.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new Embeddings()),
            connectionString: pglite.ConnectionString);
        await engine.IngestAsync("fleet.txt", "Company automobiles must be returned with a full tank.");
        await engine.IngestAsync("fleet-secret.txt", "Executive automobiles: chauffeur fills tank.", DocumentScope.Restricted, principals: ["user:ceo@contoso.com"]);
        await engine.IngestAsync("menu.txt", "The canteen serves lasagne on Mondays.");

        var asEmployee = await engine.AskAsync("Car petrol rules?", email: "dev@contoso.com");
        var asChief = await engine.AskAsync("Car petrol rules?", email: "ceo@contoso.com");

        Assert.Contains("Company automobiles", Assert.Single(asEmployee).Text, StringComparison.Ordinal);
        Assert.Equal(2, asChief.Count);
        await using var connection = new NpgsqlConnection(pglite.ConnectionString);
        NpgsqlConnection.ClearAllPools(); // the engine's pooled connection is idle; PGlite serves one at a time
        await connection.OpenAsync();
        await using var vectors = new NpgsqlCommand("""SELECT count(*) FROM "DocumentChunks" WHERE "EmbeddingVector" IS NOT NULL""", connection);
        Assert.Equal(3L, await vectors.ExecuteScalarAsync());
        await using var index = new NpgsqlCommand("""SELECT indexdef FROM pg_indexes WHERE indexname = 'IX_DocumentChunks_EmbeddingVector_256'""", connection);
        Assert.Contains("hnsw", (string?)await index.ExecuteScalarAsync(), StringComparison.Ordinal);
    }

    private sealed class Embeddings : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(FakeOpenAiServer.Embed(v)))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
