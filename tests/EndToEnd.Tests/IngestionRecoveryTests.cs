using System.Globalization;
using System.Net;
using System.Text;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.Data.Sqlite;

namespace ChatBot.EndToEnd.Tests;

/// <summary>Ingestion across a real crash: kill -9 the host while a document is being embedded; after a restart it is indexed once.</summary>
public sealed class IngestionRecoveryTests
{
    private const string AdminPassword = "bootstrap-password-for-tests";

    [Fact]
    public async Task Host_KilledMidDocument_ResumesAndIndexesItOnce()
    {
        using var directory = new TempDirectory();
        await using var model = await FakeOpenAiServer.StartAsync();
        model.EmbeddingDelay = TimeSpan.FromSeconds(2); // each batch of 64 passages takes a while: time to pull the plug
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__ChatBot"] = $"Data Source={directory.File("chatbot.db")}",
            ["Knowledge__BlobPath"] = directory.File("blobs"),
            ["Admin__BootstrapPassword"] = AdminPassword,
            ["Llm__Provider"] = "OpenAICompatible",
            ["Llm__Endpoint"] = model.Endpoint,
            ["Llm__Models__0__Id"] = "model-a",
            ["Llm__EmbeddingModel"] = "embed-a",
            ["Knowledge__Lease"] = "00:00:05",
            ["Knowledge__RecoveryInterval"] = "00:00:01",
        };
        var handbook = new StringBuilder();
        for (var i = 0; i < 400; i++)
        {
            handbook.Append(CultureInfo.InvariantCulture, $"## Section {i}\n\nPolicy {i}: visitors to building {i} sign in at desk {i} and wear badge colour {i}. ").Append(string.Concat(Enumerable.Repeat("Further words on the matter. ", 30))).Append("\n\n");
        }

        await using (var first = HostProcess.Start(environment))
        {
            await first.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
            using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = first.BaseAddress };
            Assert.Equal(HttpStatusCode.Redirect, await ChatDriver.SignInAsync(client, "admin", AdminPassword));
            using var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(handbook.ToString())), "file", "handbook.md" } };
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/documents") { Content = form };
            request.Headers.Add("X-ChatBot-Upload", "1");
            using (var upload = await client.SendAsync(request))
            {
                Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
            }

            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (model.EmbeddingRequests.Count == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.NotEmpty(model.EmbeddingRequests);
            first.Kill(); // mid-document: the first batch is still being embedded
        }

        Assert.Equal("Processing", await TextAsync(directory, "SELECT Status FROM Documents"));
        model.EmbeddingDelay = TimeSpan.Zero;
        var requestsBeforeRestart = model.EmbeddingRequests.Count;

        await using var second = HostProcess.Start(environment);
        await second.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        var until = DateTime.UtcNow.AddSeconds(60);
        while (await TextAsync(directory, "SELECT Status FROM Documents") != "Ready" && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }

        Assert.Equal("Ready", await TextAsync(directory, "SELECT Status FROM Documents"));
        var chunks = long.Parse(await TextAsync(directory, "SELECT count(*) FROM DocumentChunks"), CultureInfo.InvariantCulture);
        Assert.True(chunks > 64, $"{chunks} passages: more than one embedding batch");
        Assert.Equal(chunks.ToString(CultureInfo.InvariantCulture), await TextAsync(directory, "SELECT ChunkCount FROM Documents"));
        Assert.Equal("1", await TextAsync(directory, "SELECT count(*) FROM Documents"));
        Assert.Equal("1", await TextAsync(directory, "SELECT Version FROM Documents"));
        Assert.Equal(chunks, (long)model.EmbeddingRequests.Skip(requestsBeforeRestart).Sum(r => r.Inputs)); // the restart embedded every passage once
    }

    private static async Task<string> TextAsync(TempDirectory directory, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={directory.File("chatbot.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) ?? "";
    }
}
