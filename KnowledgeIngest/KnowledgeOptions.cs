using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest;

/// <summary>The <c>Knowledge</c> section: storage, limits, chunking, jobs and retrieval.</summary>
public sealed class KnowledgeOptions
{
    public const string SectionName = "Knowledge";

    /// <summary>Where original files are kept (relative to the content root). Ignored when Azure Blob Storage is configured.</summary>
    public string BlobPath { get; set; } = "data/blobs";

    /// <summary>An Azure Storage connection string: originals are kept in Azure Blob Storage instead of on disk.</summary>
    public string? AzureBlobConnectionString { get; set; }

    /// <summary>The blob container (created when missing).</summary>
    public string AzureBlobContainer { get; set; } = "chatbot-documents";

    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>PDF pages or PowerPoint slides.</summary>
    public int MaxPages { get; set; } = 2000;

    /// <summary>Entries of an Office (zip) package; more is treated as a zip bomb.</summary>
    public int MaxArchiveEntries { get; set; } = 10_000;

    /// <summary>Total uncompressed size of an Office package.</summary>
    public long MaxExpandedBytes { get; set; } = 512L * 1024 * 1024;

    public int MaxExtractedChars { get; set; } = 20_000_000;

    public TimeSpan ExtractionTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public int ChunkTokens { get; set; } = 400;

    public int ChunkOverlapTokens { get; set; } = 50;

    /// <summary>Attempts before a document that keeps failing for a transient reason is marked failed.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How long one worker owns a document; renewed while it works, taken over after a crash.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often unfinished documents are looked for (also once at start).</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Run the ingestion workers in this process (a web-only instance turns this off).</summary>
    public bool RunJobs { get; set; } = true;

    public int Workers { get; set; } = 2;

    /// <summary>The share of the question's words (after stop words) a passage must contain to be used.</summary>
    public double MinRelevance { get; set; } = 0.34;

    /// <summary>With embeddings: a passage this close in meaning (cosine) is relevant even without the question's words.</summary>
    public double MinSimilarity { get; set; } = 0.35;

    /// <summary>Candidates fetched from each index before fusion and the relevance cut.</summary>
    public int Candidates { get; set; } = 50;

    /// <summary>
    /// SQLite: question words found in more than this share of all passages are left out of the full-text query
    /// (they cost most of its time and add little to the ranking). 1 keeps every word.
    /// </summary>
    public double CommonTermShare { get; set; } = 0.05;

    /// <summary>BM25 weight of the title/section heading relative to the text.</summary>
    public double HeadingWeight { get; set; } = 1.5;

    /// <summary>
    /// The host's public address (https://bot.contoso.com), so citations of uploaded files posted to Teams or Slack link
    /// to the download route. Without it the link is relative, which only the web chat can follow.
    /// </summary>
    public string? PublicUrl { get; set; }
}

internal sealed class KnowledgeOptionsValidator : IValidateOptions<KnowledgeOptions>
{
    public ValidateOptionsResult Validate(string? name, KnowledgeOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.BlobPath))
        {
            errors.Add("Knowledge:BlobPath must not be empty.");
        }

        if (!string.IsNullOrWhiteSpace(o.AzureBlobConnectionString)
            && !System.Text.RegularExpressions.Regex.IsMatch(o.AzureBlobContainer ?? "", "^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$"))
        {
            errors.Add("Knowledge:AzureBlobContainer must be 3-63 lower-case letters, digits and single hyphens.");
        }

        if (o.MaxFileBytes <= 0 || o.MaxPages <= 0 || o.MaxArchiveEntries <= 0 || o.MaxExpandedBytes <= 0 || o.MaxExtractedChars <= 0)
        {
            errors.Add("Knowledge limits (MaxFileBytes, MaxPages, MaxArchiveEntries, MaxExpandedBytes, MaxExtractedChars) must be positive.");
        }

        if (o.ExtractionTimeout <= TimeSpan.Zero)
        {
            errors.Add("Knowledge:ExtractionTimeout must be positive.");
        }

        if (o.ChunkTokens < 50 || o.ChunkTokens > 8000)
        {
            errors.Add("Knowledge:ChunkTokens must be between 50 and 8000.");
        }

        if (o.ChunkOverlapTokens < 0 || o.ChunkOverlapTokens >= o.ChunkTokens / 2)
        {
            errors.Add("Knowledge:ChunkOverlapTokens must be at least 0 and less than half of Knowledge:ChunkTokens.");
        }

        if (o.MaxAttempts < 1)
        {
            errors.Add("Knowledge:MaxAttempts must be at least 1.");
        }

        if (o.Lease < TimeSpan.FromSeconds(5) || o.RecoveryInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add("Knowledge:Lease must be at least 5 seconds and Knowledge:RecoveryInterval at least 1 second.");
        }

        if (o.Workers < 1 || o.Workers > 64)
        {
            errors.Add("Knowledge:Workers must be between 1 and 64.");
        }

        if (o.MinRelevance < 0 || o.MinRelevance > 1)
        {
            errors.Add("Knowledge:MinRelevance must be between 0 and 1.");
        }

        if (o.MinSimilarity < -1 || o.MinSimilarity > 1)
        {
            errors.Add("Knowledge:MinSimilarity must be between -1 and 1.");
        }

        if (o.Candidates < 1 || o.Candidates > 1000)
        {
            errors.Add("Knowledge:Candidates must be between 1 and 1000.");
        }

        if (o.CommonTermShare <= 0 || o.CommonTermShare > 1)
        {
            errors.Add("Knowledge:CommonTermShare must be more than 0 and at most 1.");
        }

        if (o.HeadingWeight < 0 || o.HeadingWeight > 20)
        {
            errors.Add("Knowledge:HeadingWeight must be between 0 and 20.");
        }

        if (!string.IsNullOrEmpty(o.PublicUrl))
        {
            ChatBot.Adapters.OptionsUrls.RequireHttpsOrLoopback(errors, "Knowledge:PublicUrl", o.PublicUrl);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
