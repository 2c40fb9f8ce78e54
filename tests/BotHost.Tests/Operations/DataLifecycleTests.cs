using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ChatBot.BotHost.Pipeline;
using ChatBot.BotHost.Privacy;
using ChatBot.ChatData.Inbox;
using ChatBot.ChatData.Knowledge;
using ChatBot.TestSupport;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Operations;

/// <summary>Retention, and files shared in a private chat going with the history that held them.</summary>
public sealed class DataLifecycleTests
{
    private static ChatBotAppFactory NewApp(params (string Key, string Value)[] settings)
    {
        var app = new ChatBotAppFactory().With("Inbox:PollSeconds", "0.2");
        app.With("Knowledge:BlobPath", Path.Combine(app.DataDirectory, "blobs"));
        foreach (var (key, value) in settings)
        {
            app.With(key, value);
        }

        return app;
    }

    [Fact]
    public async Task Retention_DeletesOldMessagesEmptiedConversationsTheirFilesAndOldInboxRows_KeepsRecentOnes()
    {
        await using var app = NewApp(("Retention:ConversationDays", "30"), ("Retention:InboxDays", "7"));
        var old = await ChatDriver.SignInNewUserAsync(app);
        Assert.NotNull((await old.SendAsync("An old question")).Final);
        var documentId = await UploadAndWaitAsync(app, old, "old-notes.md", "# Old\n\nNotes shared long ago about the archive room.");
        var recent = await ChatDriver.SignInNewUserAsync(app);
        Assert.NotNull((await recent.SendAsync("A recent question")).Final);
        await using (var db = await Pipeline.ChatPipelineTests.DbAfterTurnsAsync(app))
        {
            // Age the first person's conversation and its turns by 40 days.
            var longAgo = DateTime.UtcNow.AddDays(-40);
            await db.Messages.Where(m => m.Conversation!.OwnerUserId == old.User.Id).ExecuteUpdateAsync(s => s.SetProperty(m => m.CreatedAt, longAgo));
            await db.Conversations.Where(c => c.OwnerUserId == old.User.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.UpdatedAt, longAgo));
            await db.Inbox.Where(i => i.Payload.Contains(old.ConversationId.ToString())).ExecuteUpdateAsync(s => s.SetProperty(i => i.CompletedAt, longAgo));
        }

        var blobs = Directory.GetFiles(Path.Combine(app.DataDirectory, "blobs"), "*", SearchOption.AllDirectories);
        Assert.NotEmpty(blobs);
        var result = await app.Services.GetRequiredService<RetentionJob>().RunAsync(CancellationToken.None);

        Assert.Equal(1, result.Conversations);
        Assert.Equal(1, result.Documents);
        Assert.True(result.Messages >= 2 && result.InboxRows >= 1, result.ToString());
        await using var after = app.Db();
        Assert.False(await after.Conversations.AnyAsync(c => c.OwnerUserId == old.User.Id));
        Assert.False(await after.Documents.AnyAsync(d => d.Id == documentId));
        Assert.False(await after.DocumentChunks.AnyAsync(c => c.DocumentId == documentId));
        Assert.All(blobs, b => Assert.False(File.Exists(b), b));
        Assert.Equal(2, await after.Messages.CountAsync(m => m.Conversation!.OwnerUserId == recent.User.Id));
        Assert.True(await after.Inbox.AnyAsync(i => i.Status == InboxStatus.Done));
        Assert.True(await after.UsageRecords.AnyAsync(u => u.UserId == old.User.Id)); // usage stays for billing

        // The job is scheduled as a recurring Hangfire job.
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        Assert.Contains(connection.GetRecurringJobs(), j => j.Id == RetentionJob.JobId && j.Cron == "17 * * * *");
    }

    [Fact]
    public async Task Retention_Off_KeepsConversations_ButStillClearsOldInboxRows()
    {
        await using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        Assert.NotNull((await chat.SendAsync("A question")).Final);
        // The answer reaches the browser before the turn is marked finished: backdate only a finished turn.
        await using (var db = await Pipeline.ChatPipelineTests.DbAfterTurnsAsync(app))
        {
            var longAgo = DateTime.UtcNow.AddDays(-400);
            await db.Messages.ExecuteUpdateAsync(s => s.SetProperty(m => m.CreatedAt, longAgo));
            await db.Inbox.ExecuteUpdateAsync(s => s.SetProperty(i => i.CompletedAt, longAgo));
        }

        var result = await app.Services.GetRequiredService<RetentionJob>().RunAsync(CancellationToken.None);

        Assert.Equal(new RetentionResult(0, 0, 0, 1), result);
        await using var after = app.Db();
        Assert.Equal(2, await after.Messages.CountAsync());
        Assert.Equal(0, await after.Inbox.CountAsync());
    }

    [Fact]
    public async Task Forget_AlsoRemovesFilesSharedInThePrivateChat_FromIndexAndDisk()
    {
        await using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var documentId = await UploadAndWaitAsync(app, chat, "private.md", "# Private\n\nMy private notes about the garden shed.");
        var blobs = Directory.GetFiles(Path.Combine(app.DataDirectory, "blobs"), "*", SearchOption.AllDirectories);

        var done = await chat.SendAsync(ChatCommands.ForgetConfirmText);

        Assert.Contains("and 1 file(s) you shared in them", done.FinalText, StringComparison.Ordinal);
        await using var db = app.Db();
        Assert.False(await db.Documents.AnyAsync(d => d.Id == documentId));
        Assert.All(blobs, b => Assert.False(File.Exists(b), b));
    }

    [Fact]
    public async Task Api_Export_IsTheKeyOwnersOwnData()
    {
        await using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        Assert.NotNull((await chat.SendAsync("My exported question")).Final);
        var other = await ChatDriver.SignInNewUserAsync(app);
        Assert.NotNull((await other.SendAsync("Someone else's question")).Final);
        var key = await app.Services.GetRequiredService<ChatData.Users.ApiKeys>().CreateAsync(chat.User.Id, "export", ["chat"], null, chat.User.Id, CancellationToken.None);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Secret);

        var export = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/me/export", UriKind.Relative));

        Assert.Equal(chat.User.Id, export.GetProperty("user").GetProperty("id").GetGuid());
        var texts = export.GetProperty("conversations").EnumerateArray().SelectMany(c => c.GetProperty("messages").EnumerateArray()).Select(m => m.GetProperty("content").GetString()).ToList();
        Assert.Contains("My exported question", texts);
        Assert.DoesNotContain("Someone else's question", texts);
        Assert.Equal(1, export.GetProperty("usage").GetArrayLength());
        var apiKey = Assert.Single(export.GetProperty("apiKeys").EnumerateArray());
        Assert.False(apiKey.TryGetProperty("secretHash", out _));
    }

    private static async Task<Guid> UploadAndWaitAsync(ChatBotAppFactory app, ChatDriver chat, string name, string content)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "file", name } };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/conversations/{chat.ConversationId}/documents") { Content = form };
        request.Headers.Add("X-ChatBot-Upload", "1");
        using var response = await chat.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetGuid();
        await app.WaitForAsync(async db => await db.Documents.AnyAsync(d => d.Id == id && d.Status == DocumentStatus.Ready));
        return id;
    }
}
