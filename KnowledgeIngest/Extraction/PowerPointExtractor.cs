using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Presentation;
using Drawing = DocumentFormat.OpenXml.Drawing;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>PPTX: visible slides in order, the slide number as the page, the slide title as the heading, speaker notes kept.</summary>
internal static class PowerPointExtractor
{
    public static ExtractedDocument Extract(MemoryStream bytes, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        using var document = PresentationDocument.Open(bytes, false);
        var presentationPart = document.PresentationPart ?? throw new ExtractionException("The presentation has no slides part.");
        var slideIds = presentationPart.Presentation?.SlideIdList?.Elements<SlideId>().ToList() ?? [];
        if (slideIds.Count > limits.MaxPages)
        {
            throw new ExtractionException($"The presentation has {slideIds.Count:N0} slides; the limit is {limits.MaxPages:N0}.");
        }

        var writer = new SectionWriter(limits) { Title = document.PackageProperties.Title };
        var number = 0;
        foreach (var slideId in slideIds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            number++;
            if (slideId.RelationshipId?.Value is not string relationship || presentationPart.GetPartById(relationship) is not SlidePart slidePart)
            {
                continue;
            }

            if (slidePart.Slide?.Show?.Value == false)
            {
                continue; // hidden slides are not presented, so they are not quoted
            }

            var shapes = slidePart.Slide?.CommonSlideData?.ShapeTree?.Descendants<Shape>().ToList() ?? [];
            var titleShape = shapes.FirstOrDefault(IsTitle);
            var title = titleShape is null ? null : ShapeText(titleShape);
            writer.Page(number, title);
            foreach (var shape in shapes.Where(s => s != titleShape))
            {
                foreach (var paragraph in shape.TextBody?.Elements<Drawing.Paragraph>() ?? [])
                {
                    writer.Paragraph(ParagraphText(paragraph));
                }
            }

            foreach (var table in slidePart.Slide?.Descendants<Drawing.Table>() ?? [])
            {
                foreach (var row in table.Elements<Drawing.TableRow>())
                {
                    writer.Paragraph(string.Join(" | ", row.Elements<Drawing.TableCell>().Select(c => c.InnerText.Trim())));
                }
            }

            var notes = slidePart.NotesSlidePart?.NotesSlide?.Descendants<Shape>()
                .Where(s => s.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape?.Type?.Value == PlaceholderValues.Body)
                .Select(ShapeText)
                .Where(t => t.Length > 0);
            foreach (var note in notes ?? [])
            {
                writer.Paragraph("Notes: " + note);
            }
        }

        return writer.Build();
    }

    private static bool IsTitle(Shape shape)
    {
        var type = shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape?.Type?.Value;
        return type == PlaceholderValues.Title || type == PlaceholderValues.CenteredTitle;
    }

    private static string ShapeText(Shape shape) =>
        string.Join(" ", shape.TextBody?.Elements<Drawing.Paragraph>().Select(ParagraphText).Where(t => t.Length > 0) ?? []);

    private static string ParagraphText(Drawing.Paragraph paragraph) =>
        string.Concat(paragraph.Descendants<Drawing.Text>().Select(t => t.Text)).Trim();
}
