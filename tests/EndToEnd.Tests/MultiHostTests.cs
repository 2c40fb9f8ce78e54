using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Npgsql;

namespace ChatBot.EndToEnd.Tests;

/// <summary>
/// Real host processes sharing one PostgreSQL database: turns are neither lost nor doubled, the web and worker roles
/// split the work, a database that is not up yet is waited for, a model that is down is said and not hammered.
/// </summary>
public sealed partial class MultiHostTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TwoHosts_200TurnsAcross50Conversations_EveryTurnAnsweredOnceInOrder()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Default = EchoQuestion;
        await using var slack = await FakeSlack.StartAsync();
        var environment = Environment(database, model, slack);
        await MigrateAsync(environment);
        await using var first = HostProcess.Start(environment);
        await using var second = HostProcess.Start(environment);
        await Task.WhenAll(first.WaitUntilHealthyAsync(StartTimeout), second.WaitUntilHealthyAsync(StartTimeout));
        using var toFirst = new HttpClient { BaseAddress = first.BaseAddress };
        using var toSecond = new HttpClient { BaseAddress = second.BaseAddress };

        // 50 DM threads of 4 questions each; each conversation's questions go to both hosts in turn, all at once across conversations.
        const int conversations = 50, turnsEach = 4;
        await Task.WhenAll(Enumerable.Range(0, conversations).Select(async c =>
        {
            string? root = null;
            for (var k = 0; k < turnsEach; k++)
            {
                var message = FakeSlack.Message($"Question Q{c}x{k} please", channel: $"D{c:000}", user: $"U{c:000}", threadTs: root);
                root ??= (string?)message["ts"];
                using var response = await FakeSlack.SendEventAsync(k % 2 == 0 ? toFirst : toSecond, slack.Envelope(message));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }));

        const int total = conversations * turnsEach;
        await WaitUntilAsync(async () => await ScalarAsync(database, "SELECT count(*) FROM \"Inbox\" WHERE \"Status\" IN ('Done','Failed')") == total, TimeSpan.FromMinutes(3));

        Assert.Equal(total, await ScalarAsync(database, "SELECT count(*) FROM \"Inbox\" WHERE \"Status\" = 'Done'"));
        Assert.Equal(total, await ScalarAsync(database, "SELECT count(*) FROM \"Messages\" WHERE \"Role\" = 'Assistant' AND \"DeliveredAt\" IS NOT NULL"));
        Assert.Equal(total, model.Requests.Count); // no turn generated twice
        Assert.Equal(total, slack.Calls.Count(c => c.Method == "chat.stopStream"));
        Assert.Equal(0, await ScalarAsync(database, "SELECT count(*) FROM \"Inbox\" WHERE \"Error\" IS NOT NULL"));
        // Both hosts ran turns, and between them every turn once (each host's own counter, from its /metrics).
        var ranByFirst = AnsweredTurns(await toFirst.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        var ranBySecond = AnsweredTurns(await toSecond.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        Assert.True(ranByFirst > 0 && ranBySecond > 0, $"first {ranByFirst}, second {ranBySecond}");
        Assert.Equal(total, ranByFirst + ranBySecond);

        // Within each conversation the answers follow the questions in the order they were sent.
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT \"ConversationId\", \"Role\", \"Content\" FROM \"Messages\" ORDER BY \"Id\"", connection);
        var byConversation = new Dictionary<Guid, List<string>>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var list = byConversation.TryGetValue(reader.GetGuid(0), out var l) ? l : byConversation[reader.GetGuid(0)] = [];
                list.Add($"{reader.GetString(1)}:{Marker().Match(reader.GetString(2)).Value}");
            }
        }

        Assert.Equal(conversations, byConversation.Count);
        foreach (var messages in byConversation.Values)
        {
            var c = Marker().Match(messages[0]).Groups["c"].Value;
            var expected = Enumerable.Range(0, turnsEach).SelectMany(k => new[] { $"User:Q{c}x{k}", $"Assistant:Q{c}x{k}" });
            Assert.Equal(expected, messages);
        }

        Assert.Contains("ChatBot is running", first.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ChatBot is running", second.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebAndWorkerRoles_WebServesPeopleAndChannels_WorkerRunsChannelTurnsAndIngestion()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Default = EchoQuestion;
        await using var slack = await FakeSlack.StartAsync();
        using var blobs = new TempDirectory();
        var environment = Environment(database, model, slack);
        environment["Knowledge__BlobPath"] = blobs.Path;
        await MigrateAsync(environment);
        await using var web = HostProcess.Start(environment, "--role", "web");
        await using var worker = HostProcess.Start(environment, "--role", "worker");
        await Task.WhenAll(web.WaitUntilHealthyAsync(StartTimeout), worker.WaitUntilHealthyAsync(StartTimeout));
        using var toWorker = new HttpClient { BaseAddress = worker.BaseAddress };

        // The worker serves health and metrics only.
        Assert.Equal(HttpStatusCode.OK, (await toWorker.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await toWorker.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await toWorker.GetAsync(new Uri("/signin", UriKind.Relative))).StatusCode);
        using (var refused = await FakeSlack.SendEventAsync(toWorker, slack.Envelope(FakeSlack.Message("Question Q9x9"))))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        // A Slack message arrives at the web host and is answered by the worker.
        using var toWeb = new HttpClient { BaseAddress = web.BaseAddress };
        using (var accepted = await FakeSlack.SendEventAsync(toWeb, slack.Envelope(FakeSlack.Message("Question Q1x0 please"))))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var stop = await slack.WaitForCallAsync(c => c.Method == "chat.stopStream", TimeSpan.FromSeconds(60));
        Assert.Contains("Q1x0", string.Concat(slack.Calls.Where(c => c.Method is "chat.startStream" or "chat.appendStream" or "chat.stopStream").Select(c => c["markdown_text"])), StringComparison.Ordinal);
        Assert.NotNull(stop);

        // The web chat streams from the web host, which runs its own browser's turns.
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = web.BaseAddress };
        Assert.Equal(HttpStatusCode.Redirect, await ChatDriver.SignInAsync(browser, "admin", AdminPassword));
        var answer = await SendWebMessageAsync(browser, "Question Q2x0 please");
        Assert.Contains("event: final", answer, StringComparison.Ordinal);
        Assert.Contains("Q2x0", answer, StringComparison.Ordinal);

        // A file uploaded through the web host is indexed by the worker (the web role runs no ingestion).
        using var form = new MultipartFormDataContent();
        using var file = new ByteArrayContent("# Parking\n\nVisitors park on level 2 of the north garage."u8.ToArray());
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/markdown");
        form.Add(file, "file", "parking.md");
        using var uploadRequest = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/documents") { Content = form };
        uploadRequest.Headers.Add("X-ChatBot-Upload", "1");
        using (var upload = await browser.SendAsync(uploadRequest))
        {
            Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        }

        await WaitUntilAsync(async () => await ScalarAsync(database, "SELECT count(*) FROM \"Documents\" WHERE \"Status\" = 'Ready'") == 1, TimeSpan.FromSeconds(60));
        Assert.Contains("do not run here", web.StandardOutput, StringComparison.Ordinal); // the web role's job server is off
        Assert.Equal(2, await ScalarAsync(database, "SELECT count(*) FROM \"Inbox\" WHERE \"Status\" = 'Done'"));
    }

    [Fact]
    public async Task DatabaseNotUpYet_HostRetriesWithOneLinePerAttemptAndStartsWhenItIsUp()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        var real = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new TcpForwarder(real.Host!, real.Port);
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Database__AutoMigrate"] = "true",
            ["ConnectionStrings__ChatBot"] = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Password = "not-shown-anywhere" }.ConnectionString,
            ["Admin__BootstrapPassword"] = AdminPassword,
        };

        await using var host = HostProcess.Start(environment);
        await WaitUntilAsync(() => Task.FromResult(Regex.Count(host.StandardOutput, "Cannot reach the Postgres database") >= 2), TimeSpan.FromSeconds(60));
        proxy.Open();
        await host.WaitUntilHealthyAsync(StartTimeout);

        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        Assert.Equal("Healthy", await client.GetStringAsync(new Uri("/readyz", UriKind.Relative)));
        Assert.DoesNotContain("not-shown-anywhere", host.StandardOutput + host.StandardError, StringComparison.Ordinal);
        Assert.Contains("Trying again in", host.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseNeverUp_HostGivesUpWithOneClearLine()
    {
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Database__StartupTimeoutSeconds"] = "3",
            ["ConnectionStrings__ChatBot"] = $"Host=127.0.0.1;Port={LoopbackPorts.Free()};Username=chatbot;Password=secret-password;Database=chatbot;Timeout=2",
        };

        await using var host = HostProcess.Start(environment);
        var exitCode = await host.WaitForExitAsync(StartTimeout);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(host.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Database error: Cannot reach the Postgres database after ", line, StringComparison.Ordinal);
        Assert.Contains("Database:StartupTimeoutSeconds", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-password", host.StandardOutput + host.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelDown_EveryUserToldEveryTurnRecordedFailed_NoRetryStorm_AndMetricsSayWhy()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Default = _ => FakeReply.Status(503);
        await using var slack = await FakeSlack.StartAsync();
        var environment = Environment(database, model, slack);
        environment["Database__AutoMigrate"] = "true";
        environment["Telemetry__SampleSeconds"] = "1";
        await using var host = HostProcess.Start(environment);
        await host.WaitUntilHealthyAsync(StartTimeout);
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        const int turns = 20;
        for (var i = 0; i < turns; i++)
        {
            using var response = await FakeSlack.SendEventAsync(client, slack.Envelope(FakeSlack.Message($"Question Q{i}x0", channel: $"D{i:000}", user: $"U{i:000}")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await WaitUntilAsync(async () => await ScalarAsync(database, "SELECT count(*) FROM \"UsageRecords\" WHERE \"Outcome\" = 'Failed'") == turns, TimeSpan.FromSeconds(90));

        Assert.Equal(turns, await ScalarAsync(database, "SELECT count(*) FROM \"Inbox\" WHERE \"Status\" = 'Done'"));
        Assert.Equal(0, await ScalarAsync(database, "SELECT count(*) FROM \"Messages\" WHERE \"Role\" = 'Assistant'"));
        // Each turn: the model's own HTTP retries (3 tries), then the turn ends; nothing retries the turn itself.
        Assert.InRange(model.Requests.Count, turns, turns * 3);
        await WaitUntilAsync(() => Task.FromResult(slack.Calls.Count(c => c.Method is "chat.postMessage" or "chat.stopStream" && (c["text"] ?? c["markdown_text"] ?? "").Contains("couldn't reach the language model", StringComparison.Ordinal)) == turns), TimeSpan.FromSeconds(20));

        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Matches(@"chatbot_model_errors_total\{[^}]*kind=""server-error""[^}]*\} 20", metrics);
        Assert.Matches(@"chatbot_turns_total\{[^}]*channel=""slack""[^}]*outcome=""failed""[^}]*\} 20", metrics);
        await WaitUntilAsync(async () => (await client.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Contains("chatbot_inbox_depth{", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
    }

    private const string AdminPassword = "bootstrap-password-for-tests";

    private static Dictionary<string, string> Environment(PostgresTestDatabase database, FakeOpenAiServer model, FakeSlack slack)
    {
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__ChatBot"] = database.ConnectionString,
            ["Admin__BootstrapPassword"] = AdminPassword,
            ["Llm__Provider"] = "OpenAICompatible",
            ["Llm__Endpoint"] = model.Endpoint,
            ["Llm__Models__0__Id"] = "model-a",
            ["Inbox__PollSeconds"] = "0.2",
        };
        foreach (var (key, value) in FakeSlack.HostSettings(slack))
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        }

        return environment;
    }

    private static long AnsweredTurns(string metrics)
    {
        var match = Regex.Match(metrics, @"^chatbot_turns_total\{[^}]*outcome=""answered""[^}]*\} (\d+)", RegexOptions.Multiline);
        return match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static async Task MigrateAsync(Dictionary<string, string> environment)
    {
        await using var migrate = HostProcess.Start(environment, "migrate");
        Assert.Equal(0, await migrate.WaitForExitAsync(StartTimeout));
    }

    /// <summary>The fake model answers with the question's marker (Q{conversation}x{turn}), so order can be checked.</summary>
    private static FakeReply EchoQuestion(FakeRequest request)
    {
        var question = request.Messages.Last(m => m.Role == "user").Content;
        var marker = Marker().Matches(question).LastOrDefault()?.Value ?? "none";
        return FakeReply.Text($"Answer to {marker}.");
    }

    private static async Task<string> SendWebMessageAsync(HttpClient browser, string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/conversations/{Guid.NewGuid()}/messages")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { clientMessageId = Guid.NewGuid(), text }),
        };
        using var response = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<long> ScalarAsync(PostgresTestDatabase database, string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout}.");
            }

            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"Q(?<c>\d+)x(?<k>\d+)")]
    private static partial Regex Marker();

    /// <summary>A TCP port that refuses connections until <see cref="Open"/>, then forwards to the real database.</summary>
    private sealed class TcpForwarder : IAsyncDisposable
    {
        private readonly string _host;
        private readonly int _port;
        private readonly CancellationTokenSource _stop = new();
        private System.Net.Sockets.TcpListener? _listener;

        public TcpForwarder(string host, int port)
        {
            _host = host;
            _port = port;
            Port = LoopbackPorts.Free();
        }

        public int Port { get; }

        public void Open()
        {
            _listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, Port);
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                System.Net.Sockets.TcpClient inbound;
                try
                {
                    inbound = await _listener!.AcceptTcpClientAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (inbound)
                    using (var outbound = new System.Net.Sockets.TcpClient())
                    {
                        await outbound.ConnectAsync(_host, _port);
                        var a = inbound.GetStream();
                        var b = outbound.GetStream();
                        await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
                    }
                });
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener?.Stop();
            _stop.Dispose();
        }
    }
}
