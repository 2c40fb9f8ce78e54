using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Retrieval;

/// <summary>
/// Retrieval on behalf of one asker in one conversation: the asker's access keys go into the index query; then the
/// minimum-relevance cut and duplicate passages removed. In a shared conversation (a channel, a group chat) only what
/// everyone there may see is used: organisation, that channel, that conversation; never the asker's restricted documents.
/// </summary>
internal sealed class KnowledgeRetriever(
    IKnowledgeIndex index,
    IDbContextFactory<ChatDbContext> contexts,
    IPrincipalGroups groups,
    IOptions<KnowledgeOptions> options,
    DocumentLinks links) : IKnowledgeRetriever
{
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
        var hits = await index.SearchAsync(terms, keys, Math.Max(o.Candidates, request.Top), cancellationToken);
        if (hits.Count == 0)
        {
            return [];
        }

        var ids = hits.Select(h => h.ChunkId).ToList();
        await using var context = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await context.DocumentChunks.AsNoTracking()
            .Where(c => ids.Contains(c.Id))
            .Join(context.Documents, c => c.DocumentId, d => d.Id, (c, d) => new
            {
                c.Id, c.Heading, c.Text, c.Section, c.Page, d.Title, d.SourceName, d.Url, d.Source, DocumentId = d.Id,
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
            if (o.MinRelevance > 0 && terms.Coverage(row.Heading + "\n" + row.Text) < o.MinRelevance)
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
                links.For(row.DocumentId, row.Source, row.Url),
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

    private async Task<List<string>> AccessKeysOfAsync(RetrievalRequest request, CancellationToken cancellationToken)
    {
        var keys = new List<string> { AccessKeys.Organisation, AccessKeys.Conversation(request.ConversationId.ToString()) };
        keys.AddRange(request.ChannelScopes.Where(s => !string.IsNullOrWhiteSpace(s)).Select(AccessKeys.Channel));
        if (!request.IsSharedConversation && !string.IsNullOrWhiteSpace(request.Email))
        {
            keys.Add(AccessKeys.User(request.Email));
            keys.AddRange((await groups.GroupsOfAsync(request.Email, cancellationToken)).Select(AccessKeys.Group));
        }

        return keys;
    }
}
