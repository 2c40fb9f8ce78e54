using ChatBot.TestSupport;
using Microsoft.Playwright;

namespace ChatBot.EndToEnd.Tests;

/// <summary>Attaching a document in the web chat (chromium), on the embedded default: indexed by the host's jobs, then quoted.</summary>
public sealed class WebChatAttachmentBrowserTests : IAsyncLifetime
{
    private const string AdminPassword = "bootstrap-password-for-tests";

    private readonly TempDirectory _files = new();
    private ChatBotAppFactory _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _baseUrl = "";

    public async Task InitializeAsync()
    {
        _app = new ChatBotAppFactory();
        _baseUrl = _app.StartOnLoopback();
        (_playwright, _browser) = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _app.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task AttachADocument_ItIsIndexedForThisConversation_AndAnswersQuoteIt()
    {
        var page = await SignInAsync();
        var guide = _files.File("parking-rules.md");
        await File.WriteAllTextAsync(guide, "# Parking rules\n\nVisitors park on level two of the north garage and register at reception.\n");
        var broken = _files.File("scan.pdf");
        await File.WriteAllTextAsync(broken, "not really a PDF");

        await page.SetInputFilesAsync("#file", guide);
        await page.WaitForSelectorAsync(".msg.notice.upload.ready", new PageWaitForSelectorOptions { Timeout = 30_000 });
        await page.SetInputFilesAsync("#file", broken);
        await page.WaitForSelectorAsync(".msg.notice.upload.error", new PageWaitForSelectorOptions { Timeout = 30_000 });

        Assert.Equal("“Parking rules” is ready (1 passage). Ask me about it.", await page.TextContentAsync(".msg.notice.upload.ready"));
        Assert.Contains("“scan.pdf” could not be added: The file is damaged", await page.TextContentAsync(".msg.notice.upload.error"), StringComparison.Ordinal);

        await page.FillAsync("#input", "Where do visitors park?");
        await page.PressAsync("#input", "Enter");
        await page.WaitForSelectorAsync(".msg.assistant .meta");
        Assert.Contains("level two of the north garage", await page.TextContentAsync(".msg.assistant .body"), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath("webchat-attachment.png") });

        // Another conversation of the same person does not see the document.
        await page.ClickAsync("#new-chat");
        await page.FillAsync("#input", "Where do visitors park?");
        await page.PressAsync("#input", "Enter");
        await page.WaitForSelectorAsync(".msg.assistant .meta");
        Assert.DoesNotContain("north garage", await page.TextContentAsync(".msg.assistant .body"), StringComparison.Ordinal);
    }

    private async Task<IPage> SignInAsync()
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        await page.GotoAsync(_baseUrl + "/signin");
        await page.FillAsync("#UserName", "admin");
        await page.FillAsync("#Password", AdminPassword);
        await page.ClickAsync("#signin");
        await page.WaitForSelectorAsync("#composer");
        return page;
    }
}
