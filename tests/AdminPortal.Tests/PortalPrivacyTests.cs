using System.Net;
using System.Text.Json;
using ChatBot.ChatData.Users;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.AdminPortal.Tests;

/// <summary>Access and erasure requests from a person's page: the export is theirs and complete, the erasure is final.</summary>
public sealed class PortalPrivacyTests : IAsyncLifetime
{
    private ChatBotAppFactory _app = null!;
    private ChatDriver _admin = null!;

    public async Task InitializeAsync()
    {
        _app = new ChatBotAppFactory();
        _admin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Export_DownloadsThePersonsDataAsJson_AndIsAudited()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app, email: "ada@example.com");
        Assert.NotNull((await person.SendAsync("Where is the <b>parking</b>?")).Final);

        using var response = await _admin.Client.GetAsync(new Uri($"/admin/users/{person.User.Id}?handler=Export", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"chatbot-user-{person.User.Id}.json", response.Content.Headers.ContentDisposition?.ToString(), StringComparison.Ordinal);
        using var export = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ada@example.com", export.RootElement.GetProperty("user").GetProperty("email").GetString());
        var messages = export.RootElement.GetProperty("conversations")[0].GetProperty("messages");
        Assert.Equal("Where is the <b>parking</b>?", messages[0].GetProperty("content").GetString());
        Assert.Equal("Assistant", messages[1].GetProperty("role").GetString());
        await using var db = _app.Db();
        Assert.True(await db.AuditLog.AnyAsync(a => a.Action == "user.exported" && a.TargetId == person.User.Id.ToString() && a.ActorUserId == _admin.User.Id));

        // Only admins: the person themselves (or anyone else) cannot fetch it from the portal.
        using var refused = await person.Client.GetAsync(new Uri($"/admin/users/{person.User.Id}?handler=Export", UriKind.Relative));
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
    }

    [Fact]
    public async Task Erase_WithoutConfirmation_ChangesNothing_WithIt_RemovesThePersonButKeepsUsageTotals()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app, email: "grace@example.com");
        Assert.NotNull((await person.SendAsync("Something personal")).Final);
        var page = $"/admin/users/{person.User.Id}";

        (await PortalForms.PostAsync(_admin.Client, page, "Erase", new Dictionary<string, string> { ["confirm"] = "yes" })).Dispose();
        await using (var db = _app.Db())
        {
            Assert.Equal(2, await db.Messages.CountAsync(m => m.Conversation!.OwnerUserId == person.User.Id));
        }

        using (var erase = await PortalForms.PostAsync(_admin.Client, page, "Erase", new Dictionary<string, string> { ["confirm"] = "ERASE" }))
        {
            Assert.Equal(HttpStatusCode.Redirect, erase.StatusCode);
        }

        await using var after = _app.Db();
        var row = await after.Users.SingleAsync(u => u.Id == person.User.Id);
        Assert.Equal("Deleted user", row.DisplayName);
        Assert.Null(row.Email);
        Assert.True(row.IsSuspended);
        Assert.False(await after.Messages.AnyAsync(m => m.UserId == person.User.Id || m.Conversation!.OwnerUserId == person.User.Id));
        Assert.False(await after.LocalAccounts.AnyAsync(a => a.UserId == person.User.Id));
        Assert.False(await after.ChannelIdentities.AnyAsync(i => i.UserId == person.User.Id));
        Assert.Equal(1, await after.UsageRecords.CountAsync(u => u.UserId == person.User.Id));
        var audit = await after.AuditLog.SingleAsync(a => a.Action == "user.erased");
        Assert.Equal(_admin.User.Id, audit.ActorUserId);
        Assert.DoesNotContain("grace", audit.Details ?? "", StringComparison.OrdinalIgnoreCase);
        // Their session ends with the row: the next message is refused, and they cannot sign in again.
        var next = await person.SendAsync("Still there?");
        Assert.True(next.Final is null || next.FinalText.Contains("suspended", StringComparison.Ordinal), next.Status + " " + string.Join(" | ", next.Events.Select(e => e.Name + ":" + e.Data)));
        var userName = person.User.DisplayName["Test ".Length..];
        Assert.NotEqual(HttpStatusCode.Redirect, await ChatDriver.SignInAsync(_app.CreateClient(new() { AllowAutoRedirect = false }), userName, ChatDriver.Password));
    }

    [Fact]
    public async Task Erase_RefusesAdminsAndOneself()
    {
        var otherAdmin = await ChatDriver.SignInNewUserAsync(_app, UserRole.Admin);
        await using var before = _app.Db();
        var admins = await before.Users.CountAsync(u => u.Role == UserRole.Admin);

        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{otherAdmin.User.Id}", "Erase", new Dictionary<string, string> { ["confirm"] = "ERASE" })).Dispose();
        (await PortalForms.PostAsync(_admin.Client, $"/admin/users/{_admin.User.Id}", "Erase", new Dictionary<string, string> { ["confirm"] = "ERASE" })).Dispose();

        await using var db = _app.Db();
        Assert.Equal(admins, await db.Users.CountAsync(u => u.Role == UserRole.Admin && u.DisplayName != "Deleted user"));
        Assert.False(await db.AuditLog.AnyAsync(a => a.Action == "user.erased"));
    }
}
