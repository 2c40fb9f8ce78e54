using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ChatBot.Adapters.Web;

/// <summary>
/// Markdown from a model or a document, rendered to HTML that cannot run script: raw HTML is not rendered,
/// links keep only http, https and mailto targets (and open in a new tab without an opener), images become links.
/// </summary>
public static class SafeMarkdown
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseListExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .UseReferralLinks("noopener", "noreferrer", "nofollow")
        .Use<CodeHighlighting>()
        .Build();

    public static string ToHtml(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            if (!IsSafeUrl(link.Url))
            {
                link.Url = "#";
            }

            link.IsImage = false;
        }

        foreach (var link in document.Descendants<AutolinkInline>())
        {
            if (!IsSafeUrl(link.Url))
            {
                link.Url = "#";
            }
        }

        return document.ToHtml(Pipeline);
    }

    internal static bool IsSafeUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return false;
        }

        // "//host" and "/\host" are another site to a browser; refused below as absolute or scheme-less with a host.
        url = url.Trim();
        if (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal))
        {
            return true; // a path on our own site (on Unix, Uri.TryCreate would read "/x" as an absolute file: URI)
        }

        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return uri.Scheme is "http" or "https" or "mailto";
        }

        // Relative links stay within our own site; anything with a scheme-like prefix was refused above.
        return !url.Contains(':', StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
    }
}
