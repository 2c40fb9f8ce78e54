using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace ChatBot.BotHost.Tests.Operations;

/// <summary>Traces, metrics and logs of real turns: what an operator sees, and what they must never see.</summary>
public sealed partial class TelemetryTests : IAsyncLifetime
{
    private const string Question = "What does the zebra-quartz plan say? Mail me at ada.lovelace@example.com";

    private readonly List<Activity> _spans = [];
    private readonly CapturingLogs _logs = new();
    private FakeSlack _slack = null!;
    private FakeOpenAiServer _model = null!;
    private ChatBotAppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _slack = await FakeSlack.StartAsync();
        _model = await FakeOpenAiServer.StartAsync();
        _model.Default = _ => FakeReply.Text("The zebra-quartz plan answer [1].");
        _app = new ChatBotAppFactory()
            .WithModels(_model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m))
            .With("Inbox:PollSeconds", "0.2")
            .With("Telemetry:SampleSeconds", "1")
            .With("Telemetry:Traces", "true") // recorded without an OTLP endpoint: the in-memory exporter below reads them
            .With("Admin:BootstrapPassword", "bootstrap-secret-password")
            .With("Logging:LogLevel:Default", "Information")
            .WithServices(s =>
            {
                s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide());
                s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(_spans));
                s.AddSingleton<ILoggerProvider>(_logs);
            });
        foreach (var (key, value) in FakeSlack.HostSettings(_slack))
        {
            _app.With(key, value);
        }
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _model.DisposeAsync();
        await _slack.DisposeAsync();
    }

    [Fact]
    public async Task SlackTurn_IsOneTrace_FromTheWebhookThroughTheStoredTurnToTheModelAndTheReply()
    {
        using var bot = _app.CreateClient();

        using var response = await FakeSlack.SendEventAsync(bot, _slack.Envelope(FakeSlack.Message(Question)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _slack.WaitForCallAsync(c => c.Method == "chat.stopStream");
        // Spans of every host in this test process arrive here; this turn's trace is the one that called this fake Slack.
        var reply = await WaitForSpanAsync(s => s.Kind == ActivityKind.Client && ((string?)s.GetTagItem("url.full"))?.StartsWith(_slack.ApiBaseUrl + "chat.stopStream", StringComparison.Ordinal) == true);
        var turn = await WaitForSpanAsync(s => s.OperationName == "chatbot.turn" && s.TraceId == reply.TraceId);

        // The trace's root is the webhook request (the fake Slack's and model's own server spans join it too: they run in this process).
        var webhook = Snapshot().Single(s => s.Kind == ActivityKind.Server && s.TraceId == turn.TraceId && s.ParentSpanId == default);
        Assert.Equal("/api/slack/events", webhook.GetTagItem("url.path"));
        Assert.Equal(webhook.SpanId, turn.ParentSpanId); // the stored turn continues the webhook's trace
        Assert.Equal("Slack", turn.GetTagItem("chatbot.channel"));
        var inTrace = Snapshot().Where(s => s.TraceId == turn.TraceId).ToList();
        Assert.Contains(inTrace, s => s.OperationName == "chatbot.retrieve");
        var generate = Assert.Single(inTrace, s => s.OperationName == "chatbot.generate");
        Assert.Equal("gpt-4o-mini", generate.GetTagItem("chatbot.model"));
        Assert.Contains(inTrace, s => s.Kind == ActivityKind.Client && ((string?)s.GetTagItem("url.full"))?.StartsWith(_model.Endpoint.TrimEnd('/'), StringComparison.Ordinal) == true
            && ((string?)s.GetTagItem("url.full"))!.Contains("/chat/completions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_AfterTurns_ShowTurnsTokensCostLatencyAndInbox()
    {
        var chat = await ChatDriver.SignInNewUserAsync(_app);
        Assert.NotNull((await chat.SendAsync("How do I connect to the VPN?")).Final);
        using var client = _app.CreateClient();

        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Matches(@"chatbot_turns_total\{[^}]*channel=""web""[^}]*outcome=""answered""[^}]*\} [1-9]", metrics);
        Assert.Matches(@"chatbot_tokens_total\{[^}]*direction=""output""[^}]*model=""gpt-4o-mini""[^}]*\} [1-9]", metrics);
        Assert.Matches(@"chatbot_cost_USD_total\{[^}]*model=""gpt-4o-mini""[^}]*\} \d", metrics);
        Assert.Matches(@"chatbot_turn_duration_seconds_bucket\{[^}]*channel=""web""", metrics);
        Assert.Matches(@"chatbot_turn_time_to_first_token_seconds_bucket\{[^}]*model=""gpt-4o-mini""", metrics);
        Assert.Matches(@"http_server_request_duration_seconds_bucket", metrics);
        // The database-backed gauges, read every second here.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!metrics.Contains("chatbot_inbox_depth{", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        Assert.Matches(@"chatbot_inbox_depth\{[^}]*status=""pending""[^}]*\} 0", metrics);
        Assert.Matches(@"chatbot_ingestion_documents\{[^}]*status=""ready""", metrics);
        Assert.Matches(@"chatbot_ingestion_jobs\{[^}]*state=""failed""", metrics);
        Assert.DoesNotContain(chat.User.Id.ToString(), metrics, StringComparison.OrdinalIgnoreCase); // no person in a label
    }

    [Fact]
    public async Task Logs_AtInformationAndAbove_NeverCarryMessageTextEmailsTokensOrSecrets()
    {
        var chat = await ChatDriver.SignInNewUserAsync(_app, email: "grace.hopper@example.com");
        Assert.NotNull((await chat.SendAsync(Question)).Final);
        using var bot = _app.CreateClient();
        using (await FakeSlack.SendEventAsync(bot, _slack.Envelope(FakeSlack.Message(Question))))
        {
        }

        await _slack.WaitForCallAsync(c => c.Method == "chat.stopStream");
        using (await FakeSlack.PostAsync(bot, "/api/slack/events", "{\"type\":\"event_callback\",\"event\":{\"text\":\"zebra-quartz forged\"}}", signature: "v0=forged"))
        {
        }

        var forbidden = new[]
        {
            "zebra-quartz", "ada.lovelace@example.com", "grace.hopper@example.com", FakeSlack.BotToken, FakeSlack.SigningSecret,
            "test-key", "bootstrap-secret-password", ChatDriver.Password, "Contoso VPN",
        };
        var entries = _logs.Entries.Where(e => e.Level >= LogLevel.Information).ToList();
        Assert.True(entries.Count > 5, "the turns were logged at all");
        foreach (var entry in entries)
        {
            foreach (var secret in forbidden)
            {
                Assert.False(entry.Text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"'{secret}' in a {entry.Level} log from {entry.Category}: {entry.Text}");
            }
        }
    }

    private List<Activity> Snapshot()
    {
        lock (_spans)
        {
            return [.. _spans];
        }
    }

    private async Task<Activity> WaitForSpanAsync(Func<Activity, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (Snapshot().FirstOrDefault(match) is { } span)
            {
                return span;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("No such span.");
    }

    /// <summary>Every log entry of the host: the formatted message, every structured value and the exception.</summary>
    private sealed class CapturingLogs : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Text)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, CapturingLogs owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                owner.Entries.Enqueue((category, logLevel, $"{formatter(state, exception)} | {values} | {exception}"));
            }
        }
    }
}
