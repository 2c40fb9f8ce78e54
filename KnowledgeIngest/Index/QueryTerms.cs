using System.Globalization;
using System.Text;

namespace ChatBot.KnowledgeIngest.Index;

/// <summary>
/// The words of a question that can find a passage: lower-cased, accents folded, stop words dropped, at most 32.
/// Words are only letters and digits, so they are safe to put in any full-text query syntax.
/// </summary>
public sealed class QueryTerms
{
    private const int MaxTerms = 32;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because",
        "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down",
        "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
        "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my",
        "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out",
        "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
        "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very",
        "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
        "your", "yours", "yourself", "yourselves", "please", "tell", "know", "s", "t", "d", "ll", "m", "re", "ve",
    };

    private QueryTerms(IReadOnlyList<string> words) => Words = words;

    public IReadOnlyList<string> Words { get; }

    public bool IsEmpty => Words.Count == 0;

    public static QueryTerms Parse(string question)
    {
        ArgumentNullException.ThrowIfNull(question);
        var words = new List<string>();
        foreach (var word in SplitWords(question))
        {
            if (!StopWords.Contains(word) && !words.Contains(word, StringComparer.Ordinal))
            {
                words.Add(word);
                if (words.Count == MaxTerms)
                {
                    break;
                }
            }
        }

        return new QueryTerms(words);
    }

    /// <summary>
    /// The share of the question's words a passage contains (prefix match, a rough stand-in for stemming),
    /// used as the minimum-relevance cut: a passage that matches one common word of a long question is not an answer.
    /// </summary>
    public double Coverage(string text)
    {
        if (Words.Count == 0)
        {
            return 0;
        }

        var folded = Fold(text);
        var found = 0;
        foreach (var word in Words)
        {
            var stem = Stem(word);
            if (folded.Contains(stem, StringComparison.Ordinal))
            {
                found++;
            }
        }

        return (double)found / Words.Count;
    }

    /// <summary>A prefix that stands in for the word's stem ("policies" → "poli", "increased" → "increa").</summary>
    internal static string Stem(string word) => word.Length <= 4 ? word : word[..Math.Max(4, word.Length - 3)];

    private static IEnumerable<string> SplitWords(string text)
    {
        var folded = Fold(text);
        var start = -1;
        for (var i = 0; i <= folded.Length; i++)
        {
            var isWordChar = i < folded.Length && char.IsLetterOrDigit(folded[i]);
            if (isWordChar && start < 0)
            {
                start = i;
            }
            else if (!isWordChar && start >= 0)
            {
                if (i - start <= 40)
                {
                    yield return folded[start..i];
                }

                start = -1;
            }
        }
    }

    /// <summary>Lower case without diacritics, as the index tokenizers see text.</summary>
    private static string Fold(string text)
    {
        var decomposed = text.ToLowerInvariant().Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
