using ChatBot.Adapters.Web;

namespace ChatBot.Adapters.Tests.Web;

public sealed class SafeMarkdownTests
{
    [Fact]
    public void CodeBlock_KnownLanguage_IsHighlightedAndEscaped()
    {
        var html = SafeMarkdown.ToHtml("```csharp\nvar x = \"<script>alert(1)</script>\"; // note\n```");

        Assert.StartsWith("<pre><code class=\"hl language-c#\">", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"keyword\">var</span>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"comment\">// note</span>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void CodeBlock_UnknownLanguage_IsPlainEscapedCode()
    {
        var html = SafeMarkdown.ToHtml("```klingon\n<b>qapla'</b>\n```");

        Assert.Contains("<pre><code class=\"language-klingon\">&lt;b&gt;qapla'&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"hl", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JAVASCRIPT:alert(1))")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD4=)")]
    [InlineData("[x](vbscript:msgbox)")]
    [InlineData("<javascript:alert(1)>")]
    public void Links_WithAScriptScheme_LoseTheirTarget(string markdown)
    {
        var html = SafeMarkdown.ToHtml(markdown);

        Assert.DoesNotContain("script:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("data:", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Links_Safe_KeepTheirTargetAndOpenWithoutAnOpener()
    {
        var html = SafeMarkdown.ToHtml("[guide](https://intranet.example.com/vpn) and [mail](mailto:it@example.com)");

        Assert.Contains("href=\"https://intranet.example.com/vpn\"", html, StringComparison.Ordinal);
        Assert.Contains("rel=\"noopener noreferrer nofollow\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"mailto:it@example.com\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void RawHtmlAndImages_AreNeverRendered()
    {
        var html = SafeMarkdown.ToHtml("<img src=x onerror=alert(1)> <iframe src=https://evil.example></iframe> ![pixel](https://evil.example/p.png)");

        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<iframe", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;img", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://evil.example/p.png\"", html, StringComparison.Ordinal); // an image becomes a link
    }

    [Fact]
    public void Tables_Render()
    {
        var html = SafeMarkdown.ToHtml("| a | b |\n|---|---|\n| 1 | 2 |");

        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("<td>2</td>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/knowledge/documents/1/content", true)]
    [InlineData("https://contoso.sharepoint.com/a.docx", true)]
    [InlineData("docs/page", true)]
    [InlineData("//evil.example/x", false)]
    [InlineData("/\\evil.example/x", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("javascript:alert(1)", false)]
    public void IsSafeUrl_AllowsOurOwnPathsAndWebLinks_RefusesOtherHostsWithoutScheme(string url, bool safe)
    {
        Assert.Equal(safe, SafeMarkdown.IsSafeUrl(url));
    }
}
