namespace ChatBot.KnowledgeIngest.Index;

/// <summary>
/// BM25 over a handful of candidate passages, computed here the way FTS5's bm25() computes it (k1 1.2, b 0.75,
/// heading hits weighted, one length for the whole row), with the index's own passage counts for each word.
/// Words match by prefix stem, a stand-in for FTS5's Porter stemmer.
/// </summary>
internal sealed class Bm25Reranker
{
    private const double K1 = 1.2;
    private const double B = 0.75;

    private readonly (string Stem, double Idf)[] _words;
    private readonly double _averageLength;
    private readonly double _headingWeight;

    public Bm25Reranker(IReadOnlyList<(string Word, long Count)> words, long rows, double averageLength, double headingWeight)
    {
        _words = [.. words.Select(w => (QueryTerms.Stem(w.Word), Math.Max(1e-6, Math.Log((rows - w.Count + 0.5) / (w.Count + 0.5)))))];
        _averageLength = Math.Max(1, averageLength);
        _headingWeight = headingWeight;
    }

    public double Score(string heading, string text)
    {
        var length = heading.Length + text.Length;
        var headingWords = Words(heading);
        var textWords = Words(text);
        var score = 0.0;
        foreach (var (stem, idf) in _words)
        {
            var frequency = (_headingWeight * Count(headingWords, stem)) + Count(textWords, stem);
            if (frequency > 0)
            {
                score += idf * frequency * (K1 + 1) / (frequency + (K1 * (1 - B + (B * length / _averageLength))));
            }
        }

        return score;
    }

    private static int Count(List<string> words, string stem)
    {
        var count = 0;
        foreach (var word in words)
        {
            if (word.StartsWith(stem, StringComparison.Ordinal) && (word.Length <= stem.Length + 4 || stem.Length == word.Length))
            {
                count++;
            }
        }

        return count;
    }

    private static List<string> Words(string text)
    {
        var words = new List<string>(text.Length / 6);
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var isWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (isWord && start < 0)
            {
                start = i;
            }
            else if (!isWord && start >= 0)
            {
                words.Add(text[start..i].ToLowerInvariant());
                start = -1;
            }
        }

        return words;
    }
}
