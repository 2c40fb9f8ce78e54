using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest.Index;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Retrieval;

/// <summary>
/// Retrieval on behalf of one asker in one conversation: the asker's access keys go into the index query (and filter
/// the vector search before it ranks). With an embedding model, full-text and vector results are fused by reciprocal
/// rank; without one, BM25 alone. Then the minimum-relevance cut (enough of the question's words, or a close enough
/// meaning) and duplicate passages removed. In a shared conversation (a channel, a group chat) only what everyone
/// there may see is used: organisation, that channel, that conversation; never the asker's restricted documents.
/// </summary>
internal sealed partial class KnowledgeRetriever(
    IKnowledgeIndex index,
    IVectorIndex vectors,
    ChunkEmbedder embedder,
    IDbContextFactory<ChatDbContext> contexts,
    IPrincipalGroups groups,
    IOptions<KnowledgeOptions> options,
    DocumentLinks links,
    ILogger<KnowledgeRetriever> logger) : IKnowledgeRetriever
{
    /// <summary>The usual reciprocal-rank-fusion constant: a passage's fused score is the sum of 1 / (60 + rank).</summary>
    private const int FusionK = 60;

    public async Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(RetrievalRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var terms = QueryTerms.Parse(request.Query);
        if (terms.IsEmpty || request.Top <= 0)
        {
            return [];
        }

        var keys = await AccessKeysOfAsync(request, cancellationToken);
        var o = options.Value;
        var candidates = Math.Max(o.Candidates, request.Top);
        var lexical = await index.SearchAsync(terms, keys, candidates, cancellationToken);
        var semantic = await SearchByMeaningAsync(request.Query, keys, candidates, cancellationToken);
        var hits = semantic.Count == 0 ? lexical : Fuse(lexical, semantic);
        if (hits.Count == 0)
        {
            return [];
        }

        var similarity = semantic.ToDictionary(s => s.ChunkId, s => s.Similarity);
        var ids = hits.Select(h => h.ChunkId).ToList();
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await context.DocumentChunks.AsNoTracking()
            .Where(c => ids.Contains(c.Id))
            .Join(context.Documents, c => c.DocumentId, d => d.Id, (c, d) => new
            {
                c.Id, c.Heading, c.Text, c.Section, c.Page, d.Title, d.SourceName, d.Url, DocumentId = d.Id,
            })
            .ToDictionaryAsync(r => r.Id, cancellationToken);

        var passages = new List<RetrievedPassage>(request.Top);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var hit in hits)
        {
            if (!rows.TryGetValue(hit.ChunkId, out var row))
            {
                continue; // deleted between the two queries
            }

            // The cut runs only until enough passages are found; it reads each candidate's text once.
            var closeInMeaning = similarity.TryGetValue(hit.ChunkId, out var cosine) && cosine >= o.MinSimilarity;
            if (o.MinRelevance > 0 && !closeInMeaning && terms.Coverage(row.Heading + "\n" + row.Text) < o.MinRelevance)
            {
                continue;
            }

            if (!seen.Add(row.Text))
            {
                continue; // the same passage in two documents (a copy uploaded twice under different names)
            }

            passages.Add(new RetrievedPassage(
                row.DocumentId.ToString(),
                row.Title,
                row.Text,
                hit.Score,
                links.For(row.DocumentId, row.Url),
                row.Page,
                row.Section,
                row.SourceName));
            if (passages.Count == request.Top)
            {
                break;
            }
        }

        return passages;
    }

    /// <summary>Vector hits for the question, or none without an embedding model (or when it is unavailable: BM25 still answers).</summary>
    private async Task<IReadOnlyList<VectorHit>> SearchByMeaningAsync(string question, List<string> keys, int limit, CancellationToken cancellationToken)
    {
        if (!embedder.IsEnabled)
        {
            return [];
        }

        try
        {
            var query = await embedder.EmbedQueryAsync(question, cancellationToken);
            return query is null ? [] : await vectors.SearchAsync(query, keys, limit, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.EmbeddingFailed(logger, ex);
            return [];
        }
    }

    /// <summary>Reciprocal rank fusion of the two rankings.</summary>
    internal static List<ChunkHit> Fuse(IReadOnlyList<ChunkHit> lexical, IReadOnlyList<VectorHit> semantic)
    {
        var scores = new Dictionary<long, double>();
        for (var i = 0; i < lexical.Count; i++)
        {
            scores[lexical[i].ChunkId] = scores.GetValueOrDefault(lexical[i].ChunkId) + (1.0 / (FusionK + i + 1));
        }

        for (var i = 0; i < semantic.Count; i++)
        {
            scores[semantic[i].ChunkId] = scores.GetValueOrDefault(semantic[i].ChunkId) + (1.0 / (FusionK + i + 1));
        }

        return [.. scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Select(s => new ChunkHit(s.Key, s.Value))];
    }

    private async Task<List<string>> AccessKeysOfAsync(RetrievalRequest request, CancellationToken cancellationToken)
    {
        var keys = new List<string> { AccessKeys.Organisation, AccessKeys.Conversation(request.ConversationId.ToString()) };
        // "group:<id>" is the Microsoft 365 group behind a Teams team, in that team's channels.
        keys.AddRange(request.ChannelScopes
            .Where(s => !string.IsNullOrWhiteSpace(s))
            .Select(s => s.StartsWith("group:", StringComparison.Ordinal) ? AccessKeys.Group(s[6..]) : AccessKeys.Channel(s)));
        if (!request.IsSharedConversation && !string.IsNullOrWhiteSpace(request.Email))
        {
            keys.Add(AccessKeys.User(request.Email));
            keys.AddRange((await groups.GroupsOfAsync(request.Email, cancellationToken)).Select(AccessKeys.Group));
        }

        return keys;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4401, Level = LogLevel.Warning, Message = "The embedding model failed; this question is answered from full-text search alone")]
        public static partial void EmbeddingFailed(ILogger logger, Exception error);
    }
}
