using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;
using D = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;
using S = DocumentFormat.OpenXml.Spreadsheet;
using W = DocumentFormat.OpenXml.Wordprocessing;

namespace ChatBot.KnowledgeIngest.Tests;

/// <summary>Real files of every supported type, written by the same libraries users' tools would use.</summary>
internal static class TestFiles
{
    /// <summary>A PDF with one page per entry, each page holding the given lines.</summary>
    public static byte[] Pdf(string? title, params string[][] pages)
    {
        var builder = new PdfDocumentBuilder();
        if (title is not null)
        {
            builder.DocumentInformation.Title = title;
        }

        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var lines in pages)
        {
            var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
            var y = 780.0;
            foreach (var line in lines)
            {
                page.AddText(line, 11, new PdfPoint(40, y), font);
                y -= 16;
            }
        }

        return builder.Build();
    }

    /// <summary>A PDF whose trailer says it is encrypted with a password we do not have.</summary>
    public static byte[] EncryptedPdf()
    {
        var text = Encoding.Latin1.GetString(Pdf(null, ["secret"]));
        const string encrypt = "/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 "
            + "/O <0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF> "
            + "/U <FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210> >> "
            + "/ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>] ";
        var trailer = text.LastIndexOf("trailer", StringComparison.Ordinal);
        var open = text.IndexOf("<<", trailer, StringComparison.Ordinal) + 2;
        text = text[..open] + " " + encrypt + text[open..];
        return Encoding.Latin1.GetBytes(text);
    }

    /// <summary>A Word document: (style, text) paragraphs, where style is "Title", "Heading1".. or null for body text.</summary>
    public static byte[] Docx(string? title, params (string? Style, string Text)[] paragraphs)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            if (title is not null)
            {
                document.PackageProperties.Title = title;
            }

            var main = document.AddMainDocumentPart();
            var styles = main.AddNewPart<StyleDefinitionsPart>();
            styles.Styles = new W.Styles(
                new W.Style(new W.StyleName { Val = "Title" }) { StyleId = "Title", Type = W.StyleValues.Paragraph },
                new W.Style(new W.StyleName { Val = "heading 1" }) { StyleId = "Heading1", Type = W.StyleValues.Paragraph },
                new W.Style(new W.StyleName { Val = "heading 2" }) { StyleId = "Heading2", Type = W.StyleValues.Paragraph },
                // A localised style id (German Word) whose name is still "heading 1".
                new W.Style(new W.StyleName { Val = "heading 1" }) { StyleId = "berschrift1", Type = W.StyleValues.Paragraph });
            var body = new W.Body();
            foreach (var (style, text) in paragraphs)
            {
                var paragraph = new W.Paragraph(new W.Run(new W.Text(text)));
                if (style is not null)
                {
                    paragraph.PrependChild(new W.ParagraphProperties(new W.ParagraphStyleId { Val = style }));
                }

                body.Append(paragraph);
            }

            body.Append(new W.Table(
                new W.TableRow(new W.TableCell(new W.Paragraph(new W.Run(new W.Text("Grade")))), new W.TableCell(new W.Paragraph(new W.Run(new W.Text("Allowance"))))),
                new W.TableRow(new W.TableCell(new W.Paragraph(new W.Run(new W.Text("G7")))), new W.TableCell(new W.Paragraph(new W.Run(new W.Text("95 EUR")))))));
            main.Document = new W.Document(body);
        }

        return stream.ToArray();
    }

    /// <summary>A presentation: (title, body, hidden) per slide.</summary>
    public static byte[] Pptx(params (string Title, string Body, bool Hidden)[] slides)
    {
        using var stream = new MemoryStream();
        using (var document = PresentationDocument.Create(stream, PresentationDocumentType.Presentation))
        {
            var presentationPart = document.AddPresentationPart();
            var slideIdList = new P.SlideIdList();
            uint id = 256;
            foreach (var (title, bodyText, hidden) in slides)
            {
                var slidePart = presentationPart.AddNewPart<SlidePart>();
                slidePart.Slide = new P.Slide(new P.CommonSlideData(new P.ShapeTree(
                    new P.NonVisualGroupShapeProperties(
                        new P.NonVisualDrawingProperties { Id = 1, Name = "" },
                        new P.NonVisualGroupShapeDrawingProperties(),
                        new P.ApplicationNonVisualDrawingProperties()),
                    new P.GroupShapeProperties(),
                    Shape(2, P.PlaceholderValues.Title, title),
                    Shape(3, P.PlaceholderValues.Body, bodyText))));
                if (hidden)
                {
                    slidePart.Slide.Show = false;
                }

                slideIdList.Append(new P.SlideId { Id = id++, RelationshipId = presentationPart.GetIdOfPart(slidePart) });
            }

            presentationPart.Presentation = new P.Presentation(slideIdList);
        }

        return stream.ToArray();
    }

    private static P.Shape Shape(uint id, P.PlaceholderValues type, string text) => new(
        new P.NonVisualShapeProperties(
            new P.NonVisualDrawingProperties { Id = id, Name = type.ToString() },
            new P.NonVisualShapeDrawingProperties(),
            new P.ApplicationNonVisualDrawingProperties(new P.PlaceholderShape { Type = type })),
        new P.ShapeProperties(),
        new P.TextBody(new D.BodyProperties(), new D.Paragraph(new D.Run(new D.Text(text)))));

    /// <summary>A workbook with one sheet per entry: (name, rows, hidden).</summary>
    public static byte[] Xlsx(params (string Name, string[][] Rows, bool Hidden)[] sheets)
    {
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbookPart = document.AddWorkbookPart();
            var sheetList = new S.Sheets();
            uint sheetId = 1;
            foreach (var (name, rows, hidden) in sheets)
            {
                var worksheetPart = workbookPart.AddNewPart<WorksheetPart>();
                var data = new S.SheetData();
                uint rowIndex = 1;
                foreach (var row in rows)
                {
                    var r = new S.Row { RowIndex = rowIndex };
                    for (var c = 0; c < row.Length; c++)
                    {
                        r.Append(new S.Cell
                        {
                            CellReference = $"{(char)('A' + c)}{rowIndex}",
                            DataType = S.CellValues.InlineString,
                            InlineString = new S.InlineString(new S.Text(row[c])),
                        });
                    }

                    data.Append(r);
                    rowIndex++;
                }

                worksheetPart.Worksheet = new S.Worksheet(data);
                var sheet = new S.Sheet { Id = workbookPart.GetIdOfPart(worksheetPart), SheetId = sheetId++, Name = name };
                if (hidden)
                {
                    sheet.State = S.SheetStateValues.Hidden;
                }

                sheetList.Append(sheet);
            }

            workbookPart.Workbook = new S.Workbook(sheetList);
        }

        return stream.ToArray();
    }

    /// <summary>A .docx-named zip whose one entry expands from a few kilobytes to <paramref name="expandedBytes"/>.</summary>
    public static byte[] ZipBomb(long expandedBytes)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize);
            using var writer = entry.Open();
            var zeros = new byte[1024 * 1024];
            for (long written = 0; written < expandedBytes; written += zeros.Length)
            {
                writer.Write(zeros);
            }
        }

        return stream.ToArray();
    }

    /// <summary>The start of an OLE compound file: what an encrypted (password-protected) .docx really is.</summary>
    public static byte[] OleFile() => [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, .. new byte[4088]];
}
