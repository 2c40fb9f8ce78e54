using System.Data.Common;
using ChatBot.ChatData.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Index;

/// <summary>A chunk the full-text index found, with its score (higher is better).</summary>
public sealed record ChunkHit(long ChunkId, double Score);

/// <summary>
/// The full-text side of retrieval, one implementation per database. The access keys are part of the query itself:
/// a chunk that carries none of them is never a candidate.
/// </summary>
public interface IKnowledgeIndex
{
    Task<IReadOnlyList<ChunkHit>> SearchAsync(QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit, CancellationToken cancellationToken);
}

/// <summary>Runs one ranked query on a pooled context's connection and reads (chunk id, score) rows.</summary>
internal abstract class SqlKnowledgeIndex(IDbContextFactory<ChatDbContext> contexts, IOptions<KnowledgeOptions> options) : IKnowledgeIndex
{
    protected KnowledgeOptions Options => options.Value;

    public async Task<IReadOnlyList<ChunkHit>> SearchAsync(QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(accessKeys);
        if (terms.IsEmpty || accessKeys.Count == 0 || limit <= 0)
        {
            return [];
        }

        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var connection = context.Database.GetDbConnection();
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            Prepare(command, terms, accessKeys, limit);
            var hits = new List<ChunkHit>(limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                hits.Add(new ChunkHit(reader.GetInt64(0), Convert.ToDouble(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)));
            }

            return hits;
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Sets the command text and parameters; the command returns (chunk id, score) best first.</summary>
    protected abstract void Prepare(DbCommand command, QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit);

    protected static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>SQLite FTS5 with BM25: question words OR-ed over heading and text, access keys AND-ed in the same MATCH.</summary>
internal sealed class SqliteKnowledgeIndex(IDbContextFactory<ChatDbContext> contexts, IOptions<KnowledgeOptions> options)
    : SqlKnowledgeIndex(contexts, options)
{
    protected override void Prepare(DbCommand command, QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit)
    {
        // FTS5's default is AND; a sentence-long question needs OR. Words are letters and digits only, quoted anyway.
        var words = string.Join(" OR ", terms.Words.Select(w => $"\"{w}\""));
        var keys = string.Join(" OR ", accessKeys.Select(k => $"\"{k}\""));
        var weight = Options.HeadingWeight.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = $"""
            SELECT rowid, -rank FROM "ChunkSearch"
            WHERE "ChunkSearch" MATCH $match AND rank MATCH 'bm25({weight}, 1.0, 0.0)'
            ORDER BY rank LIMIT $limit
            """;
        Add(command, "$match", $"{{Heading Text}} : ({words}) AND AccessKeys : ({keys})");
        Add(command, "$limit", limit);
    }
}

/// <summary>PostgreSQL full-text search: the stored weighted tsvector, ts_rank, and the access keys as an array overlap.</summary>
internal sealed class PostgresKnowledgeIndex(IDbContextFactory<ChatDbContext> contexts, IOptions<KnowledgeOptions> options)
    : SqlKnowledgeIndex(contexts, options)
{
    protected override void Prepare(DbCommand command, QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit)
    {
        // Weights are {D, C, B, A}: the text is D, the heading A.
        var heading = Math.Min(1.0, 0.5 * Options.HeadingWeight).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = $$"""
            SELECT "Id", ts_rank('{0.5, 0, 0, {{heading}}}', "SearchVector", q) AS score
            FROM "DocumentChunks", to_tsquery('english', @query) AS q
            WHERE "SearchVector" @@ q AND string_to_array("AccessKeys", ' ') && @keys
            ORDER BY score DESC, "Id" LIMIT @limit
            """;
        Add(command, "@query", string.Join(" | ", terms.Words));
        Add(command, "@keys", accessKeys.ToArray());
        Add(command, "@limit", limit);
    }
}

/// <summary>SQL Server full-text search (CONTAINSTABLE); compiled and generated, never run in CI (no engine here).</summary>
internal sealed class SqlServerKnowledgeIndex(IDbContextFactory<ChatDbContext> contexts, IOptions<KnowledgeOptions> options)
    : SqlKnowledgeIndex(contexts, options)
{
    protected override void Prepare(DbCommand command, QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit)
    {
        command.CommandText = """
            SELECT TOP (@limit) c.[Id], CAST(ft.[RANK] AS float) AS score
            FROM CONTAINSTABLE([DocumentChunks], ([Heading], [Text]), @query) AS ft
            JOIN [DocumentChunks] AS c ON c.[Id] = ft.[KEY]
            WHERE CONTAINS(c.[AccessKeys], @keys)
            ORDER BY ft.[RANK] DESC, c.[Id]
            """;
        Add(command, "@query", string.Join(" OR ", terms.Words.Select(w => $"FORMSOF(INFLECTIONAL, \"{w}\")")));
        Add(command, "@keys", string.Join(" OR ", accessKeys.Select(k => $"\"{k}\"")));
        Add(command, "@limit", limit);
    }
}
