using System.Text;
using System.Text.RegularExpressions;
using ChatBot.KnowledgeIngest.Retrieval;

namespace ChatBot.BotHost.Pipeline;

/// <summary>
/// The answer when no language model is configured: the sentences of the best passages that share the most words
/// with the question, quoted and cited, under a label that says exactly what this is.
/// </summary>
internal static partial class ExtractiveAnswer
{
    public const string Label = "_No language model is configured — here is what the knowledge base says:_";

    public const string NothingFound = "_No language model is configured_, and the knowledge base has nothing that matches your question. Try other words, or ask a knowledge owner to add the document that answers it.";

    private const int MaxPassages = 3;
    private const int MaxSentencesPerPassage = 2;

    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "the", "and", "for", "are", "but", "not", "you", "your", "with", "have", "this", "that", "from", "they", "what",
        "when", "where", "which", "who", "how", "why", "can", "does", "did", "was", "were", "will", "would", "should",
        "could", "about", "into", "there", "their", "them", "then", "than", "our", "out", "get", "has", "had", "its",
    };

    /// <summary>The answer text (with [n] markers) and the passages it cites, numbered from 1.</summary>
    public static (string Text, IReadOnlyList<RetrievedPassage> Cited) Compose(string question, IReadOnlyList<RetrievedPassage> passages)
    {
        ArgumentNullException.ThrowIfNull(passages);
        if (passages.Count == 0)
        {
            return (NothingFound, []);
        }

        var terms = Terms(question);
        var text = new StringBuilder(Label).AppendLine().AppendLine();
        var cited = new List<RetrievedPassage>();
        foreach (var passage in passages.Take(MaxPassages))
        {
            cited.Add(passage);
            var quote = BestSentences(passage.Text, terms);
            text.Append("> ").Append(quote.Replace("\n", " ", StringComparison.Ordinal)).Append(" [").Append(cited.Count).AppendLine("]").AppendLine();
        }

        return (text.ToString().TrimEnd(), cited);
    }

    private static string BestSentences(string passage, HashSet<string> terms)
    {
        var sentences = SentenceBoundary().Split(passage.Trim()).Where(s => s.Length > 0).ToList();
        if (sentences.Count <= MaxSentencesPerPassage)
        {
            return string.Join(' ', sentences);
        }

        var best = sentences
            .Select((s, i) => (Index: i, Score: Terms(s).Count(terms.Contains)))
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Index)
            .Take(MaxSentencesPerPassage)
            .OrderBy(x => x.Index)
            .ToList();
        var quote = new StringBuilder();
        for (var i = 0; i < best.Count; i++)
        {
            if (i > 0)
            {
                quote.Append(best[i].Index == best[i - 1].Index + 1 ? " " : " … ");
            }

            quote.Append(sentences[best[i].Index]);
        }

        return quote.ToString();
    }

    private static HashSet<string> Terms(string text) =>
        new(Word().Matches(text.ToLowerInvariant()).Select(m => m.Value).Where(w => w.Length > 2 && !StopWords.Contains(w)), StringComparer.Ordinal);

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceBoundary();

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();
}
