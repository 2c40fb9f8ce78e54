using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.Playwright;

namespace ChatBot.EndToEnd.Tests;

/// <summary>"Sign in with Microsoft" in chromium: the button, the provider's self-posting form, back in the chat.</summary>
public sealed class EntraSignInBrowserTests : IAsyncLifetime
{
    private FakeOpenIdProvider _entra = null!;
    private ChatBotAppFactory _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _baseUrl = "";

    public async Task InitializeAsync()
    {
        _entra = await FakeOpenIdProvider.StartAsync();
        _app = new ChatBotAppFactory()
            .With("Entra:Instance", _entra.Instance)
            .With("Entra:TenantId", FakeOpenIdProvider.DefaultTenant)
            .With("Entra:ClientId", FakeOpenIdProvider.ClientId)
            .With("Entra:ClientSecret", FakeOpenIdProvider.ClientSecret);
        _baseUrl = _app.StartOnLoopback();
        (_playwright, _browser) = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _app.DisposeAsync();
        await _entra.DisposeAsync();
    }

    [Fact]
    public async Task SignInWithMicrosoft_LandsInTheChatAsThatPerson()
    {
        _entra.NextUser = new FakeSignInUser("oid-grace", "Grace Hopper", "grace@contoso.com");
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });

        await page.GotoAsync(_baseUrl + "/");
        await page.WaitForSelectorAsync("#signin-entra");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath("signin-entra.png") });
        await page.ClickAsync("#signin-entra");
        await page.WaitForSelectorAsync("#composer");

        Assert.StartsWith(_baseUrl + "/", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("/signin", page.Url, StringComparison.Ordinal);
        Assert.Contains("Grace Hopper", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Empty(_entra.ProtocolErrors);
    }

    [Fact]
    public async Task SignInWithMicrosoft_Refused_ShowsTheReasonOnTheSignInPage()
    {
        _entra.NextFault = IdTokenFault.ForgedSignature;
        var page = await _browser.NewPageAsync();

        await page.GotoAsync(_baseUrl + "/signin");
        await page.ClickAsync("#signin-entra");
        await page.WaitForSelectorAsync("#signin-error");

        Assert.Contains("Sign-in with Microsoft did not complete", await page.TextContentAsync("#signin-error"), StringComparison.Ordinal);
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
    }
}
