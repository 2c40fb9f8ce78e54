using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ChatBot.EndToEnd.Tests;

/// <summary>The web chat in a real browser: sign in, ask, watch the answer stream in, read its citations, rate it.</summary>
public sealed class WebChatBrowserTests : IAsyncLifetime
{
    private const string AdminPassword = "bootstrap-password-for-tests";
    private const string Answer = "Install the **Contoso VPN** client from the Software Center [1]. On hotel Wi-Fi, connect before anything else [2].";

    private FakeOpenAiServer _model = null!;
    private ChatBotAppFactory _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _baseUrl = "";

    public async Task InitializeAsync()
    {
        _model = await FakeOpenAiServer.StartAsync();
        _model.Default = _ => FakeReply.Text(Answer, firstTokenDelay: TimeSpan.FromMilliseconds(200), tokenDelay: TimeSpan.FromMilliseconds(40), pieceLength: 3);
        _app = new ChatBotAppFactory()
            .WithModels(_model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m))
            .WithServices(s => s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide()));
        _baseUrl = _app.StartOnLoopback();
        (_playwright, _browser) = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _app.DisposeAsync();
        await _model.DisposeAsync();
    }

    [Fact]
    public async Task WebChat_AskAQuestion_TokensStreamInThenCitationsAndFeedbackShow()
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });

        // Sign in: the chat redirects to the sign-in page first.
        await page.GotoAsync(_baseUrl + "/");
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#UserName", "admin");
        await page.FillAsync("#Password", AdminPassword);
        await page.ClickAsync("#signin");
        await page.WaitForSelectorAsync("#composer");
        // The model list arrives with /api/chat/me, just after the composer shows.
        await page.WaitForFunctionAsync("() => document.querySelector('#model')?.value !== ''");
        Assert.Equal("gpt-4o-mini", await page.InputValueAsync("#model"));

        // Ask, and see the words arrive while the answer is still streaming.
        await page.FillAsync("#input", "How do I connect to the VPN?");
        await page.PressAsync("#input", "Enter");
        await page.WaitForFunctionAsync("() => { const b = document.querySelector('.msg.assistant .body.streaming'); return b && b.textContent.length > 10; }");
        var partial = await page.TextContentAsync(".msg.assistant .body.streaming");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath("webchat-streaming.png") });

        // The final answer: rendered Markdown, numbered citation links and the sources list.
        await page.WaitForSelectorAsync(".msg.assistant .citations li");
        Assert.True(partial!.Length < Answer.Length, "the answer was shown in pieces");
        Assert.Equal("Contoso VPN", await page.TextContentAsync(".msg.assistant .body strong"));
        Assert.Equal(["1", "2"], await page.Locator(".msg.assistant a.cite").AllTextContentsAsync());
        Assert.Equal(2, await page.Locator(".msg.assistant .citations li").CountAsync());
        Assert.Contains("VPN setup guide", await page.TextContentAsync(".msg.assistant .citations li:first-child"), StringComparison.Ordinal);
        Assert.Equal("https://intranet.example.com/vpn", await page.GetAttributeAsync(".msg.assistant .citations li:first-child a", "href"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath("webchat-answer.png") });

        // Thumbs up is stored on the message.
        await page.ClickAsync(".msg.assistant .meta button[aria-label='Helpful']");
        await WaitForAsync(async db => await db.Messages.AnyAsync(m => m.Feedback == 1));

        // After a reload the conversation is in the sidebar and its messages come back.
        await page.ReloadAsync();
        await page.WaitForSelectorAsync(".msg.assistant .citations li");
        Assert.Equal("How do I connect to the VPN?", await page.TextContentAsync("#conversations a"));
        Assert.Equal("true", await page.GetAttributeAsync(".msg.assistant .meta button[aria-label='Helpful']", "aria-pressed"));

        // Delete it (after confirming): gone from the sidebar and from the database.
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.ClickAsync("#delete-chat");
        await page.WaitForSelectorAsync("#empty");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#conversations a').length === 0");
        await WaitForAsync(async db => !await db.Conversations.AnyAsync());
        Assert.False(await WithDbAsync(db => db.Messages.AnyAsync()));
    }

    private async Task<T> WithDbAsync<T>(Func<ChatDbContext, Task<T>> query)
    {
        await using var db = _app.Db();
        return await query(db);
    }

    [Fact]
    public async Task WebChat_ScriptInTheAnswer_IsShownAsTextAndNeverRuns()
    {
        _model.Default = _ => FakeReply.Text("<img src=x onerror=\"window.pwned=1\"> <script>window.pwned=2</script> [x](javascript:window.pwned=3)");
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_baseUrl + "/signin");
        await page.FillAsync("#UserName", "admin");
        await page.FillAsync("#Password", AdminPassword);
        await page.ClickAsync("#signin");
        await page.WaitForSelectorAsync("#composer");

        await page.FillAsync("#input", "Say something dangerous");
        await page.PressAsync("#input", "Enter");
        await page.WaitForSelectorAsync(".msg.assistant .meta");
        await page.ClickAsync(".msg.assistant .body a");

        Assert.Null(await page.EvaluateAsync<int?>("() => window.pwned ?? null"));
        Assert.Equal(0, await page.Locator(".msg.assistant .body img, .msg.assistant .body script").CountAsync());
    }

    [Fact]
    public async Task WebChat_CodeInAnAnswer_IsHighlightedWithACopyButton()
    {
        _model.Default = _ => FakeReply.Text("Run this:\n\n```csharp\nvar client = new VpnClient();\nawait client.ConnectAsync(); // connect first\n```\n", pieceLength: 12);
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 700 } });
        await page.GotoAsync(_baseUrl + "/signin");
        await page.FillAsync("#UserName", "admin");
        await page.FillAsync("#Password", AdminPassword);
        await page.ClickAsync("#signin");
        await page.WaitForSelectorAsync("#composer");

        await page.FillAsync("#input", "How do I connect from code?");
        await page.PressAsync("#input", "Enter");
        await page.WaitForSelectorAsync(".msg.assistant .meta");

        Assert.Equal(["var", "new", "await"], await page.Locator(".msg.assistant pre code.hl .keyword").AllTextContentsAsync());
        Assert.Equal("// connect first", await page.TextContentAsync(".msg.assistant pre code.hl .comment"));
        Assert.Equal("Copy", await page.TextContentAsync(".msg.assistant pre button.copy"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath("webchat-code.png") });
    }

    private Task WaitForAsync(Func<ChatDbContext, Task<bool>> condition) => _app.WaitForAsync(condition, TimeSpan.FromSeconds(15));
}
