using System.Data.Common;
using System.Globalization;
using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace ChatBot.KnowledgeIngest.Index;

/// <summary>
/// pgvector on PostgreSQL: a <c>vector</c> column beside the stored embedding, an HNSW index (cosine) per dimension,
/// and the access filter in the same query (with pgvector's iterative scan, so a narrow filter still fills the list).
/// Where the server has no pgvector extension, it says so once at the first search and uses the exact in-application
/// search instead.
/// </summary>
internal sealed partial class PostgresVectorIndex(
    IDbContextFactory<ChatDbContext> contexts,
    InMemoryVectorIndex fallback,
    ILogger<PostgresVectorIndex> logger) : IVectorIndex, IDisposable
{
    private readonly SemaphoreSlim _setup = new(1, 1);
    private bool? _available;
    private readonly HashSet<int> _indexedDimensions = [];

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, IReadOnlyCollection<string> accessKeys, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(accessKeys);
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var connection = context.Database.GetDbConnection();
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (!await AvailableAsync(connection, cancellationToken))
            {
                return await fallback.SearchAsync(query, accessKeys, limit, cancellationToken);
            }

            await EnsureIndexAsync(connection, query.Length, cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await TryExecuteAsync(connection, "SET LOCAL hnsw.iterative_scan = relaxed_order", cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                SELECT "Id", 1 - ("EmbeddingVector"::vector({query.Length}) <=> @query::vector({query.Length})) AS similarity
                FROM "DocumentChunks"
                WHERE "EmbeddingVector" IS NOT NULL AND vector_dims("EmbeddingVector") = {query.Length}
                  AND string_to_array("AccessKeys", ' ') && @keys
                ORDER BY "EmbeddingVector"::vector({query.Length}) <=> @query::vector({query.Length})
                LIMIT @limit
                """;
            SqlKnowledgeIndex.Add(command, "@query", ToText(query));
            SqlKnowledgeIndex.Add(command, "@keys", accessKeys.ToArray());
            SqlKnowledgeIndex.Add(command, "@limit", limit);
            var hits = new List<VectorHit>(limit);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    hits.Add(new VectorHit(reader.GetInt64(0), reader.GetDouble(1)));
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return hits;
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Copies stored embeddings that have no vector yet into the vector column.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var connection = context.Database.GetDbConnection();
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (!await AvailableAsync(connection, cancellationToken))
            {
                return;
            }

            while (true)
            {
                var pending = await context.DocumentChunks.FromSqlRaw(
                        """SELECT * FROM "DocumentChunks" WHERE "Embedding" IS NOT NULL AND "EmbeddingVector" IS NULL LIMIT 500""")
                    .AsNoTracking()
                    .Select(c => new { c.Id, c.Embedding })
                    .ToListAsync(cancellationToken);
                if (pending.Count == 0)
                {
                    return;
                }

                foreach (var row in pending)
                {
                    await using var command = connection.CreateCommand();
                    command.CommandText = """UPDATE "DocumentChunks" SET "EmbeddingVector" = @vector::vector WHERE "Id" = @id""";
                    SqlKnowledgeIndex.Add(command, "@vector", ToText(ChunkEmbedder.FromBytes(row.Embedding!)));
                    SqlKnowledgeIndex.Add(command, "@id", row.Id);
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }

    public void Dispose() => _setup.Dispose();

    /// <summary>Whether pgvector can be used; the first call creates the extension and the vector column.</summary>
    private async Task<bool> AvailableAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (_available is bool known)
        {
            return known;
        }

        await _setup.WaitAsync(cancellationToken);
        try
        {
            if (_available is bool decided)
            {
                return decided;
            }

            await using var probe = connection.CreateCommand();
            probe.CommandText = "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'";
            var available = Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
            if (available)
            {
                await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS vector", cancellationToken);
                await ExecuteAsync(connection, """ALTER TABLE "DocumentChunks" ADD COLUMN IF NOT EXISTS "EmbeddingVector" vector""", cancellationToken);
                Log.PgVectorOn(logger);
            }
            else
            {
                Log.PgVectorMissing(logger);
            }

            _available = available;
            return available;
        }
        finally
        {
            _setup.Release();
        }
    }

    private async Task EnsureIndexAsync(DbConnection connection, int dimensions, CancellationToken cancellationToken)
    {
        lock (_indexedDimensions)
        {
            if (_indexedDimensions.Contains(dimensions))
            {
                return;
            }
        }

        // HNSW needs a fixed dimension: one partial expression index per embedding size in use.
        await ExecuteAsync(
            connection,
            $"""
            CREATE INDEX IF NOT EXISTS "IX_DocumentChunks_EmbeddingVector_{dimensions}" ON "DocumentChunks"
            USING hnsw (("EmbeddingVector"::vector({dimensions})) vector_cosine_ops)
            WHERE vector_dims("EmbeddingVector") = {dimensions}
            """,
            cancellationToken);
        lock (_indexedDimensions)
        {
            _indexedDimensions.Add(dimensions);
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Settings that older pgvector versions do not know are skipped.</summary>
    private static async Task TryExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SAVEPOINT optional_setting; " + sql + "; RELEASE SAVEPOINT optional_setting";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (DbException)
        {
            await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT optional_setting", cancellationToken);
        }
    }

    private static string ToText(float[] vector) =>
        "[" + string.Join(',', vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";


    private static partial class Log
    {
        [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "pgvector is available: vector search runs in PostgreSQL (HNSW)")]
        public static partial void PgVectorOn(ILogger logger);

        [LoggerMessage(EventId = 4502, Level = LogLevel.Warning, Message = "The PostgreSQL server has no pgvector extension: vector search runs exactly in the application, which holds every embedding in memory. Install pgvector for large knowledge bases.")]
        public static partial void PgVectorMissing(ILogger logger);
    }
}
