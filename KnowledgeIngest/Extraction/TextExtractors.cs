using System.Text;
using System.Text.Json;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>Plain text: paragraphs are separated by blank lines.</summary>
internal static class PlainTextExtractor
{
    public static ExtractedDocument Extract(string text, ExtractionLimits limits)
    {
        var writer = new SectionWriter(limits);
        foreach (var paragraph in text.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            writer.Paragraph(paragraph);
        }

        return writer.Build();
    }
}

/// <summary>CSV: each row labelled by the header row ("Name: Ada; Team: Research"), quoted fields understood.</summary>
internal static class DelimitedTextExtractor
{
    public static ExtractedDocument Extract(string text, ExtractionLimits limits)
    {
        var writer = new SectionWriter(limits);
        var rows = ParseRows(text).Where(r => r.Any(c => c.Length > 0)).ToList();
        if (rows.Count == 0)
        {
            return writer.Build();
        }

        var header = rows[0];
        writer.Paragraph(string.Join(" | ", header));
        foreach (var row in rows.Skip(1))
        {
            writer.Paragraph(string.Join("; ", row.Select((cell, i) => i < header.Count && header[i].Length > 0 ? $"{header[i]}: {cell}" : cell).Where(c => c.Length > 0)));
        }

        return writer.Build();
    }

    /// <summary>RFC 4180 rows: commas (or semicolons when the first line has more of them), quotes and doubled quotes.</summary>
    internal static IEnumerable<List<string>> ParseRows(string text)
    {
        var firstLine = text.AsSpan(0, Math.Max(0, text.IndexOf('\n', StringComparison.Ordinal) is var n and >= 0 ? n : text.Length));
        var separator = firstLine.Count(';') > firstLine.Count(',') ? ';' : ',';
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"' && cell.Length == 0)
            {
                quoted = true;
            }
            else if (c == separator)
            {
                row.Add(cell.ToString().Trim());
                cell.Clear();
            }
            else if (c == '\n')
            {
                row.Add(cell.ToString().Trim());
                cell.Clear();
                yield return row;
                row = [];
            }
            else if (c != '\r')
            {
                cell.Append(c);
            }
        }

        if (cell.Length > 0 || row.Count > 0)
        {
            row.Add(cell.ToString().Trim());
            yield return row;
        }
    }
}

/// <summary>JSON: every value as "path: value", so field names stay searchable next to their values.</summary>
internal static class JsonExtractor
{
    public static ExtractedDocument Extract(MemoryStream bytes, ExtractionLimits limits)
    {
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ExtractionException($"The JSON is not valid (line {ex.LineNumber + 1}).", ex);
        }

        using (json)
        {
            var writer = new SectionWriter(limits);
            var lines = new List<string>();
            Flatten(json.RootElement, "", lines);
            foreach (var group in lines.Chunk(20))
            {
                writer.Paragraph(string.Join("\n", group));
            }

            return writer.Build();
        }
    }

    private static void Flatten(JsonElement element, string path, List<string> lines)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", lines);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, $"{path}[{index++}]", lines);
                }

                break;
            case JsonValueKind.String:
                lines.Add($"{path}: {element.GetString()}");
                break;
            case JsonValueKind.Null or JsonValueKind.Undefined:
                break;
            default:
                lines.Add($"{path}: {element.GetRawText()}");
                break;
        }
    }
}
