using ChatBot.KnowledgeIngest.Chunking;
using Microsoft.ML.Tokenizers;

namespace ChatBot.BotHost.Models;

/// <summary>
/// Counts tokens with o200k_base (GPT-4o's encoding, shipped in a NuGet data package, no network; the instance chunking uses).
/// Exact for OpenAI models, a close estimate for others: used for history budgets and when a provider reports no usage.
/// </summary>
internal sealed class TokenCounter
{
    private readonly Lazy<Tokenizer> _tokenizer = O200kTokenizer.Shared;

    public int Count(string? text) => string.IsNullOrEmpty(text) ? 0 : _tokenizer.Value.CountTokens(text);

    /// <summary>The longest prefix of <paramref name="text"/> within <paramref name="maxTokens"/>.</summary>
    public string Truncate(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens <= 0)
        {
            return "";
        }

        var index = _tokenizer.Value.GetIndexByTokenCount(text, maxTokens, out _, out _);
        return index >= text.Length ? text : text[..index];
    }
}
