using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>XLSX: one section per visible sheet (its name as the heading); each row labelled by the header row.</summary>
internal static class ExcelExtractor
{
    public static ExtractedDocument Extract(MemoryStream bytes, ExtractionLimits limits, CancellationToken cancellationToken)
    {
        using var document = SpreadsheetDocument.Open(bytes, false);
        var workbookPart = document.WorkbookPart ?? throw new ExtractionException("The workbook has no sheets.");
        var sharedStrings = workbookPart.SharedStringTablePart?.SharedStringTable?.Elements<SharedStringItem>().Select(s => s.InnerText).ToList() ?? [];
        var writer = new SectionWriter(limits) { Title = document.PackageProperties.Title };
        foreach (var sheet in workbookPart.Workbook?.Sheets?.Elements<Sheet>() ?? [])
        {
            if (sheet.State?.Value is { } state && state != SheetStateValues.Visible)
            {
                continue;
            }

            if (sheet.Id?.Value is not string id || workbookPart.GetPartById(id) is not WorksheetPart worksheetPart)
            {
                continue;
            }

            writer.Heading(1, sheet.Name?.Value ?? "Sheet");
            List<string>? header = null;
            foreach (var row in worksheetPart.Worksheet?.Descendants<Row>() ?? [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                var cells = row.Elements<Cell>().Select(c => (Column: ColumnIndex(c.CellReference?.Value), Text: CellText(c, sharedStrings))).ToList();
                if (cells.All(c => c.Text.Length == 0))
                {
                    continue;
                }

                if (header is null)
                {
                    header = [.. Enumerable.Repeat("", cells.Max(c => c.Column) + 1)];
                    foreach (var (column, text) in cells)
                    {
                        header[column] = text;
                    }

                    writer.Paragraph(string.Join(" | ", cells.Select(c => c.Text)));
                    continue;
                }

                var labelled = cells.Where(c => c.Text.Length > 0)
                    .Select(c => c.Column < header.Count && header[c.Column].Length > 0 ? $"{header[c.Column]}: {c.Text}" : c.Text);
                writer.Paragraph(string.Join("; ", labelled));
            }
        }

        return writer.Build();
    }

    private static string CellText(Cell cell, List<string> sharedStrings)
    {
        var value = cell.CellValue?.Text ?? cell.InlineString?.InnerText ?? "";
        if (cell.DataType?.Value == CellValues.SharedString && int.TryParse(value, out var index) && index >= 0 && index < sharedStrings.Count)
        {
            return sharedStrings[index].Trim();
        }

        return value.Trim();
    }

    /// <summary>"C7" → 2.</summary>
    private static int ColumnIndex(string? reference)
    {
        var index = 0;
        foreach (var c in reference ?? "A")
        {
            if (!char.IsAsciiLetter(c))
            {
                break;
            }

            index = (index * 26) + (char.ToUpperInvariant(c) - 'A' + 1);
        }

        return Math.Max(0, index - 1);
    }
}
