using ChatBot.BotHost.Accounts;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ChatBot.EndToEnd.Tests;

/// <summary>
/// The admin portal in chromium: sign in, change a person's role, suspend them and watch the web chat refuse them,
/// upload a document and watch it become ready, export usage as CSV. Every page is saved as a screenshot
/// (bin/…/screenshots/portal-*.png) for a person to look at.
/// </summary>
public sealed class PortalBrowserTests : IAsyncLifetime
{
    private const string AdminPassword = "bootstrap-password-for-tests";
    private const string GracePassword = "grace-password-1234";

    private ChatBotAppFactory _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _baseUrl = "";
    private User _grace = null!;

    public async Task InitializeAsync()
    {
        _app = new ChatBotAppFactory();
        _baseUrl = _app.StartOnLoopback();
        _grace = await _app.Services.GetRequiredService<AccountService>()
            .CreateLocalAsync("grace", "Grace Hopper", "grace@example.com", UserRole.User, GracePassword, mustChangePassword: false, CancellationToken.None);
        (_playwright, _browser) = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Admin_ChangesARole_SuspendsSomeone_UploadsADocument_AndExportsUsage()
    {
        // Grace is chatting in her own browser.
        await using var graceContext = await _browser.NewContextAsync();
        var grace = await graceContext.NewPageAsync();
        await SignInAsync(grace, "grace", GracePassword);
        await grace.WaitForSelectorAsync("#composer");
        await AskAsync(grace, "What is the travel policy?");
        Assert.DoesNotContain("suspended", await grace.TextContentAsync(".msg.assistant:last-of-type .body") ?? "", StringComparison.Ordinal);

        // The admin signs in and opens the portal.
        await using var adminContext = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 }, AcceptDownloads = true });
        var admin = await adminContext.NewPageAsync();
        await SignInAsync(admin, "admin", AdminPassword);
        await admin.WaitForSelectorAsync("#composer");
        await admin.ClickAsync("#admin-link");
        await admin.WaitForSelectorAsync("#turns");
        await ShotAsync(admin, "dashboard");

        // Find Grace, make her a knowledge owner, then suspend her.
        await admin.ClickAsync("nav a[href='/admin/users']");
        await admin.FillAsync("input[name=q]", "grace");
        await admin.ClickAsync("form.filters button[type=submit]");
        await ShotAsync(admin, "users");
        await admin.ClickAsync("#users a:has-text('Grace Hopper')");
        await admin.SelectOptionAsync("#role-select", "KnowledgeOwner");
        await admin.ClickAsync("#save-role");
        await admin.WaitForSelectorAsync("#role:has-text('KnowledgeOwner')");
        await admin.ClickAsync("#suspend");
        await admin.WaitForSelectorAsync("#status:has-text('Suspended')");
        await ShotAsync(admin, "user-detail");
        Assert.Equal((UserRole.KnowledgeOwner, true), await WithDbAsync(async db => await db.Users.Where(u => u.Id == _grace.Id).Select(u => new ValueTuple<UserRole, bool>(u.Role, u.IsSuspended)).SingleAsync()));

        // Grace's next message is refused.
        await AskAsync(grace, "And the expense limits?");
        await grace.WaitForFunctionAsync("() => [...document.querySelectorAll('.msg.assistant .body')].some(b => b.textContent.includes('suspended'))");

        // Upload a document and watch it become ready.
        await admin.ClickAsync("nav a[href='/admin/documents']");
        await admin.SetInputFilesAsync("#upload-file", new FilePayload { Name = "travel-policy.md", MimeType = "text/markdown", Buffer = System.Text.Encoding.UTF8.GetBytes("# Travel policy\n\nTrain is preferred under four hours. Hotels up to 180 EUR a night.") });
        await admin.ClickAsync("#upload");
        await admin.WaitForSelectorAsync(".notice:has-text('travel-policy.md')");
        for (var i = 0; i < 60 && await admin.Locator("tr[data-title='Travel policy'] .status-ready").CountAsync() == 0; i++)
        {
            await Task.Delay(500);
            await admin.ReloadAsync();
        }

        Assert.Equal(1, await admin.Locator("tr[data-title='Travel policy'] .status-ready").CountAsync());
        await ShotAsync(admin, "documents");

        // Export usage as CSV: a header, a row per day with turns, and the total.
        await admin.ClickAsync("nav a[href='/admin/usage']");
        await ShotAsync(admin, "usage");
        var download = await admin.RunAndWaitForDownloadAsync(() => admin.ClickAsync("#export-csv"));
        var csv = (await File.ReadAllTextAsync(await download.PathAsync())).TrimStart('\uFEFF');
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("day,turns,input_tokens,output_tokens,cost_usd,failed,refused,avg_latency_ms", lines[0]);
        Assert.StartsWith(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + ",", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("Total,", lines[^1], StringComparison.Ordinal);
        Assert.Equal(lines[1].Split(',')[1], lines[^1].Split(',')[1]);

        // The remaining pages, for the record.
        foreach (var (path, name) in new[] { ("/admin/quotas", "quotas"), ("/admin/sources", "sources"), ("/admin/conversations", "conversations"), ("/admin/audit", "audit"), ("/admin/jobs", "jobs") })
        {
            var response = await admin.GotoAsync(_baseUrl + path);
            Assert.Equal(200, response!.Status);
            await ShotAsync(admin, name);
        }

        await admin.GotoAsync(_baseUrl + "/admin/conversations");
        await admin.ClickAsync("#conversations tbody a");
        await admin.WaitForSelectorAsync("#messages");
        await ShotAsync(admin, "conversation");
        Assert.Contains("user.suspended", await admin.GotoAsync(_baseUrl + "/admin/audit?action=user.") is { } audit ? await audit.TextAsync() : "", StringComparison.Ordinal);
    }

    private async Task SignInAsync(IPage page, string userName, string password)
    {
        await page.GotoAsync(_baseUrl + "/signin");
        await page.FillAsync("#UserName", userName);
        await page.FillAsync("#Password", password);
        await page.ClickAsync("#signin");
    }

    private static async Task AskAsync(IPage page, string question)
    {
        var before = await page.Locator(".msg.assistant .meta").CountAsync();
        await page.FillAsync("#input", question);
        await page.PressAsync("#input", "Enter");
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('.msg.assistant .meta').length > {before} || [...document.querySelectorAll('.msg.assistant .body')].some(b => b.textContent.includes('suspended'))");
    }

    private static async Task ShotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Browser.ScreenshotPath($"portal-{name}.png"), FullPage = true });

    private async Task<T> WithDbAsync<T>(Func<ChatDbContext, Task<T>> query)
    {
        await using var db = _app.Db();
        return await query(db);
    }
}
