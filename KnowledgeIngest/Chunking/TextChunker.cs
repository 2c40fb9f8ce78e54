using System.Text.RegularExpressions;
using ChatBot.KnowledgeIngest.Extraction;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Chunking;

/// <summary>A passage ready to index, with what a citation needs.</summary>
public sealed record ChunkDraft(string Heading, string Text, string? Section, int? Page, int Tokens);

/// <summary>
/// Cuts sections into passages of at most <c>Knowledge:ChunkTokens</c> o200k tokens with <c>ChunkOverlapTokens</c> of overlap.
/// It cuts between paragraphs where it can, then between sentences, then between tokens; it never crosses a section
/// (so a passage has one heading and one page).
/// </summary>
public sealed partial class TextChunker(IOptions<KnowledgeOptions> options)
{
    public static int CountTokens(string text) => O200kTokenizer.Shared.Value.CountTokens(text);

    public IReadOnlyList<ChunkDraft> Chunk(string title, ExtractedDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var max = options.Value.ChunkTokens;
        var overlap = options.Value.ChunkOverlapTokens;
        var chunks = new List<ChunkDraft>();
        foreach (var section in document.Sections)
        {
            var heading = section.Heading is null ? title : $"{title} — {section.Heading}";
            foreach (var text in Pack(Units(section.Text, max), max, overlap))
            {
                chunks.Add(new ChunkDraft(heading, text.Text, section.Heading, section.Page, text.Tokens));
            }
        }

        return chunks;
    }

    /// <summary>The section as pieces no larger than <paramref name="max"/> tokens: paragraphs, else sentences, else token runs.</summary>
    private static IEnumerable<(string Text, int Tokens)> Units(string text, int max)
    {
        foreach (var paragraph in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var tokens = CountTokens(paragraph);
            if (tokens <= max)
            {
                yield return (paragraph, tokens);
                continue;
            }

            foreach (var sentence in SentenceEnd().Split(paragraph).Where(s => s.Length > 0))
            {
                var sentenceTokens = CountTokens(sentence);
                if (sentenceTokens <= max)
                {
                    yield return (sentence, sentenceTokens);
                    continue;
                }

                var rest = sentence;
                while (rest.Length > 0)
                {
                    var cut = O200kTokenizer.Shared.Value.GetIndexByTokenCount(rest, max, out _, out var count);
                    cut = Math.Max(1, cut);
                    yield return (rest[..cut].Trim(), count);
                    rest = rest[cut..];
                }
            }
        }
    }

    private static IEnumerable<(string Text, int Tokens)> Pack(IEnumerable<(string Text, int Tokens)> units, int max, int overlap)
    {
        var current = new List<(string Text, int Tokens)>();
        var currentTokens = 0;
        var hasNew = false;
        foreach (var unit in units)
        {
            // +1 for the separator between units, roughly one token.
            if (current.Count > 0 && currentTokens + unit.Tokens + 1 > max)
            {
                yield return Join(current);
                (current, currentTokens) = Overlap(current, overlap, max - unit.Tokens - 1);
                hasNew = false;
            }

            current.Add(unit);
            currentTokens += unit.Tokens + (current.Count > 1 ? 1 : 0);
            hasNew = true;
        }

        if (hasNew)
        {
            yield return Join(current);
        }
    }

    /// <summary>The tail of the passage just written that the next one starts with: whole units when they fit, else the last tokens.</summary>
    private static (List<(string Text, int Tokens)>, int) Overlap(List<(string Text, int Tokens)> previous, int overlap, int room)
    {
        var budget = Math.Min(overlap, room);
        if (budget <= 0)
        {
            return ([], 0);
        }

        var tail = new List<(string Text, int Tokens)>();
        var tokens = 0;
        for (var i = previous.Count - 1; i >= 0 && tokens + previous[i].Tokens <= budget; i--)
        {
            tail.Insert(0, previous[i]);
            tokens += previous[i].Tokens + 1;
        }

        if (tail.Count == 0)
        {
            var last = previous[^1].Text;
            var start = O200kTokenizer.Shared.Value.GetIndexByTokenCountFromEnd(last, budget, out _, out var count);
            var piece = last[Math.Min(start, last.Length)..].Trim();
            if (piece.Length > 0)
            {
                tail.Add(("…" + piece, count));
                tokens = count;
            }
        }

        return (tail, tokens);
    }

    private static (string Text, int Tokens) Join(List<(string Text, int Tokens)> units)
    {
        var text = string.Join("\n\n", units.Select(u => u.Text));
        return (text, CountTokens(text));
    }

    [GeneratedRegex(@"(?<=[.!?。！？])\s+(?=\S)")]
    private static partial Regex SentenceEnd();
}
