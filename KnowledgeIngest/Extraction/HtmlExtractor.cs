using System.Net;
using HtmlAgilityPack;

namespace ChatBot.KnowledgeIngest.Extraction;

/// <summary>HTML with HtmlAgilityPack: the page's content without scripts, styles, navigation, headers, footers and forms.</summary>
internal static class HtmlExtractor
{
    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe", "svg", "button", "select",
    };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "li", "pre", "blockquote", "dd", "dt", "figcaption", "caption", "td", "th", "address",
    };

    public static ExtractedDocument Extract(string html, ExtractionLimits limits)
    {
        var document = new HtmlDocument();
        document.LoadHtml(html);
        var writer = new SectionWriter(limits)
        {
            Title = Decode(document.DocumentNode.SelectSingleNode("//title")?.InnerText),
        };
        var root = document.DocumentNode.SelectSingleNode("//main") ?? document.DocumentNode.SelectSingleNode("//body") ?? document.DocumentNode;
        Walk(root, writer);
        return writer.Build();
    }

    private static void Walk(HtmlNode node, SectionWriter writer)
    {
        foreach (var child in node.ChildNodes)
        {
            if (child.NodeType == HtmlNodeType.Text)
            {
                writer.Paragraph(Decode(child.InnerText));
                continue;
            }

            if (child.NodeType != HtmlNodeType.Element || Dropped.Contains(child.Name)
                || child.GetAttributeValue("aria-hidden", "") == "true" || child.Attributes.Contains("hidden"))
            {
                continue;
            }

            if (child.Name.Length == 2 && child.Name[0] is 'h' or 'H' && child.Name[1] is >= '1' and <= '6')
            {
                writer.Heading(child.Name[1] - '0', Decode(child.InnerText));
            }
            else if (child.Name.Equals("tr", StringComparison.OrdinalIgnoreCase))
            {
                writer.Paragraph(string.Join(" | ", child.ChildNodes.Where(c => c.Name is "td" or "th").Select(c => Decode(c.InnerText))));
            }
            else if (Blocks.Contains(child.Name) && !child.ChildNodes.Any(c => c.NodeType == HtmlNodeType.Element && (Blocks.Contains(c.Name) || c.Name is "ul" or "ol" or "table")))
            {
                writer.Paragraph(Decode(TextWithoutDropped(child)));
            }
            else
            {
                Walk(child, writer);
            }
        }
    }

    private static string TextWithoutDropped(HtmlNode node) =>
        string.Concat(node.DescendantsAndSelf()
            .Where(n => n.NodeType == HtmlNodeType.Text && !n.Ancestors().Any(a => Dropped.Contains(a.Name)))
            .Select(n => n.InnerText));

    private static string Decode(string? text) =>
        string.Join(' ', WebUtility.HtmlDecode(text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
