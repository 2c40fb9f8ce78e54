using Markdig;
using Markdig.Syntax;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>Markdown with Markdig: sections by heading; paragraphs, lists, code and tables kept as written.</summary>
internal static class MarkdownExtractor
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static ExtractedDocument Extract(string markdown, ExtractionLimits limits)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        var writer = new SectionWriter(limits);
        foreach (var block in document)
        {
            if (block is HeadingBlock heading)
            {
                var text = heading.Inline is null ? "" : string.Concat(heading.Inline.Descendants<Markdig.Syntax.Inlines.LiteralInline>().Select(l => l.Content.ToString()));
                if (heading.Level == 1)
                {
                    writer.Title ??= text;
                }

                writer.Heading(heading.Level, text);
            }
            else if (block is not ThematicBreakBlock and not LinkReferenceDefinitionGroup)
            {
                writer.Paragraph(markdown.Substring(block.Span.Start, Math.Min(block.Span.Length, markdown.Length - block.Span.Start)));
            }
        }

        return writer.Build();
    }
}
