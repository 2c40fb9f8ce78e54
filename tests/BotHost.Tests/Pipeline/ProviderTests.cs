using ChatBot.ChatData.Usage;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using static ChatBot.BotHost.Tests.Pipeline.ChatPipelineTests;

namespace ChatBot.BotHost.Tests.Pipeline;

/// <summary>Each provider's SDK against a fake speaking that provider's wire protocol on loopback.</summary>
public sealed class ProviderTests : IAsyncLifetime
{
    private FakeOpenAiServer _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task AzureOpenAI_StreamsThroughTheDeploymentRouteWithAnApiKey()
    {
        _fake.Script("my-gpt4o-deployment", FakeReply.Text("Hello from Azure.", promptTokens: 50, completionTokens: 4));
        using var app = new ChatBotAppFactory()
            .With("Llm:Provider", "AzureOpenAI")
            .With("Llm:Endpoint", _fake.Endpoint[..^"/v1".Length] + "/")
            .With("Llm:ApiKey", "azure-key")
            .With("Llm:Model", "my-gpt4o-deployment");
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Hello?");

        Assert.Equal("Hello from Azure.", exchange.FinalText);
        var request = Assert.Single(_fake.Requests);
        Assert.Equal("/openai/deployments/my-gpt4o-deployment/chat/completions", request.Path);
        Assert.Equal("api-key azure-key", request.Authorization);
        await using var db = await DbAfterTurnsAsync(app);
        var usage = await db.UsageRecords.SingleAsync();
        Assert.Equal((50, 4), (usage.InputTokens, usage.OutputTokens));
        Assert.Equal(0, _fake.UnexpectedRequests);
    }

    [Fact]
    public async Task Anthropic_StreamsMessagesApiEventsWithUsage()
    {
        _fake.Script("claude-test", FakeReply.Text("Hello from Claude."));
        using var app = new ChatBotAppFactory()
            .With("Llm:Provider", "Anthropic")
            .With("Llm:Endpoint", _fake.Endpoint[..^"/v1".Length])
            .With("Llm:ApiKey", "anthropic-key")
            .With("Llm:Model", "claude-test");
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync("Hello?");

        Assert.Equal("Hello from Claude.", exchange.FinalText);
        Assert.True(exchange.Events.Count(e => e.Name == "delta") > 1);
        var request = Assert.Single(_fake.Requests);
        Assert.Equal("/v1/messages", request.Path);
        Assert.Equal("anthropic-key", request.Authorization);
        Assert.Contains(request.Messages, m => m.Role == "system" && m.Content.Contains("Cite every fact", StringComparison.Ordinal));
        await using var db = await DbAfterTurnsAsync(app);
        var usage = await db.UsageRecords.SingleAsync();
        Assert.Equal((UsageOutcome.Answered, 321, 12), (usage.Outcome, usage.InputTokens, usage.OutputTokens));
    }
}
