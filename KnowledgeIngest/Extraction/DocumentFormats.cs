namespace ChatBot.KnowledgeIngest.Extraction;

public enum DocumentFormat
{
    Pdf,
    Word,
    PowerPoint,
    Excel,
    Html,
    Markdown,
    Text,
    Csv,
    Json,
}

/// <summary>Which extractor reads a file: by extension first, by content type when there is no known extension.</summary>
public static class DocumentFormats
{
    private static readonly Dictionary<string, (DocumentFormat Format, string ContentType)> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".pdf"] = (DocumentFormat.Pdf, "application/pdf"),
        [".docx"] = (DocumentFormat.Word, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        [".pptx"] = (DocumentFormat.PowerPoint, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        [".xlsx"] = (DocumentFormat.Excel, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        [".html"] = (DocumentFormat.Html, "text/html"),
        [".htm"] = (DocumentFormat.Html, "text/html"),
        [".md"] = (DocumentFormat.Markdown, "text/markdown"),
        [".markdown"] = (DocumentFormat.Markdown, "text/markdown"),
        [".txt"] = (DocumentFormat.Text, "text/plain"),
        [".text"] = (DocumentFormat.Text, "text/plain"),
        [".log"] = (DocumentFormat.Text, "text/plain"),
        [".csv"] = (DocumentFormat.Csv, "text/csv"),
        [".json"] = (DocumentFormat.Json, "application/json"),
    };

    public static string SupportedExtensions => string.Join(", ", ByExtension.Keys.Order(StringComparer.Ordinal));

    public static bool TryDetect(string fileName, string? contentType, out DocumentFormat format, out string resolvedContentType)
    {
        if (ByExtension.TryGetValue(Path.GetExtension(fileName), out var known))
        {
            (format, resolvedContentType) = known;
            return true;
        }

        var mediaType = contentType?.Split(';')[0].Trim();
        foreach (var (f, type) in ByExtension.Values)
        {
            if (string.Equals(type, mediaType, StringComparison.OrdinalIgnoreCase))
            {
                (format, resolvedContentType) = (f, type);
                return true;
            }
        }

        format = default;
        resolvedContentType = "";
        return false;
    }
}
