using System.Collections.Concurrent;
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
            return await SearchAsync(connection, terms, accessKeys, limit, cancellationToken);
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }

    /// <summary>One ranked query on an open connection.</summary>
    protected virtual async Task<IReadOnlyList<ChunkHit>> SearchAsync(DbConnection connection, QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(terms);
        await using var command = connection.CreateCommand();
        Prepare(command, terms.Words, accessKeys, limit);
        var hits = new List<ChunkHit>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new ChunkHit(reader.GetInt64(0), Convert.ToDouble(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return hits;
    }

    protected abstract void Prepare(DbCommand command, IReadOnlyList<string> words, IReadOnlyCollection<string> accessKeys, int limit);

    internal static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>
/// SQLite FTS5 with BM25: question words OR-ed over heading and text, access keys AND-ed in the same MATCH.
/// FTS5 scores every row that matches any word, so on a large index a question with common words (in more than
/// <c>Knowledge:CommonTermShare</c> of all passages) runs in two steps: FTS5 finds the best candidates by the less
/// common words, then <see cref="Bm25Reranker"/> ranks those candidates by BM25 over all the words. A passage that has
/// only common words of the question is the one thing this can miss. Document frequencies are counted by FTS5 itself
/// (its stemming applies) and cached for a few minutes.
/// </summary>
internal sealed class SqliteKnowledgeIndex(IDbContextFactory<ChatDbContext> contexts, IOptions<KnowledgeOptions> options)
    : SqlKnowledgeIndex(contexts, options)
{
    private const int MinRowsToPrune = 20_000; // below this, every question gets exact BM25 over all its words
    private const int MaxCachedWords = 50_000;
    private const int CandidatesPerResult = 4;
    private static readonly long CacheMilliseconds = (long)TimeSpan.FromMinutes(5).TotalMilliseconds;

    private readonly ConcurrentDictionary<string, (long Count, long At)> _frequencies = new(StringComparer.Ordinal);
    private RowStatistics? _rows; // a reference, swapped whole: readers never see half an update

    protected override async Task<IReadOnlyList<ChunkHit>> SearchAsync(DbConnection connection, QueryTerms terms, IReadOnlyCollection<string> accessKeys, int limit, CancellationToken cancellationToken)
    {
        var counted = await CountedWordsAsync(connection, terms.Words, cancellationToken);
        if (counted is null)
        {
            return await base.SearchAsync(connection, terms, accessKeys, limit, cancellationToken);
        }

        var (rows, averageLength, words) = counted.Value;
        var share = Options.CommonTermShare;
        var found = words.Where(w => w.Count > 0).ToList();
        var rare = found.Where(w => w.Count <= share * rows).Select(w => w.Word).ToList();
        if (rare.Count == found.Count)
        {
            return await base.SearchAsync(connection, terms, accessKeys, limit, cancellationToken);
        }

        // Only common words: the two least common find the candidates.
        var seekers = rare.Count > 0 ? rare : [.. found.OrderBy(w => w.Count).Take(2).Select(w => w.Word)];
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT c."Id", c."Heading", c."Text" FROM "DocumentChunks" AS c
            JOIN (SELECT rowid AS id, rank FROM "ChunkSearch" WHERE "ChunkSearch" MATCH $match AND rank MATCH $rank ORDER BY rank LIMIT $limit) AS s
              ON c."Id" = s.id
            """;
        Add(command, "$match", Match(seekers, accessKeys));
        Add(command, "$rank", Bm25());
        Add(command, "$limit", Math.Max(limit * CandidatesPerResult, 100));
        var reranker = new Bm25Reranker(found.Select(w => (w.Word, w.Count)).ToList(), rows, averageLength, Options.HeadingWeight);
        var hits = new List<ChunkHit>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                hits.Add(new ChunkHit(reader.GetInt64(0), reranker.Score(reader.GetString(1), reader.GetString(2))));
            }
        }

        return [.. hits.OrderByDescending(h => h.Score).ThenBy(h => h.ChunkId).Take(limit)];
    }

    protected override void Prepare(DbCommand command, IReadOnlyList<string> words, IReadOnlyCollection<string> accessKeys, int limit)
    {
        command.CommandText = """
            SELECT rowid, -rank FROM "ChunkSearch"
            WHERE "ChunkSearch" MATCH $match AND rank MATCH $rank
            ORDER BY rank LIMIT $limit
            """;
        Add(command, "$match", Match(words, accessKeys));
        Add(command, "$rank", Bm25());
        Add(command, "$limit", limit);
    }

    /// <summary>FTS5's default is AND; a sentence-long question needs OR. Words are letters and digits only, quoted anyway.</summary>
    private static string Match(IEnumerable<string> words, IEnumerable<string> accessKeys) =>
        $"{{Heading Text}} : ({string.Join(" OR ", words.Select(w => $"\"{w}\""))}) AND AccessKeys : ({string.Join(" OR ", accessKeys.Select(k => $"\"{k}\""))})";

    private string Bm25() => $"bm25({Options.HeadingWeight.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}, 1.0, 0.0)";

    /// <summary>The index size and each word's passage count, or null when the index is too small to bother.</summary>
    private async Task<(long Rows, double AverageLength, List<(string Word, long Count)> Words)?> CountedWordsAsync(
        DbConnection connection, IReadOnlyList<string> words, CancellationToken cancellationToken)
    {
        if (Options.CommonTermShare >= 1 || words.Count <= 1)
        {
            return null;
        }

        var (rows, averageLength) = await RowsAsync(connection, cancellationToken);
        if (rows < MinRowsToPrune)
        {
            return null;
        }

        var counted = new List<(string Word, long Count)>(words.Count);
        foreach (var word in words)
        {
            counted.Add((word, await PassagesWithAsync(connection, word, cancellationToken)));
        }

        return (rows, averageLength, counted);
    }

    private async Task<(long Count, double AverageLength)> RowsAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        if (_rows is { } cached && now - cached.At < CacheMilliseconds)
        {
            return (cached.Count, cached.AverageLength);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT count(*), coalesce(avg(length("Heading") + length("Text")), 1) FROM "DocumentChunks" """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var rows = new RowStatistics(reader.GetInt64(0), reader.GetDouble(1), now);
        _rows = rows;
        return (rows.Count, rows.AverageLength);
    }

    /// <summary>How many passages contain the word (after FTS5's stemming), from the cache when it is recent.</summary>
    private async Task<long> PassagesWithAsync(DbConnection connection, string word, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        if (_frequencies.TryGetValue(word, out var cached) && now - cached.At < CacheMilliseconds)
        {
            return cached.Count;
        }

        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT count(*) FROM "ChunkSearch" WHERE "ChunkSearch" MATCH $match""";
        Add(command, "$match", $"{{Heading Text}} : \"{word}\"");
        var count = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        if (_frequencies.Count >= MaxCachedWords)
        {
            _frequencies.Clear();
        }

        _frequencies[word] = (count, now);
        return count;
    }

    private sealed record RowStatistics(long Count, double AverageLength, long At);
}

/// <summary>PostgreSQL full-text search: the stored weighted tsvector, ts_rank, and the access keys as an array overlap.</summary>
internal sealed class PostgresKnowledgeIndex(IDbContextFactory<ChatDbContext> contexts, IOptions<KnowledgeOptions> options)
    : SqlKnowledgeIndex(contexts, options)
{
    protected override void Prepare(DbCommand command, IReadOnlyList<string> words, IReadOnlyCollection<string> accessKeys, int limit)
    {
        // Weights are {D, C, B, A}: the text is D, the heading A.
        var heading = Math.Min(1.0, 0.5 * Options.HeadingWeight).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = $$"""
            SELECT "Id", ts_rank('{0.5, 0, 0, {{heading}}}', "SearchVector", q) AS score
            FROM "DocumentChunks", to_tsquery('english', @query) AS q
            WHERE "SearchVector" @@ q AND string_to_array("AccessKeys", ' ') && @keys
            ORDER BY score DESC, "Id" LIMIT @limit
            """;
        Add(command, "@query", string.Join(" | ", words));
        Add(command, "@keys", accessKeys.ToArray());
        Add(command, "@limit", limit);
    }
}

/// <summary>SQL Server full-text search (CONTAINSTABLE); compiled and generated, never run in CI (no engine here).</summary>
internal sealed class SqlServerKnowledgeIndex(IDbContextFactory<ChatDbContext> contexts, IOptions<KnowledgeOptions> options)
    : SqlKnowledgeIndex(contexts, options)
{
    protected override void Prepare(DbCommand command, IReadOnlyList<string> words, IReadOnlyCollection<string> accessKeys, int limit)
    {
        command.CommandText = """
            SELECT TOP (@limit) c.[Id], CAST(ft.[RANK] AS float) AS score
            FROM CONTAINSTABLE([DocumentChunks], ([Heading], [Text]), @query) AS ft
            JOIN [DocumentChunks] AS c ON c.[Id] = ft.[KEY]
            WHERE CONTAINS(c.[AccessKeys], @keys)
            ORDER BY ft.[RANK] DESC, c.[Id]
            """;
        Add(command, "@query", string.Join(" OR ", words.Select(w => $"FORMSOF(INFLECTIONAL, \"{w}\")")));
        Add(command, "@keys", string.Join(" OR ", accessKeys.Select(k => $"\"{k}\"")));
        Add(command, "@limit", limit);
    }
}
