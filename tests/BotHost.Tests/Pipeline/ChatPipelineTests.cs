using System.Net;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using ChatBot.ChatData.Usage;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Pipeline;

/// <summary>The chat pipeline through the real host: web chat endpoint → inbox → dispatcher → fake model over SSE.</summary>
public sealed class ChatPipelineTests : IAsyncLifetime
{
    private FakeOpenAiServer _model = null!;

    public async Task InitializeAsync() => _model = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _model.DisposeAsync();

    [Fact]
    public async Task Answer_FromModel_StreamsDeltasThenFinalWithCitationsAndRecordsUsageAndCost()
    {
        _model.Script("model-a", FakeReply.Text("Install the client from the Software Center [1]. Use it on hotel Wi-Fi [2].", promptTokens: 1200, completionTokens: 30));
        using var app = NewApp(FixedKnowledgeRetriever.VpnGuide());
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("How do I set up the VPN?");

        Assert.Equal(HttpStatusCode.OK, exchange.Status);
        Assert.Equal(["accepted", "status"], exchange.Events.Take(2).Select(e => e.Name));
        Assert.True(exchange.Events.Count(e => e.Name == "delta") > 5, "the answer arrives in pieces");
        Assert.Equal("Install the client from the Software Center [1]. Use it on hotel Wi-Fi [2].", exchange.Streamed);
        Assert.Equal(exchange.Streamed, exchange.FinalText);
        var citations = exchange.Final!.Data.GetProperty("citations");
        Assert.Equal(2, citations.GetArrayLength());
        Assert.Equal("VPN setup guide", citations[0].GetProperty("title").GetString());
        Assert.Equal(2, citations[0].GetProperty("page").GetInt32());
        Assert.Equal("answer", exchange.Final.Data.GetProperty("kind").GetString());

        var request = Assert.Single(_model.Requests);
        Assert.Equal("Bearer test-key", request.Authorization);
        Assert.True(request.Stream);
        Assert.Contains("<source id=\"1\" title=\"VPN setup guide\" page=\"2\">", request.Messages[^1].Content, StringComparison.Ordinal);
        Assert.Contains("Question: How do I set up the VPN?", request.Messages[^1].Content, StringComparison.Ordinal);

        await using var db = await DbAfterTurnsAsync(app);
        var usage = await db.UsageRecords.SingleAsync();
        Assert.Equal(("model-a", 1200, 30, UsageOutcome.Answered), (usage.Model, usage.InputTokens, usage.OutputTokens, usage.Outcome));
        Assert.Equal((1200 * 2.5m) + (30 * 10m), usage.CostMicroUsd); // $2.50 / $10 per million tokens, in micro-dollars
        Assert.NotNull(usage.TimeToFirstTokenMs);
        var answer = await db.Messages.SingleAsync(m => m.Role == MessageRole.Assistant);
        Assert.Equal("model-a", answer.Model);
        Assert.NotNull(answer.DeliveredAt);
        Assert.Equal(1230, (await db.QuotaCounters.SingleAsync(c => c.Period.StartsWith("day:"))).Used);
        Assert.Equal(0, _model.UnexpectedRequests);
    }

    [Fact]
    public async Task Fallback_FirstModelKeepsFailingWith500_SecondModelAnswers()
    {
        _model.Script("model-a", FakeReply.Status(500), FakeReply.Status(500), FakeReply.Status(500));
        _model.Script("model-b", FakeReply.Text("Answer from the second model."));
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Anything?");

        Assert.Equal("Answer from the second model.", exchange.FinalText);
        Assert.Equal(3, _model.RequestsFor("model-a").Count); // one call and two retries
        Assert.Single(_model.RequestsFor("model-b"));
        await using var db = await DbAfterTurnsAsync(app);
        Assert.Equal("model-b", (await db.UsageRecords.SingleAsync()).Model);
    }

    [Fact]
    public async Task RateLimited_429WithShortRetryAfter_IsRetriedOnTheSameModelAfterTheWait()
    {
        _model.Script("model-a", FakeReply.Status(429, retryAfterSeconds: 1), FakeReply.Text("After the wait."));
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Hello?");

        Assert.Equal("After the wait.", exchange.FinalText);
        var calls = _model.RequestsFor("model-a");
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(0.9), "Retry-After was honoured");
        Assert.Empty(_model.RequestsFor("model-b"));
    }

    [Fact]
    public async Task RateLimited_RetryAfterLongerThanWeWait_FallsBackAtOnce()
    {
        _model.Script("model-a", FakeReply.Status(429, retryAfterSeconds: 600));
        _model.Script("model-b", FakeReply.Text("Second model."));
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Hello?");

        Assert.Equal("Second model.", exchange.FinalText);
        Assert.Single(_model.RequestsFor("model-a"));
    }

    [Fact]
    public async Task Hang_FirstModelNeverAnswers_TimesOutAndFallsBack()
    {
        _model.Script("model-a", FakeReply.Hang(), FakeReply.Hang(), FakeReply.Hang());
        _model.Script("model-b", FakeReply.Text("Second model."));
        using var app = NewApp(null, ("Llm:MaxRetries", "0"), ("Llm:AttemptTimeoutSeconds", "1"));
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Hello?");

        Assert.Equal("Second model.", exchange.FinalText);
    }

    [Fact]
    public async Task AllModelsDown_UserGetsAnApologyAndTheFailureIsRecorded()
    {
        _model.Default = _ => FakeReply.Status(503);
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Hello?");

        Assert.Null(exchange.Final);
        var message = exchange.Error!.Data.GetProperty("message").GetString()!;
        Assert.StartsWith("Sorry", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", message, StringComparison.Ordinal);
        Assert.Equal(6, _model.Requests.Count); // 3 tries on each model, then stop: no retry storm
        await using var db = await DbAfterTurnsAsync(app);
        var usage = await db.UsageRecords.SingleAsync();
        Assert.Equal(UsageOutcome.Failed, usage.Outcome);
        Assert.False(await db.Messages.AnyAsync(m => m.Role == MessageRole.Assistant));
        Assert.Equal(0, (await db.QuotaCounters.SingleAsync(c => c.Period.StartsWith("day:"))).Used); // reservation returned
        Assert.Equal(InboxStatus.Done, (await db.Inbox.SingleAsync()).Status);
    }

    [Fact]
    public async Task Stall_ModelStopsMidAnswer_AnswerIsKeptAndMarkedCutOff()
    {
        _model.Script("model-a", FakeReply.StallAfter("The first half"));
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Tell me everything.");

        Assert.StartsWith("The first half", exchange.FinalText, StringComparison.Ordinal);
        Assert.Contains("cut off", exchange.FinalText, StringComparison.Ordinal);
        Assert.Empty(_model.RequestsFor("model-b")); // words were shown: no other model takes over
    }

    [Fact]
    public async Task DuplicateClientMessageId_IsAnsweredOnce()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var id = Guid.NewGuid();

        var first = await chat.SendAsync("Hello?", clientMessageId: id);
        var second = await chat.SendAsync("Hello?", clientMessageId: id);

        Assert.NotNull(first.Final);
        Assert.Equal("duplicate", Assert.Single(second.Events).Name);
        Assert.Single(_model.Requests);
        await using var db = await DbAfterTurnsAsync(app);
        Assert.Equal(1, await db.Inbox.CountAsync());
        Assert.Equal(1, await db.Messages.CountAsync(m => m.Role == MessageRole.Assistant));
    }

    [Fact]
    public async Task Extractive_NoModelConfigured_QuotesTheBestPassagesWithCitationsAndSaysSo()
    {
        using var app = new ChatBotAppFactory().WithServices(s => s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide()));
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("How do I install the VPN client?");

        var text = exchange.FinalText;
        Assert.StartsWith("_No language model is configured — here is what the knowledge base says:_", text, StringComparison.Ordinal);
        Assert.Contains("> Install the Contoso VPN client from the Software Center.", text, StringComparison.Ordinal);
        Assert.Contains("[1]", text, StringComparison.Ordinal);
        Assert.Contains("[2]", text, StringComparison.Ordinal);
        Assert.Equal(2, exchange.Final!.Data.GetProperty("citations").GetArrayLength());
        Assert.Equal("extractive", exchange.Final.Data.GetProperty("model").GetString());
        await using var db = await DbAfterTurnsAsync(app);
        var usage = await db.UsageRecords.SingleAsync();
        Assert.Equal(("extractive", 0L), (usage.Model, usage.CostMicroUsd));
    }

    [Fact]
    public async Task Extractive_NothingInTheKnowledgeBase_SaysSoHonestly()
    {
        using var app = new ChatBotAppFactory();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("What is the parental leave policy?");

        Assert.Contains("the knowledge base has nothing that matches your question", exchange.FinalText, StringComparison.Ordinal);
        Assert.Equal(0, exchange.Final!.Data.GetProperty("citations").GetArrayLength());
    }

    [Fact]
    public async Task SourcesThatDoNotAnswer_ModelSaysSo_AndNoCitationsAreAttached()
    {
        _model.Script("model-a", FakeReply.Text("The company knowledge I can see does not cover that."));
        using var app = NewApp(FixedKnowledgeRetriever.VpnGuide());
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("What is the canteen menu?");

        Assert.Equal(0, exchange.Final!.Data.GetProperty("citations").GetArrayLength());
        Assert.Contains("Do not guess", _model.Requests[0].Messages[0].Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Markdown_FromTheModel_IsRenderedWithoutScript()
    {
        _model.Script("model-a", FakeReply.Text("**Bold** <script>alert(1)</script> [click](javascript:alert(2)) ![x](https://evil.example/x.png)"));
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Format something");

        var html = exchange.Final!.Data.GetProperty("html").GetString()!;
        Assert.Contains("<strong>Bold</strong>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
    }

    internal ChatBotAppFactory NewApp(IKnowledgeRetriever? retriever = null, params (string Key, string Value)[] settings)
    {
        var app = new ChatBotAppFactory().WithModels(_model.Endpoint, ("model-a", 2.5m, 10m), ("model-b", 0.15m, 0.6m));
        foreach (var (key, value) in settings)
        {
            app.With(key, value);
        }

        if (retriever is not null)
        {
            app.WithServices(s => s.AddSingleton(retriever));
        }

        return app;
    }

    /// <summary>The final event reaches the browser before the turn's bookkeeping ends: wait for the inbox to finish.</summary>
    internal static async Task<ChatDbContext> DbAfterTurnsAsync(ChatBotAppFactory app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var db = app.Db();
            if (!await db.Inbox.AnyAsync(i => i.Status == InboxStatus.Pending || i.Status == InboxStatus.Processing))
            {
                return db;
            }

            await db.DisposeAsync();
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Turns still running after 30 s.");
            }

            await Task.Delay(50);
        }
    }
}
