using System.Net;
using System.Net.Http.Json;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.Data.Sqlite;

namespace ChatBot.EndToEnd.Tests;

/// <summary>The durable inbox across a real crash: kill -9 the host mid-answer, start it again, the turn completes once.</summary>
public sealed class TurnRecoveryTests
{
    private const string AdminPassword = "bootstrap-password-for-tests";

    [Fact]
    public async Task Host_KilledMidTurn_CompletesTheTurnExactlyOnceAfterRestart()
    {
        using var directory = new TempDirectory();
        await using var model = await FakeOpenAiServer.StartAsync();
        // The first answer streams slowly (the host dies during it); whatever comes after is quick.
        model.Script("model-a", FakeReply.Text(string.Concat(Enumerable.Repeat("slow words ", 200)), tokenDelay: TimeSpan.FromMilliseconds(100)));
        model.Default = _ => FakeReply.Text("The recovered answer.");
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__ChatBot"] = $"Data Source={directory.File("chatbot.db")}",
            ["Admin__BootstrapPassword"] = AdminPassword,
            ["Llm__Provider"] = "OpenAICompatible",
            ["Llm__Endpoint"] = model.Endpoint,
            ["Llm__Models__0__Id"] = "model-a",
            ["Inbox__LeaseSeconds"] = "2",
            ["Inbox__PollSeconds"] = "0.2",
        };

        var conversation = Guid.NewGuid();
        await using (var first = HostProcess.Start(environment))
        {
            await first.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
            using var client = SignedInClient(first);
            await SignInAsync(client);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/conversations/{conversation}/messages")
            {
                Content = JsonContent.Create(new { clientMessageId = Guid.NewGuid(), text = "Tell me a long story." }),
            };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync() is { } line && line != "event: delta")
            {
                // Read until the first words of the answer arrive, then pull the plug.
            }

            first.Kill();
        }

        Assert.Equal(1, await ScalarAsync(directory, "SELECT count(*) FROM Inbox WHERE Status = 'Processing'"));

        await using var second = HostProcess.Start(environment);
        await second.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ScalarAsync(directory, "SELECT count(*) FROM Inbox WHERE Status = 'Done'") == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(1, await ScalarAsync(directory, "SELECT count(*) FROM Inbox WHERE Status = 'Done'"));
        Assert.Equal(2, await ScalarAsync(directory, "SELECT Attempts FROM Inbox"));
        Assert.Equal(1, await ScalarAsync(directory, "SELECT count(*) FROM Messages WHERE Role = 'User'"));
        Assert.Equal(1, await ScalarAsync(directory, "SELECT count(*) FROM Messages WHERE Role = 'Assistant'"));
        Assert.Equal(1, await ScalarAsync(directory, "SELECT count(*) FROM Messages WHERE Role = 'Assistant' AND Content = 'The recovered answer.' AND DeliveredAt IS NOT NULL"));
        Assert.Equal(1, await ScalarAsync(directory, "SELECT count(*) FROM UsageRecords WHERE Outcome = 'Answered'"));
        Assert.Equal(2, model.Requests.Count);
    }

    private static HttpClient SignedInClient(HostProcess host) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };

    private static async Task SignInAsync(HttpClient client)
    {
        var status = await ChatDriver.SignInAsync(client, "admin", AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, status);
    }

    private static async Task<long> ScalarAsync(TempDirectory directory, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={directory.File("chatbot.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
