using System.Numerics;
using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.KnowledgeIngest.Index;

/// <summary>A passage found by meaning, with its cosine similarity to the question.</summary>
public sealed record VectorHit(long ChunkId, double Similarity);

/// <summary>Nearest passages to a question's embedding, among those the access keys allow (filtered before ranking).</summary>
public interface IVectorIndex
{
    Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, IReadOnlyCollection<string> accessKeys, int limit, CancellationToken cancellationToken);

    /// <summary>Brings the index up to date with the stored embeddings (after an ingestion wrote new chunks).</summary>
    Task SyncAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Exact nearest-neighbour search in the application: every embedded passage is held in memory (normalised float32)
/// with its access keys, reloaded when the chunk table changes. Right for the embedded default and as the fallback
/// where pgvector is missing; 100k passages of 1,536 dimensions take about 600 MB.
/// </summary>
internal sealed class InMemoryVectorIndex(IDbContextFactory<ChatDbContext> contexts) : IVectorIndex, IDisposable
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private Snapshot _snapshot = new(-1, -1, []);

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, IReadOnlyCollection<string> accessKeys, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(accessKeys);
        var snapshot = await CurrentAsync(cancellationToken);
        var normalized = Normalize(query);
        var allowed = accessKeys.ToHashSet(StringComparer.Ordinal);
        var best = new PriorityQueue<VectorHit, double>(limit + 1);
        foreach (var entry in snapshot.Entries)
        {
            if (entry.Vector.Length != normalized.Length || !entry.Keys.Any(allowed.Contains))
            {
                continue;
            }

            var similarity = Dot(entry.Vector, normalized);
            best.Enqueue(new VectorHit(entry.ChunkId, similarity), similarity);
            if (best.Count > limit)
            {
                best.Dequeue();
            }
        }

        var hits = new List<VectorHit>(best.Count);
        while (best.Count > 0)
        {
            hits.Add(best.Dequeue());
        }

        hits.Reverse();
        return hits;
    }

    private async Task<Snapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        // Any write to the chunk table changes its row count or its highest id (new versions get new ids).
        var count = await context.DocumentChunks.CountAsync(cancellationToken);
        var max = await context.DocumentChunks.MaxAsync(c => (long?)c.Id, cancellationToken) ?? 0;
        var snapshot = _snapshot;
        if (snapshot.Count == count && snapshot.MaxId == max)
        {
            return snapshot;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot.Count == count && _snapshot.MaxId == max)
            {
                return _snapshot;
            }

            var rows = await context.DocumentChunks.AsNoTracking()
                .Where(c => c.Embedding != null)
                .Select(c => new { c.Id, c.AccessKeys, c.Embedding })
                .ToListAsync(cancellationToken);
            var entries = rows.Select(r => new Entry(r.Id, r.AccessKeys.Split(' ', StringSplitOptions.RemoveEmptyEntries), Normalize(ChunkEmbedder.FromBytes(r.Embedding!)))).ToArray();
            _snapshot = new Snapshot(count, max, entries);
            return _snapshot;
        }
        finally
        {
            _loading.Release();
        }
    }

    public void Dispose() => _loading.Dispose();

    private static float[] Normalize(float[] vector)
    {
        var length = MathF.Sqrt(Dot(vector, vector));
        if (length is 0 or 1)
        {
            return vector;
        }

        return [.. vector.Select(v => v / length)];
    }

    private static float Dot(float[] a, float[] b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            sum += new Vector<float>(a, i) * new Vector<float>(b, i);
        }

        var total = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }

    private sealed record Entry(long ChunkId, string[] Keys, float[] Vector);

    private sealed record Snapshot(int Count, long MaxId, Entry[] Entries);
}
