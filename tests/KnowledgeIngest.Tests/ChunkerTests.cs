using ChatBot.KnowledgeIngest.Chunking;
using ChatBot.KnowledgeIngest.Extraction;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Tests;

public sealed class ChunkerTests
{
    private static TextChunker Chunker(int tokens, int overlap) =>
        new(Options.Create(new KnowledgeOptions { ChunkTokens = tokens, ChunkOverlapTokens = overlap }));

    private static string Sentence(int i) => $"Sentence number {i} talks about topic {i} in some detail.";

    [Fact]
    public void ShortSection_IsOneChunk_WithTitleAndSectionAsHeading()
    {
        var document = new ExtractedDocument("T", [new ExtractedSection("Travel > Meals", 4, "Meals are reimbursed.")]);

        var chunk = Assert.Single(Chunker(100, 10).Chunk("Handbook", document));

        Assert.Equal("Handbook — Travel > Meals", chunk.Heading);
        Assert.Equal("Travel > Meals", chunk.Section);
        Assert.Equal(4, chunk.Page);
        Assert.Equal("Meals are reimbursed.", chunk.Text);
    }

    [Fact]
    public void LongSection_IsCutWithinTheTokenLimit_OnParagraphs_WithOverlap()
    {
        var paragraphs = Enumerable.Range(1, 40).Select(Sentence).ToList();
        var document = new ExtractedDocument(null, [new ExtractedSection(null, null, string.Join("\n\n", paragraphs))]);

        var chunks = Chunker(100, 20).Chunk("Doc", document);

        Assert.True(chunks.Count > 3);
        Assert.All(chunks, c => Assert.True(c.Tokens <= 100, $"{c.Tokens} tokens"));
        Assert.All(chunks, c => Assert.Equal(c.Tokens, TextChunker.CountTokens(c.Text)));
        // Every paragraph survives whole somewhere; consecutive chunks share their boundary paragraph.
        Assert.All(paragraphs, p => Assert.Contains(chunks, c => c.Text.Contains(p, StringComparison.Ordinal)));
        for (var i = 1; i < chunks.Count; i++)
        {
            var lastOfPrevious = chunks[i - 1].Text.Split("\n\n")[^1];
            Assert.StartsWith(lastOfPrevious, chunks[i].Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void GiantParagraph_IsCutOnSentences_AndARunOnWordIsCutOnTokens()
    {
        var paragraph = string.Join(" ", Enumerable.Range(1, 30).Select(Sentence));
        var runOn = string.Concat(Enumerable.Repeat("abcdefgh", 400));
        var document = new ExtractedDocument(null, [new ExtractedSection(null, null, paragraph + "\n\n" + runOn)]);

        var chunks = Chunker(60, 0).Chunk("Doc", document);

        Assert.All(chunks, c => Assert.True(c.Tokens <= 60, $"{c.Tokens} tokens"));
        Assert.Contains(chunks, c => c.Text.StartsWith("Sentence number 1 ", StringComparison.Ordinal) && c.Text.EndsWith("detail.", StringComparison.Ordinal));
        Assert.Equal(runOn, string.Concat(chunks.Where(c => c.Text.StartsWith("abcd", StringComparison.Ordinal)).Select(c => c.Text)));
    }

    [Fact]
    public void Sections_AreNeverMixedInOneChunk()
    {
        var document = new ExtractedDocument(null, [new ExtractedSection(null, 1, "Page one."), new ExtractedSection(null, 2, "Page two.")]);

        var chunks = Chunker(400, 50).Chunk("Doc", document);

        Assert.Equal([1, 2], chunks.Select(c => c.Page));
        Assert.Equal(["Page one.", "Page two."], chunks.Select(c => c.Text));
    }
}

public sealed class FusionTests
{
    [Fact]
    public void ReciprocalRankFusion_RewardsAgreement_AndKeepsWhatOnlyOneSideFound()
    {
        var lexical = new[] { new Index.ChunkHit(1, 9), new Index.ChunkHit(2, 8), new Index.ChunkHit(3, 7) };
        var semantic = new[] { new Index.VectorHit(3, 0.9), new Index.VectorHit(4, 0.8), new Index.VectorHit(1, 0.7) };

        var fused = Retrieval.KnowledgeRetriever.Fuse(lexical, semantic);

        Assert.Equal([1L, 3L, 2L, 4L], fused.Select(h => h.ChunkId));
        Assert.Equal((1.0 / 61) + (1.0 / 63), fused[0].Score, 10);
    }
}

public sealed class Bm25RerankerTests
{
    [Fact]
    public void RareWordsWeighMoreThanCommonOnes_HeadingHitsCountDouble_StemsMatchInflections()
    {
        // 1000 passages: "garage" is in 10, "level" in 400.
        var reranker = new Index.Bm25Reranker([("garage", 10), ("level", 400)], rows: 1000, averageLength: 60, headingWeight: 2);

        var rare = reranker.Score("Parking", "Visitors use the garage by the gate.");
        var common = reranker.Score("Parking", "Visitors use level two by the gate.");
        var inHeading = reranker.Score("Garage", "Visitors use the north entrance gate.");
        var inflected = reranker.Score("Parking", "Visitors use the garages by the gate.");
        var none = reranker.Score("Parking", "Visitors use the north entrance gate.");

        Assert.True(rare > common, $"{rare} > {common}");
        Assert.True(inHeading > rare, $"{inHeading} > {rare}");
        Assert.True(inflected > 0);
        Assert.Equal(0, none);
    }
}
