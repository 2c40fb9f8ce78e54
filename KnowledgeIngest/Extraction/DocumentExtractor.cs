using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>
/// Reads a file into sections with one extractor per format, under the configured limits and a time limit.
/// A file that cannot be read fails with an <see cref="ExtractionException"/> whose message says why.
/// </summary>
public sealed class DocumentExtractor(IOptions<KnowledgeOptions> options, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<ExtractedDocument> ExtractAsync(Stream content, string fileName, string? contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var o = options.Value;
        if (!DocumentFormats.TryDetect(fileName, contentType, out var format, out _))
        {
            throw new ExtractionException($"'{fileName}' is not a supported file type. Supported: {DocumentFormats.SupportedExtensions}.");
        }

        // The parsers are synchronous and CPU-bound: copy the (size-limited) file to memory, parse on the thread pool,
        // and stop waiting when the time limit passes. The extractors also check the token between pages.
        var bytes = new MemoryStream();
        await content.CopyToAsync(bytes, cancellationToken);
        if (bytes.Length == 0)
        {
            throw new ExtractionException($"'{fileName}' is empty.");
        }

        bytes.Position = 0;
        // The parsers check the clock between paragraphs; the timer is the backstop for a parser stuck inside one.
        var started = _clock.GetTimestamp();
        var limits = ExtractionLimits.From(o, () => _clock.GetElapsedTime(started) > o.ExtractionTimeout);
        using var timer = new CancellationTokenSource(o.ExtractionTimeout, _clock);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var work = Task.Run(() => Extract(format, bytes, limits, timeout.Token), timeout.Token);
        try
        {
            var document = await work.WaitAsync(timeout.Token);
            if (document.Sections.Count == 0)
            {
                throw new ExtractionException($"No text could be found in '{fileName}' (a scanned document without a text layer?).");
            }

            return document;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ExtractionException($"Reading '{fileName}' took longer than {o.ExtractionTimeout.TotalSeconds:0} seconds, the limit.");
        }
    }

    private static ExtractedDocument Extract(DocumentFormat format, MemoryStream bytes, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        try
        {
            return format switch
            {
                DocumentFormat.Pdf => PdfExtractor.Extract(bytes, limits, cancellationToken),
                DocumentFormat.Word => WordExtractor.Extract(OoxmlPackage.Open(bytes, limits), limits, cancellationToken),
                DocumentFormat.PowerPoint => PowerPointExtractor.Extract(OoxmlPackage.Open(bytes, limits), limits, cancellationToken),
                DocumentFormat.Excel => ExcelExtractor.Extract(OoxmlPackage.Open(bytes, limits), limits, cancellationToken),
                DocumentFormat.Html => HtmlExtractor.Extract(TextDecoding.Read(bytes), limits),
                DocumentFormat.Markdown => MarkdownExtractor.Extract(TextDecoding.Read(bytes), limits),
                DocumentFormat.Csv => DelimitedTextExtractor.Extract(TextDecoding.Read(bytes), limits),
                DocumentFormat.Json => JsonExtractor.Extract(bytes, limits),
                _ => PlainTextExtractor.Extract(TextDecoding.Read(bytes), limits),
            };
        }
        catch (Exception ex) when (ex is not ExtractionException and not OperationCanceledException and not OutOfMemoryException)
        {
            var name = format switch
            {
                DocumentFormat.Pdf => "PDF",
                DocumentFormat.Word => "Word (.docx)",
                DocumentFormat.PowerPoint => "PowerPoint (.pptx)",
                DocumentFormat.Excel => "Excel (.xlsx)",
                _ => format.ToString(),
            };
            throw new ExtractionException($"The file is damaged or is not a valid {name} file.", ex);
        }
    }
}

internal static class TextDecoding
{
    /// <summary>Text with its byte-order mark honoured, UTF-8 otherwise (invalid bytes become U+FFFD).</summary>
    public static string Read(MemoryStream bytes)
    {
        using var reader = new StreamReader(bytes, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var text = reader.ReadToEnd();
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new ExtractionException("The file is binary, not text.");
        }

        return text;
    }
}
