using Microsoft.ML.Tokenizers;

namespace ChatBot.KnowledgeIngest.Chunking;

/// <summary>
/// The one o200k_base tokenizer of the process (GPT-4o's encoding, from a NuGet data package). Its vocabulary takes
/// about 42 MB of memory, so chunking and the chat pipeline's token counts share it; it is thread-safe.
/// </summary>
internal static class O200kTokenizer
{
    /// <summary>Loaded on first use.</summary>
    public static readonly Lazy<Tokenizer> Shared = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
}
