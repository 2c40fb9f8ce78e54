using ColorCode;
using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;

namespace ChatBot.Adapters.Web;

/// <summary>
/// Fenced code blocks with a known language are coloured on the server by ColorCode (which HTML-encodes every
/// token); the page styles its classes (keyword, string, comment…). Other code blocks render as plain code.
/// </summary>
internal sealed class CodeHighlighting : IMarkdownExtension
{
    public void Setup(MarkdownPipelineBuilder pipeline)
    {
    }

    public void Setup(MarkdownPipeline pipeline, IMarkdownRenderer renderer)
    {
        if (renderer is HtmlRenderer html && html.ObjectRenderers.FindExact<CodeBlockRenderer>() is { } plain)
        {
            html.ObjectRenderers.Replace<CodeBlockRenderer>(new HighlightedCodeBlockRenderer(plain));
        }
    }

    private sealed class HighlightedCodeBlockRenderer(CodeBlockRenderer plain) : HtmlObjectRenderer<CodeBlock>
    {
        private readonly HtmlClassFormatter _formatter = new();

        protected override void Write(HtmlRenderer renderer, CodeBlock block)
        {
            var language = block is FencedCodeBlock { Info: { Length: > 0 } info } ? Languages.FindById(info.Trim()) : null;
            if (language is null)
            {
                plain.Write(renderer, block);
                return;
            }

            var code = block.Lines.ToString();
            var formatted = _formatter.GetHtmlString(code, language);
            var start = formatted.IndexOf("<pre>", StringComparison.Ordinal);
            var end = formatted.LastIndexOf("</pre>", StringComparison.Ordinal);
            if (start < 0 || end < start)
            {
                plain.Write(renderer, block);
                return;
            }

            var inner = formatted[(start + "<pre>".Length)..end].Trim('\r', '\n');
            renderer.EnsureLine();
            renderer.Write("<pre><code class=\"hl language-").WriteEscape(language.Id).Write("\">");
            renderer.Write(inner);
            renderer.WriteLine("</code></pre>");
        }
    }
}
