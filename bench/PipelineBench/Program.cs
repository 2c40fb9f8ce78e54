using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using ChatBot.Bench;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.Data.Sqlite;

// Usage: dotnet run -c Release --project bench/PipelineBench [-- --conversations 1,50,500 --turns 4 --postgres "<admin connection string>"]
// Prints the machine, then one line per scenario:
// pipeline conversations=<n> turns_per_s=<x> overhead_p50_ms=<a> overhead_p99_ms=<b> e2e_p99_ms=<c> peak_rss_mb=<d>
// overhead = (first words at the client − request sent) − the model's own first-token delay.

var scenarios = BenchMachine.Arg("--conversations", "1,50,500").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var turnsPerConversation = int.Parse(BenchMachine.Arg("--turns", "4"), CultureInfo.InvariantCulture);
var firstTokenDelay = TimeSpan.FromMilliseconds(double.Parse(BenchMachine.Arg("--first-token-ms", "300"), CultureInfo.InvariantCulture));
var tokenDelay = TimeSpan.FromMilliseconds(double.Parse(BenchMachine.Arg("--token-ms", "20"), CultureInfo.InvariantCulture));
var postgres = BenchMachine.Arg("--postgres", ""); // an admin connection string: each scenario gets a fresh database on that server
const string AdminPassword = "bench-admin-password";
const string Answer = "The VPN client is in the Software Center. Sign in with your work account and pick the nearest gateway. It reconnects by itself after sleep.";

BenchMachine.Print(postgres.Length > 0 ? "PostgreSQL" : "SQLite (embedded default)");
if (postgres.Length > 0)
{
    Environment.SetEnvironmentVariable(PostgresTestDatabase.EnvironmentVariable, postgres);
}

Console.WriteLine($"model: first token after {firstTokenDelay.TotalMilliseconds} ms, then a piece every {tokenDelay.TotalMilliseconds} ms ({Answer.Length / 6 + 1} pieces); {turnsPerConversation} turns per conversation, sequential within a conversation");

await using var model = await FakeOpenAiServer.StartAsync();
model.Default = _ => FakeReply.Text(Answer, firstTokenDelay, tokenDelay, pieceLength: 6, promptTokens: 900, completionTokens: 30);

foreach (var conversations in scenarios)
{
    using var directory = new TempDirectory();
    await using var database = postgres.Length > 0 ? await PostgresTestDatabase.CreateAsync() : null;
    var environment = new Dictionary<string, string>
    {
        ["ConnectionStrings__ChatBot"] = database?.ConnectionString ?? $"Data Source={directory.File("bench.db")}",
        ["Database__Provider"] = database is null ? "Sqlite" : "Postgres",
        ["Admin__BootstrapPassword"] = AdminPassword,
        ["Llm__Provider"] = "OpenAICompatible",
        ["Llm__Endpoint"] = model.Endpoint,
        ["Llm__Models__0__Id"] = "bench-model",
        ["Llm__Models__0__InputPricePerMillion"] = "0.15",
        ["Llm__Models__0__OutputPricePerMillion"] = "0.6",
        ["WebChat__SelfRegistrationDomains__0"] = "bench.example",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__ChatBot"] = "Warning",
    };

    // Migrate, lift the admin's rate limit (the load comes from one account), then serve.
    await using (var migrate = HostProcess.Start(environment, "migrate"))
    {
        await migrate.WaitForExitAsync(TimeSpan.FromMinutes(2));
    }

    const string LiftLimits = "UPDATE \"RoleQuotas\" SET \"MessagesPerMinute\" = NULL, \"DailyTokens\" = NULL, \"MonthlyTokens\" = NULL";
    if (database is null)
    {
        await using var connection = new SqliteConnection($"Data Source={directory.File("bench.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = LiftLimits;
        await command.ExecuteNonQueryAsync();
    }
    else
    {
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(LiftLimits, connection);
        await command.ExecuteNonQueryAsync();
    }

    await using var host = HostProcess.Start(environment);
    await host.WaitUntilHealthyAsync(TimeSpan.FromMinutes(1));

    // One person per conversation, as in a company: each registers and chats with its own cookie.
    var clients = new HttpClient[conversations];
    using (var registrations = new SemaphoreSlim(8))
    {
        await Task.WhenAll(Enumerable.Range(0, conversations).Select(async c =>
        {
            await registrations.WaitAsync();
            try
            {
                clients[c] = await RegisterAsync(host.BaseAddress, $"person{c}@bench.example");
            }
            finally
            {
                registrations.Release();
            }
        }));
    }

    // Warm-up: JIT tiering, pools and the tokenizer settle before anything is measured (steady state).
    await Task.WhenAll(Enumerable.Range(0, Math.Min(conversations, 20)).Select(async c =>
    {
        for (var i = 0; i < 5; i++)
        {
            await RunTurnAsync(clients[c], Guid.NewGuid(), "warm-up");
        }
    }));

    var overheads = new List<double>();
    var endToEnd = new List<double>();
    var acceptedMs = new List<double>();
    var statusMs = new List<double>();
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, conversations).Select(async c =>
    {
        var conversation = Guid.NewGuid();
        for (var t = 0; t < turnsPerConversation; t++)
        {
            var (firstWords, final, accepted, status) = await RunTurnAsync(clients[c], conversation, $"Question {t} of conversation {c}: how do I set up the VPN?");
            lock (overheads)
            {
                overheads.Add(firstWords.TotalMilliseconds - firstTokenDelay.TotalMilliseconds);
                endToEnd.Add(final.TotalMilliseconds);
                acceptedMs.Add(accepted.TotalMilliseconds);
                statusMs.Add(status.TotalMilliseconds);
            }
        }
    }));
    clock.Stop();

    var turns = conversations * turnsPerConversation;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"pipeline conversations={conversations} turns_per_s={turns / clock.Elapsed.TotalSeconds:F1} overhead_p50_ms={Percentile(overheads, 50):F1} overhead_p99_ms={Percentile(overheads, 99):F1} e2e_p99_ms={Percentile(endToEnd, 99):F1} peak_rss_mb={PeakRssMb(host):F0}"));
    foreach (var client in clients)
    {
        client.Dispose();
    }

    if (Environment.GetEnvironmentVariable("BENCH_HOST_LOG") == "1")
    {
        Console.WriteLine(host.StandardOutput.Length > 4000 ? host.StandardOutput[^4000..] : host.StandardOutput);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  breakdown: accepted_p50_ms={Percentile(acceptedMs, 50):F1} accepted_p99_ms={Percentile(acceptedMs, 99):F1} searching_p50_ms={Percentile(statusMs, 50):F1} searching_p99_ms={Percentile(statusMs, 99):F1}"));
}

static async Task<HttpClient> RegisterAsync(Uri baseAddress, string email)
{
    var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
    var client = new HttpClient(handler, disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
    var form = await client.GetStringAsync(new Uri("/register", UriKind.Relative));
    var token = System.Text.RegularExpressions.Regex.Match(form, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
    using var content = new FormUrlEncodedContent(new Dictionary<string, string>
    {
        ["Email"] = email, ["DisplayName"] = email, ["Password"] = "bench-password-123", ["__RequestVerificationToken"] = token,
    });
    using var response = await client.PostAsync(new Uri("/register", UriKind.Relative), content);
    if (response.StatusCode != HttpStatusCode.Redirect)
    {
        throw new InvalidOperationException($"Could not register {email}: {response.StatusCode}");
    }

    return client;
}

static async Task<(TimeSpan FirstWords, TimeSpan Final, TimeSpan Accepted, TimeSpan Status)> RunTurnAsync(HttpClient client, Guid conversation, string text)
{
    var started = Stopwatch.StartNew();
    using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/conversations/{conversation}/messages")
    {
        Content = JsonContent.Create(new { clientMessageId = Guid.NewGuid(), text }),
    };
    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    await using var stream = await response.Content.ReadAsStreamAsync();
    using var reader = new StreamReader(stream);
    TimeSpan? firstWords = null;
    TimeSpan accepted = default, status = default;
    while (await reader.ReadLineAsync() is { } line)
    {
        if (line == "event: accepted")
        {
            accepted = started.Elapsed;
        }
        else if (line == "event: status")
        {
            status = started.Elapsed;
        }
        else if (firstWords is null && line == "event: delta")
        {
            firstWords = started.Elapsed;
        }
        else if (line is "event: final" or "event: error")
        {
            if (line == "event: error")
            {
                throw new InvalidOperationException("A turn failed: " + await reader.ReadLineAsync());
            }

            break;
        }
    }

    return (firstWords ?? throw new InvalidOperationException("No words arrived."), started.Elapsed, accepted, status);
}

static double Percentile(List<double> values, double percentile) => BenchMachine.Percentile(values, percentile);

static double PeakRssMb(HostProcess host) => BenchMachine.PeakRssMb(host.ProcessId);
