using System.Runtime.InteropServices;
using ChatBot.KnowledgeIngest.Chunking;
using Microsoft.Extensions.AI;

namespace ChatBot.KnowledgeIngest.Ingestion;

/// <summary>
/// Embeds passages when an embedding model is configured (an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> is
/// registered); otherwise does nothing and retrieval stays lexical.
/// </summary>
public sealed class ChunkEmbedder(IEmbeddingGenerator<string, Embedding<float>>? generator = null)
{
    private const int BatchSize = 64;

    public bool IsEnabled => generator is not null;

    /// <summary>One little-endian float32 vector per chunk (heading and text), or null without a model.</summary>
    public async Task<byte[][]?> EmbedAsync(IReadOnlyList<ChunkDraft> chunks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (generator is null || chunks.Count == 0)
        {
            return null;
        }

        var vectors = new byte[chunks.Count][];
        for (var start = 0; start < chunks.Count; start += BatchSize)
        {
            var batch = chunks.Skip(start).Take(BatchSize).Select(c => c.Heading + "\n\n" + c.Text).ToList();
            var embeddings = await generator.GenerateAsync(batch, cancellationToken: cancellationToken);
            if (embeddings.Count != batch.Count)
            {
                throw new InvalidOperationException($"The embedding model returned {embeddings.Count} vectors for {batch.Count} passages.");
            }

            for (var i = 0; i < embeddings.Count; i++)
            {
                vectors[start + i] = ToBytes(embeddings[i].Vector.Span);
            }
        }

        return vectors;
    }

    /// <summary>The question's embedding, or null without a model.</summary>
    public async Task<float[]?> EmbedQueryAsync(string question, CancellationToken cancellationToken)
    {
        if (generator is null)
        {
            return null;
        }

        var embeddings = await generator.GenerateAsync([question], cancellationToken: cancellationToken);
        return embeddings.Count == 1 ? embeddings[0].Vector.ToArray() : null;
    }

    public static byte[] ToBytes(ReadOnlySpan<float> vector) => MemoryMarshal.AsBytes(vector).ToArray();

    public static float[] FromBytes(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes).ToArray();
}
