using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>DOCX with DocumentFormat.OpenXml: paragraphs, headings (by style name, so localised style ids work), tables as rows.</summary>
internal static class WordExtractor
{
    public static ExtractedDocument Extract(MemoryStream bytes, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        using var document = WordprocessingDocument.Open(bytes, false);
        var body = document.MainDocumentPart?.Document?.Body
            ?? throw new ExtractionException("The Word document has no body.");
        var styleNames = document.MainDocumentPart!.StyleDefinitionsPart?.Styles?.Elements<Style>()
            .Where(s => s.StyleId?.Value is not null)
            .ToDictionary(s => s.StyleId!.Value!, s => s.StyleName?.Val?.Value ?? s.StyleId!.Value!, StringComparer.OrdinalIgnoreCase)
            ?? [];

        var writer = new SectionWriter(limits) { Title = document.PackageProperties.Title };
        foreach (var element in body.ChildElements)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (element)
            {
                case Paragraph paragraph:
                    var text = paragraph.InnerText;
                    var level = HeadingLevel(paragraph, styleNames);
                    if (level is 0)
                    {
                        writer.Title ??= text;
                        writer.Heading(1, text);
                    }
                    else if (level is int l)
                    {
                        writer.Heading(l + 1, text);
                    }
                    else
                    {
                        writer.Paragraph(text);
                    }

                    break;
                case Table table:
                    foreach (var row in table.Elements<TableRow>())
                    {
                        writer.Paragraph(string.Join(" | ", row.Elements<TableCell>().Select(c => c.InnerText.Trim())));
                    }

                    break;
            }
        }

        return writer.Build();
    }

    /// <summary>0 for the Title style, n for "heading n", null for body text.</summary>
    private static int? HeadingLevel(Paragraph paragraph, Dictionary<string, string> styleNames)
    {
        var outline = paragraph.ParagraphProperties?.OutlineLevel?.Val?.Value;
        var styleId = paragraph.ParagraphProperties?.ParagraphStyleId?.Val?.Value;
        var name = styleId is null ? null : styleNames.GetValueOrDefault(styleId, styleId);
        if (name is not null)
        {
            var normalized = name.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
            if (normalized == "title")
            {
                return 0;
            }

            if (normalized.StartsWith("heading", StringComparison.Ordinal) && int.TryParse(normalized.AsSpan(7), out var level) && level is >= 1 and <= 9)
            {
                return level;
            }
        }

        return outline is int o && o < 9 ? o + 1 : null;
    }
}
