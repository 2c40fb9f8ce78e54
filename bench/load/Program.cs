using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ChatBot.Bench;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.Data.Sqlite;

// Usage: dotnet run -c Release --project bench/load [-- --conversations 1,50,500 --turns 3 --channels slack,teams
//        --first-token-ms 300 --token-ms 20 --warm-up 500 --think-ms 0 --targets chatbot,bolt,botbuilder --database sqlite|postgres
//        --write bench/RESULTS.md]
// For each channel and load, runs ChatBot and that channel's peer (Slack: a Bolt app; Teams: a botbuilder bot, both
// from bench/peers, installed with npm ci) as real processes against the same fake model and fake channel, plays the
// channel (signed Slack event callbacks; Teams activities with JWTs from the fake's OpenID keys), and prints per target
// webhook acknowledgement p50/p99, reply p50/p99 (sent → final reply recorded by the fake channel), turns/s, the
// target's peak memory and its CPU time per turn; then one table with ChatBot / peer ratios. Profiling aids:
// CHATBOT_BENCH_HOST_<NAME>=value sets <NAME> in ChatBot's process only; CHATBOT_BENCH_PRINT_OUTPUT=1 prints its
// output and the channel calls per method.
var scenarios = BenchMachine.Arg("--conversations", "1,50,500").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var channels = BenchMachine.Arg("--channels", "slack,teams").Split(',');
var turnsPerConversation = int.Parse(BenchMachine.Arg("--turns", "3"), CultureInfo.InvariantCulture);
var firstTokenDelay = TimeSpan.FromMilliseconds(double.Parse(BenchMachine.Arg("--first-token-ms", "300"), CultureInfo.InvariantCulture));
var tokenDelay = TimeSpan.FromMilliseconds(double.Parse(BenchMachine.Arg("--token-ms", "20"), CultureInfo.InvariantCulture));
var write = BenchMachine.Arg("--write", "");
var warmUp = int.Parse(BenchMachine.Arg("--warm-up", "500"), CultureInfo.InvariantCulture);
var database = BenchMachine.Arg("--database", "sqlite"); // postgres: a fresh database per run on CHATBOT_TEST_POSTGRES's server
var thinkTime = TimeSpan.FromMilliseconds(double.Parse(BenchMachine.Arg("--think-ms", "0"), CultureInfo.InvariantCulture));
var only = BenchMachine.Arg("--targets", "").Split(',', StringSplitOptions.RemoveEmptyEntries); // e.g. chatbot: profile one target
const string Answer = "The VPN client is in the Software Center. Sign in with your work account and pick the nearest gateway. It reconnects by itself after sleep.";

var machine = CaptureMachine(database);
Console.WriteLine(machine);
var settings = string.Create(CultureInfo.InvariantCulture,
    $"model: first token after {firstTokenDelay.TotalMilliseconds} ms, then {Answer.Length / 6 + 1} pieces every {tokenDelay.TotalMilliseconds} ms; {turnsPerConversation} turns per conversation, sequential within a conversation, all conversations at once");
Console.WriteLine(settings);

var results = new List<LoadResult>();
foreach (var channel in channels)
{
    var peer = channel == "slack" ? "bolt" : "botbuilder";
    foreach (var conversations in scenarios)
    {
        foreach (var target in new[] { "chatbot", peer }.Where(t => only.Length == 0 || only.Contains(t)))
        {
            var result = await LoadRun.RunAsync(target, channel, conversations, turnsPerConversation, warmUp, thinkTime, database, FakeReply.Text(Answer, firstTokenDelay, tokenDelay, pieceLength: 6, promptTokens: 900, completionTokens: 30));
            results.Add(result);
            Console.WriteLine(result.Line());
        }
    }
}

var table = LoadRun.Table(results);
Console.WriteLine();
Console.WriteLine(table);
if (write.Length > 0)
{
    var text = new StringBuilder()
        .AppendLine("# ChatBot against the official SDKs")
        .AppendLine()
        .AppendLine(CultureInfo.InvariantCulture, $"Run on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with `bench/run-peers.sh` (one run, one machine, targets in turn).")
        .AppendLine()
        .AppendLine("- " + machine)
        .AppendLine("- " + settings)
        .AppendLine("- Slack: ChatBot vs a Slack Bolt app (`@slack/bolt`, HTTP receiver, streams with the Web API's chat streamer). Teams: ChatBot vs a `botbuilder` bot (CloudAdapter, JWT validation from the fake's OpenID metadata, typing then the answer). Both peers are in `bench/peers`, installed from npm when the benchmark runs.")
        .AppendLine(CultureInfo.InvariantCulture, $"- Each target first plays the same scenario unmeasured on conversations of its own (up to {warmUp} of them, never more than the scenario has), again on new ones, in windows of at least 10 s, until the target is steady — its CPU time per turn within 10 % of the previous window's, after at least 1,500 turns and 30 s, at most 150 s: JIT done, connection pools and caches warm, as in a running service. Then the measured run.")
        .AppendLine("- ack = the webhook's HTTP response time; \"after the first wave\" leaves out each conversation's first message, which all conversations send in the same instant (a burst of N requests at once); reply = from sending the event to the channel receiving the final reply; peak RSS = the target process's VmHWM (warm-up included); CPU per turn = the target process's user + system CPU time during the measured run / turns (all its threads: what the turn costs, whatever the concurrency).")
        .AppendLine("- Work per turn differs: a peer verifies, asks the model and replies. ChatBot also stores the turn before acknowledging, resolves the person, checks quotas, keeps and reads the history, searches the knowledge base, records usage and audit (SQLite, one file), and streams in Teams too. botbuilder's CloudAdapter answers the webhook only when the turn is over, so its ack is the whole turn.")
        .AppendLine("- The load generator, the fake model and the fake channel run on the same 2 cores as the target; run-to-run spread on this VM is about ±25%.")
        .AppendLine()
        .AppendLine(table)
        .AppendLine("CPU time of the load generator with its fakes (one process) per measured turn, by run: " + string.Join("; ", results.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Channel} {r.Conversations} {r.Target} {r.GeneratorCpuMsPerTurn:F1} ms"))) + ".");
    await File.WriteAllTextAsync(write, text.ToString());
    Console.WriteLine($"wrote {write}");
}

static string CaptureMachine(string database)
{
    var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
    var memory = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    var node = RunQuietly("node", "--version");
    return $"machine: {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; {cpu}; {Environment.ProcessorCount} cores; {memory / 1024 / 1024} GiB; .NET {Environment.Version}; node {node}; ChatBot on {(database == "postgres" ? "PostgreSQL (same machine)" : "SQLite (embedded default)")}";
}

static string RunQuietly(string file, string argument)
{
    using var process = Process.Start(new ProcessStartInfo(file, argument) { RedirectStandardOutput = true, UseShellExecute = false })!;
    var output = process.StandardOutput.ReadToEnd().Trim();
    process.WaitForExit();
    return output;
}

/// <summary>What one target did under one load.</summary>
internal sealed record LoadResult(
    string Target,
    string Channel,
    int Conversations,
    int Turns,
    int Failed,
    double TurnsPerSecond,
    double AckP50,
    double AckP99,
    double LaterAckP99,
    double ReplyP50,
    double ReplyP99,
    double PeakRssMb,
    double CpuMsPerTurn,
    double GeneratorCpuMsPerTurn)
{
    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"load target={Target} channel={Channel} conversations={Conversations} turns={Turns} failed={Failed} turns_per_s={TurnsPerSecond:F1} ack_p50_ms={AckP50:F1} ack_p99_ms={AckP99:F1} later_ack_p99_ms={LaterAckP99:F1} reply_p50_ms={ReplyP50:F0} reply_p99_ms={ReplyP99:F0} peak_rss_mb={PeakRssMb:F0} cpu_ms_per_turn={CpuMsPerTurn:F1} generator_cpu_ms_per_turn={GeneratorCpuMsPerTurn:F1}");
}

/// <summary>One target process under one load, against fresh fakes.</summary>
internal static class LoadRun
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan WarmUpWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan WarmUpMinimum = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(150);
    private const int WarmUpTurns = 1_500;
    private const double SteadyCpuChange = 0.10;


    public static async Task<LoadResult> RunAsync(string target, string channel, int conversations, int turnsPerConversation, int warmUp, TimeSpan thinkTime, string database, FakeReply reply)
    {
        await using var model = await FakeOpenAiServer.StartAsync();
        model.Default = _ => reply;
        await using var slack = await FakeSlack.StartAsync();
        await using var teams = await FakeTeamsChannel.StartAsync();
        using var directory = new TempDirectory();
        await using var postgres = target == "chatbot" && database == "postgres" ? await PostgresTestDatabase.CreateAsync() : null;
        await using var process = target == "chatbot"
            ? await TargetProcess.StartChatBotAsync(directory, postgres, model, slack, teams)
            : await TargetProcess.StartPeerAsync(target, model, slack, teams);

        // Replies are matched to the conversation waiting for them as the fake channel records them.
        var waiting = new ConcurrentDictionary<string, TaskCompletionSource<long>>(StringComparer.Ordinal);
        slack.CallRecorded += call =>
        {
            if (call.Method == "chat.stopStream" && call["channel"] is { } id && waiting.TryRemove(id, out var done))
            {
                done.TrySetResult(Stopwatch.GetTimestamp());
            }
        };
        teams.CallRecorded += call =>
        {
            var final = call.Type == "message" && (call.StreamInfo is null || (string?)call.StreamInfo["streamType"] == "final");
            if (final && ConversationOf(call.Path) is { } id && waiting.TryRemove(id, out var done))
            {
                done.TrySetResult(Stopwatch.GetTimestamp());
            }
        };

        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10), MaxConnectionsPerServer = 1024 })
        {
            BaseAddress = process.BaseAddress,
            Timeout = TimeSpan.FromMinutes(5),
        };
        var teamsToken = teams.Token();
        var slackPath = target == "bolt" ? "/slack/events" : "/api/slack/events";

        var acks = new ConcurrentBag<double>();
        var laterAcks = new ConcurrentBag<double>(); // every turn but each conversation's first: past the opening wave
        var replies = new ConcurrentBag<double>();
        var failed = 0;

        // Warm-up (JIT, pools, keys), not measured: the same shape on conversations of their own, never more of them at
        // once than the scenario has, so the peak memory stays the scenario's. Played again on new conversations, in
        // windows of at least 10 s, until the target is in its steady state: its CPU time per turn in the last window
        // within 10 % of the window before (a runtime still compiling its hot paths spends far more per turn), after at
        // least 1,500 turns and 30 s, at most 150 s.
        var warmUpConversations = Math.Max(1, Math.Min(conversations, warmUp));
        var warmUpClock = Stopwatch.StartNew();
        var warmUpRounds = 0;
        var warmUpTurns = 0;
        double? previousCpu = null;
        while (true)
        {
            var windowCpu = BenchMachine.CpuSeconds(process.ProcessId);
            var windowClock = Stopwatch.StartNew();
            var windowTurns = 0;
            do
            {
                var round = warmUpRounds++;
                await Task.WhenAll(Enumerable.Range(0, warmUpConversations).Select(c => PlayAsync(100_000 + round * 1_000 + c, turnsPerConversation)));
                windowTurns += warmUpConversations * turnsPerConversation;
            }
            while (windowClock.Elapsed < WarmUpWindow);

            warmUpTurns += windowTurns;
            var cpuPerTurn = (BenchMachine.CpuSeconds(process.ProcessId) - windowCpu) / windowTurns;
            var steady = previousCpu is { } before && Math.Abs(cpuPerTurn - before) <= SteadyCpuChange * before;
            previousCpu = cpuPerTurn;
            if (warmUpClock.Elapsed >= WarmUpLimit || (steady && warmUpTurns >= WarmUpTurns && warmUpClock.Elapsed >= WarmUpMinimum))
            {
                break;
            }
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warm-up {target} {channel} {conversations}: {warmUpTurns} turns in {warmUpClock.Elapsed.TotalSeconds:F0} s, last window {previousCpu * 1000:F1} ms CPU per turn"));

        if (failed > 0)
        {
            throw new InvalidOperationException($"{target} failed {failed} warm-up turns: {process.Output}");
        }
        var cpuBefore = BenchMachine.CpuSeconds(process.ProcessId);
        var generatorCpuBefore = BenchMachine.CpuSeconds(Environment.ProcessId);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, conversations).Select(c => PlayAsync(c, turnsPerConversation, acks, replies)));
        clock.Stop();
        var cpu = BenchMachine.CpuSeconds(process.ProcessId) - cpuBefore;
        var generatorCpu = BenchMachine.CpuSeconds(Environment.ProcessId) - generatorCpuBefore;
        var peak = BenchMachine.PeakRssMb(process.ProcessId);
        if (Environment.GetEnvironmentVariable("CHATBOT_BENCH_PRINT_OUTPUT") == "1")
        {
            Console.WriteLine(process.Output);
            Console.WriteLine(string.Join(", ", slack.Calls.GroupBy(c => c.Method).Select(g => $"{g.Key}={g.Count()}")));
            Console.WriteLine(string.Join(", ", teams.Calls.GroupBy(c => c.Type + (c.StreamInfo is null ? "" : ":" + (string?)c.StreamInfo["streamType"])).Select(g => $"{g.Key}={g.Count()}")));
        }

        var turns = conversations * turnsPerConversation;
        return new LoadResult(target, channel, conversations, turns, failed, (turns - failed) / clock.Elapsed.TotalSeconds,
            BenchMachine.Percentile(acks, 50), BenchMachine.Percentile(acks, 99), BenchMachine.Percentile(laterAcks, 99), BenchMachine.Percentile(replies, 50), BenchMachine.Percentile(replies, 99), peak, cpu * 1000 / Math.Max(1, turns - failed),
            generatorCpu * 1000 / Math.Max(1, turns - failed));

        // One conversation: its turns one after the other, each waiting for its final reply.
        async Task PlayAsync(int c, int turns, ConcurrentBag<double>? ackTimes = null, ConcurrentBag<double>? replyTimes = null)
        {
            string? root = null;
            for (var k = 0; k < turns; k++)
            {
                var text = $"Question {k} of conversation {c}: how do I set up the VPN?";
                string key;
                HttpRequestMessage request;
                if (channel == "slack")
                {
                    var message = FakeSlack.Message(text, channel: $"D{c:000000}", user: $"U{c:000000}", threadTs: root);
                    root ??= (string?)message["ts"];
                    key = $"D{c:000000}";
                    var body = slack.Envelope(message).ToJsonString();
                    var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                    request = new HttpRequestMessage(HttpMethod.Post, slackPath) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
                    request.Headers.Add("X-Slack-Signature", ChatBot.Adapters.Slack.SlackSignature.Compute(FakeSlack.SigningSecret, timestamp, Encoding.UTF8.GetBytes(body)));
                }
                else
                {
                    var activity = teams.Message(text, userId: $"29:user-{c}", aadObjectId: $"aad-{c}", userName: $"Person {c}");
                    key = (string)activity["conversation"]!["id"]!;
                    request = new HttpRequestMessage(HttpMethod.Post, "/api/messages") { Content = new StringContent(activity.ToJsonString(), Encoding.UTF8, "application/json") };
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + teamsToken);
                }

                var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                waiting[key] = done;
                var sent = Stopwatch.GetTimestamp();
                using (request)
                using (var response = await client.SendAsync(request))
                {
                    var ack = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    ackTimes?.Add(ack);
                    if (ackTimes is not null && k > 0)
                    {
                        laterAcks.Add(ack);
                    }
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failed);
                        waiting.TryRemove(key, out _);
                        continue;
                    }
                }

                var finished = await Task.WhenAny(done.Task, Task.Delay(ReplyTimeout));
                if (finished != done.Task)
                {
                    Interlocked.Increment(ref failed);
                    waiting.TryRemove(key, out _);
                    continue;
                }

                replyTimes?.Add(Stopwatch.GetElapsedTime(sent, await done.Task).TotalMilliseconds);
                if (thinkTime > TimeSpan.Zero)
                {
                    await Task.Delay(thinkTime); // --think-ms: a person reads the answer before writing again
                }
            }
        }
    }

    /// <summary>The conversation id in a connector path (/v3/conversations/{id}/activities[/{replyTo}]).</summary>
    private static string? ConversationOf(string path)
    {
        var parts = path.Split('/');
        var index = Array.IndexOf(parts, "conversations");
        return index >= 0 && index + 1 < parts.Length ? Uri.UnescapeDataString(parts[index + 1]) : null;
    }

    /// <summary>One row per channel and load: each measure for ChatBot, the peer, and ChatBot / peer.</summary>
    public static string Table(IReadOnlyList<LoadResult> results)
    {
        var text = new StringBuilder()
            .AppendLine("| channel | conversations | target | turns/s | ack p50 / p99 ms | ack p99 after the first wave ms | reply p50 / p99 ms | peak RSS MB | CPU ms per turn | failed |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var group in results.GroupBy(r => (r.Channel, r.Conversations)))
        {
            foreach (var r in group)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Channel} | {r.Conversations} | {r.Target} | {r.TurnsPerSecond:F1} | {r.AckP50:F1} / {r.AckP99:F1} | {r.LaterAckP99:F1} | {r.ReplyP50:F0} / {r.ReplyP99:F0} | {r.PeakRssMb:F0} | {r.CpuMsPerTurn:F1} | {r.Failed} |");
            }

            if (group.SingleOrDefault(r => r.Target == "chatbot") is not { } ours || group.SingleOrDefault(r => r.Target != "chatbot") is not { } peer)
            {
                continue;
            }

            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {ours.Channel} | {ours.Conversations} | **ChatBot / {peer.Target}** | **{ours.TurnsPerSecond / peer.TurnsPerSecond:F2}×** | {ours.AckP50 / peer.AckP50:F2}× / {ours.AckP99 / peer.AckP99:F2}× | {ours.LaterAckP99 / peer.LaterAckP99:F2}× | {ours.ReplyP50 / peer.ReplyP50:F2}× / {ours.ReplyP99 / peer.ReplyP99:F2}× | {ours.PeakRssMb / peer.PeakRssMb:F2}× | {ours.CpuMsPerTurn / peer.CpuMsPerTurn:F2}× | |");
        }

        return text.ToString();
    }
}

/// <summary>A target under load: ChatBot's host process or a node peer, killed on dispose.</summary>
internal sealed class TargetProcess : IAsyncDisposable
{
    private readonly HostProcess? _host;
    private readonly Process? _node;
    private readonly StringBuilder _output = new();

    private TargetProcess(HostProcess? host, Process? node, Uri baseAddress)
    {
        _host = host;
        _node = node;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _host?.ProcessId ?? _node!.Id;

    public static async Task<TargetProcess> StartChatBotAsync(TempDirectory directory, PostgresTestDatabase? postgres, FakeOpenAiServer model, FakeSlack slack, FakeTeamsChannel teams)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__ChatBot"] = postgres?.ConnectionString ?? $"Data Source={directory.File("bench.db")}",
            ["Database__Provider"] = postgres is null ? "Sqlite" : "Postgres",
            ["Knowledge__BlobPath"] = directory.File("blobs"),
            ["Llm__Provider"] = "OpenAICompatible",
            ["Llm__Endpoint"] = model.Endpoint,
            ["Llm__ApiKey"] = "bench-key",
            ["Llm__Models__0__Id"] = "bench-model",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Limits__FailedVerificationsPerMinute"] = "100000",
        };

        // CHATBOT_BENCH_HOST_<NAME>=value sets <NAME> for ChatBot's process only (runtime knobs while profiling).
        foreach (var entry in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>())
        {
            if (entry.Key is string name && name.StartsWith("CHATBOT_BENCH_HOST_", StringComparison.Ordinal))
            {
                environment[name["CHATBOT_BENCH_HOST_".Length..]] = (string)entry.Value!;
            }
        }
        foreach (var (key, value) in FakeSlack.HostSettings(slack).Concat(FakeTeamsChannel.HostSettings(teams)))
        {
            if (key != "Slack:StreamIntervalSeconds") // ChatBot's own default pacing, as deployed
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
            }
        }

        await using (var migrate = HostProcess.Start(environment, "migrate"))
        {
            await migrate.WaitForExitAsync(TimeSpan.FromMinutes(2));
        }

        // The load comes from many people, each within the default quotas' spirit; lift the per-role caps so they never bind.
        await using (System.Data.Common.DbConnection connection = postgres is null
            ? new SqliteConnection($"Data Source={directory.File("bench.db")};Pooling=False")
            : new Npgsql.NpgsqlConnection(postgres.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE \"RoleQuotas\" SET \"MessagesPerMinute\" = NULL, \"DailyTokens\" = NULL, \"MonthlyTokens\" = NULL";
            await command.ExecuteNonQueryAsync();
        }

        var host = HostProcess.Start(environment);
        await host.WaitUntilHealthyAsync(TimeSpan.FromMinutes(1));
        return new TargetProcess(host, null, host.BaseAddress);
    }

    public static async Task<TargetProcess> StartPeerAsync(string peer, FakeOpenAiServer model, FakeSlack slack, FakeTeamsChannel teams)
    {
        var folder = Path.Combine(RepositoryPaths.Root, "bench", "peers");
        if (!Directory.Exists(Path.Combine(folder, "node_modules")))
        {
            throw new InvalidOperationException("bench/peers has no node_modules: run bench/run-peers.sh (it runs npm ci there).");
        }

        var port = LoopbackPorts.Free();
        var info = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(peer == "bolt" ? "bolt-app.mjs" : "botbuilder-app.mjs");
        info.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        info.Environment["MODEL_URL"] = model.Endpoint;
        info.Environment["NODE_ENV"] = "production";
        info.Environment["SLACK_SIGNING_SECRET"] = FakeSlack.SigningSecret;
        info.Environment["SLACK_BOT_TOKEN"] = FakeSlack.BotToken;
        info.Environment["SLACK_API_URL"] = slack.ApiBaseUrl;
        info.Environment["APP_ID"] = FakeTeamsChannel.AppId;
        info.Environment["APP_PASSWORD"] = FakeTeamsChannel.AppPassword;
        info.Environment["BOT_OPENID_METADATA"] = teams.MetadataUrl;
        info.Environment["TOKEN_ENDPOINT"] = teams.TokenEndpoint;
        var node = Process.Start(info)!;
        var target = new TargetProcess(null, node, new Uri($"http://127.0.0.1:{port}/"));
        node.OutputDataReceived += (_, e) => target.Append(e.Data);
        node.ErrorDataReceived += (_, e) => target.Append(e.Data);
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (node.HasExited)
            {
                throw new InvalidOperationException($"The {peer} peer exited: {target.Output}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return target;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"The {peer} peer did not listen: {target.Output}");
    }

    public string Output
    {
        get
        {
            if (_host is not null)
            {
                return _host.StandardOutput + _host.StandardError;
            }

            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 20_000)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_node is not null)
        {
            if (!_node.HasExited)
            {
                _node.Kill(entireProcessTree: true);
                await _node.WaitForExitAsync();
            }

            _node.Dispose();
        }
    }
}
