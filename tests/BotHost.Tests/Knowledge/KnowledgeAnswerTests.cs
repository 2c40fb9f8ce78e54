using System.Net;
using System.Text;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Ingestion;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Knowledge;

/// <summary>Documents ingested by the host's own Hangfire workers, then asked about in the web chat (extractive default).</summary>
public sealed class KnowledgeAnswerTests
{
    private const string VpnGuide = """
        # VPN guide

        ## Installing

        Install the Contoso VPN client from the Software Center, then sign in with your company account.

        ## Troubleshooting

        If the VPN disconnects every few minutes, switch the protocol to IKEv2 in the client settings.
        """;

    [Fact]
    public async Task UploadedDocument_IsIndexedByTheJobs_AndQuotedWithACitation()
    {
        using var app = new ChatBotAppFactory();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var documentId = await IngestAndWaitAsync(app, "vpn-guide.md", VpnGuide, DocumentScope.Organisation);

        var exchange = await chat.SendAsync("My VPN keeps disconnecting, what should I change?");

        Assert.Contains("switch the protocol to IKEv2", exchange.FinalText, StringComparison.Ordinal);
        Assert.Contains("[1]", exchange.FinalText, StringComparison.Ordinal);
        var citation = exchange.Final!.Data.GetProperty("citations")[0];
        Assert.Equal("VPN guide", citation.GetProperty("title").GetString());
        Assert.Equal($"/knowledge/documents/{documentId}/content", citation.GetProperty("url").GetString());
    }

    [Fact]
    public async Task OnPostgres_JobsRunFromHangfiresPostgresStorage()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        using var app = new ChatBotAppFactory()
            .WithPostgres(database);
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await IngestAndWaitAsync(app, "vpn-guide.md", VpnGuide, DocumentScope.Organisation);

        var exchange = await chat.SendAsync("How do I install the VPN client?");

        Assert.Contains("Software Center", exchange.FinalText, StringComparison.Ordinal);
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var jobs = new Npgsql.NpgsqlCommand("SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded'", connection);
        Assert.True((long)(await jobs.ExecuteScalarAsync())! >= 1);
    }

    [Fact]
    public async Task AnotherUsersRestrictedDocument_IsNeverUsed_ButItsReaderGetsIt()
    {
        using var app = new ChatBotAppFactory();
        var reader = await ChatDriver.SignInNewUserAsync(app, email: "hr.lead@contoso.com");
        var other = await ChatDriver.SignInNewUserAsync(app, email: "dev@contoso.com");
        var documentId = await IngestAndWaitAsync(app, "bonus.txt", "The 2027 bonus pool is eleven percent of payroll.", DocumentScope.Restricted, principals: ["user:hr.lead@contoso.com"]);

        var refused = await other.SendAsync("How big is the 2027 bonus pool?");
        var answered = await reader.SendAsync("How big is the 2027 bonus pool?");

        Assert.DoesNotContain("eleven percent", refused.FinalText, StringComparison.Ordinal);
        Assert.Equal(0, refused.Final!.Data.GetProperty("citations").GetArrayLength());
        Assert.Contains("eleven percent", answered.FinalText, StringComparison.Ordinal);

        // The citation's link: the reader downloads the original; anyone else is told it does not exist.
        var link = new Uri(answered.Final!.Data.GetProperty("citations")[0].GetProperty("url").GetString()!, UriKind.Relative);
        using var download = await reader.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("The 2027 bonus pool is eleven percent of payroll.", await download.Content.ReadAsStringAsync());
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        using var forbidden = await other.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.NotFound, forbidden.StatusCode);
        using var anonymous = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var signedOut = await anonymous.GetAsync(link);
        Assert.NotEqual(HttpStatusCode.OK, signedOut.StatusCode);
        Assert.Equal($"/knowledge/documents/{documentId}/content", link.OriginalString);
    }

    [Fact]
    public async Task WithAnEmbeddingModel_PassagesAreEmbeddedOverHttp_AndFoundByMeaning()
    {
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Default = _ => FakeReply.Text("Bring it back with a full tank [1].");
        using var app = new ChatBotAppFactory()
            .WithModels(model.Endpoint, ("model-a", 1m, 2m))
            .With("Llm:EmbeddingModel", "text-embedding-3-small");
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await IngestAndWaitAsync(app, "fleet.txt", "Company automobiles must be returned with a full tank.", DocumentScope.Organisation);

        var exchange = await chat.SendAsync("Car petrol rules?"); // not one word in common with the passage

        Assert.Contains(model.EmbeddingRequests, r => r is { Model: "text-embedding-3-small", Inputs: 1 });
        Assert.True(model.EmbeddingRequests.Count >= 2, "one call for the passage, one for the question");
        var prompt = string.Join("\n", model.RequestsFor("model-a")[^1].Messages.Select(m => m.Content));
        Assert.Contains("Company automobiles must be returned with a full tank.", prompt, StringComparison.Ordinal);
        Assert.Equal("fleet", exchange.Final!.Data.GetProperty("citations")[0].GetProperty("title").GetString());
    }

    [Fact]
    public async Task ChatUploads_TheUploaderIsToldInTheirConversation_HowIndexingEnded()
    {
        var notices = new RecordingNotices();
        using var app = new ChatBotAppFactory().WithServices(s => s.AddSingleton<INoticeChannel>(notices));
        var intake = app.Services.GetRequiredService<DocumentIntake>();
        var conversation = Guid.NewGuid().ToString();
        var address = NoticeAddress.Format(ChannelKind.Teams, "reply-address-1");

        using (var good = new MemoryStream(Encoding.UTF8.GetBytes(VpnGuide)))
        {
            await intake.IngestFromChatAsync(good, new DocumentUpload("vpn-guide.md", DocumentSource.Chat, DocumentScope.Conversation, conversation, NotifyReference: address), CancellationToken.None);
        }

        using (var bad = new MemoryStream(Encoding.UTF8.GetBytes("not a pdf at all")))
        {
            await intake.IngestFromChatAsync(bad, new DocumentUpload("scan.pdf", DocumentSource.Chat, DocumentScope.Conversation, conversation, NotifyReference: address), CancellationToken.None);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (notices.Sent.Count < 2)
        {
            await Task.Delay(50, timeout.Token);
        }

        Assert.All(notices.Sent, n => Assert.Equal("reply-address-1", n.Address));
        Assert.Contains(notices.Sent, n => n.Text == "“VPN guide” is in the knowledge base now (2 passages). Ask me about it.");
        Assert.Contains(notices.Sent, n => n.Text.StartsWith("“scan” could not be added to the knowledge base: The file is damaged", StringComparison.Ordinal));
    }

    private sealed class RecordingNotices : INoticeChannel
    {
        public System.Collections.Concurrent.ConcurrentQueue<(string Address, string Text)> Sent { get; } = new();

        public ChannelKind Channel => ChannelKind.Teams;

        public Task SendNoticeAsync(string replyAddress, string text, CancellationToken cancellationToken)
        {
            Sent.Enqueue((replyAddress, text));
            return Task.CompletedTask;
        }
    }

    private static async Task<Guid> IngestAndWaitAsync(ChatBotAppFactory app, string fileName, string text, DocumentScope scope, IReadOnlyList<string>? principals = null)
    {
        var intake = app.Services.GetRequiredService<DocumentIntake>();
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var result = await intake.AddAsync(new DocumentUpload(fileName, DocumentSource.Upload, scope, Principals: principals), content, CancellationToken.None);
        var contexts = app.Services.GetRequiredService<IDbContextFactory<ChatDbContext>>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            await using var db = await contexts.CreateDbContextAsync(timeout.Token);
            var document = await db.Documents.AsNoTracking().SingleAsync(d => d.Id == result.DocumentId, timeout.Token);
            if (document.Status is DocumentStatus.Ready)
            {
                return document.Id;
            }

            Assert.NotEqual(DocumentStatus.Failed, document.Status);
            await Task.Delay(50, timeout.Token);
        }
    }
}
