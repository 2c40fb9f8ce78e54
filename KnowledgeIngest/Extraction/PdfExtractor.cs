using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using UglyToad.PdfPig.Exceptions;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>PDF with PdfPig: one section per page, so citations can name the page.</summary>
internal static class PdfExtractor
{
    public static ExtractedDocument Extract(MemoryStream bytes, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        PdfDocument pdf;
        try
        {
            pdf = PdfDocument.Open(bytes.ToArray());
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw new ExtractionException("The PDF is password-protected (encrypted); upload an unprotected copy.", ex);
        }

        using (pdf)
        {
            if (pdf.NumberOfPages > limits.MaxPages)
            {
                throw new ExtractionException($"The PDF has {pdf.NumberOfPages:N0} pages; the limit is {limits.MaxPages:N0}.");
            }

            var writer = new SectionWriter(limits) { Title = pdf.Information.Title };
            for (var number = 1; number <= pdf.NumberOfPages; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var page = pdf.GetPage(number);
                writer.Page(number);
                foreach (var paragraph in ContentOrderTextExtractor.GetText(page).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
                {
                    writer.Paragraph(paragraph.ReplaceLineEndings(" "));
                }
            }

            return writer.Build();
        }
    }
}
