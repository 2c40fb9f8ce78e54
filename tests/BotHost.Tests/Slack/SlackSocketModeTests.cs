using System.Text.Json.Nodes;
using ChatBot.ChatData.Inbox;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Slack;

/// <summary>Slack over Socket Mode against the fake Slack's WebSocket server: envelopes, acknowledgements, reconnects.</summary>
public sealed class SlackSocketModeTests : IAsyncLifetime
{
    private FakeSlack _slack = null!;
    private FakeOpenAiServer _model = null!;
    private ChatBotAppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _slack = await FakeSlack.StartAsync();
        _model = await FakeOpenAiServer.StartAsync();
        _model.Default = _ => FakeReply.Text("Install the VPN client [1].", firstTokenDelay: TimeSpan.FromMilliseconds(50));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await _model.DisposeAsync();
        await _slack.DisposeAsync();
    }

    private HttpClient StartHost()
    {
        _app = new ChatBotAppFactory()
            .WithModels(_model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m))
            .WithServices(s => s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide()))
            .With("Slack:AppToken", FakeSlack.AppToken)
            .With("Inbox:PollSeconds", "0.2");
        foreach (var (key, value) in FakeSlack.HostSettings(_slack))
        {
            _app.With(key, value);
        }

        return _app.CreateClient();
    }

    [Fact]
    public async Task Envelope_IsAcknowledgedOnceInTheInbox_ARedeliveryIsOneTurn_AndTheAnswerIsStreamed()
    {
        using var http = StartHost();
        await _slack.WaitForSocketAsync(1);
        var message = FakeSlack.Message("How do I connect to the VPN?");

        var first = await _slack.SendEnvelopeAsync("events_api", _slack.Envelope(message, eventId: "Ev-socket-1"));
        await _slack.WaitForAckAsync(first);
        var again = await _slack.SendEnvelopeAsync("events_api", _slack.Envelope(message.DeepClone().AsObject(), eventId: "Ev-socket-1"), retryAttempt: 1);
        await _slack.WaitForAckAsync(again);

        await _slack.WaitForCallAsync(c => c.Method == "chat.stopStream");
        await using var db = _app.Db();
        Assert.Equal(1, await db.Inbox.CountAsync());
        Assert.Single(_slack.Calls, c => c.Method == "chat.startStream");
        Assert.Equal("Healthy", await http.GetStringAsync(new Uri("/readyz", UriKind.Relative)));
    }

    [Fact]
    public async Task SlashCommand_WithoutText_IsAcknowledgedWithItsUsageAsPayload()
    {
        using var http = StartHost();
        await _slack.WaitForSocketAsync(1);

        var id = await _slack.SendEnvelopeAsync("slash_commands", new JsonObject
        {
            ["team_id"] = FakeSlack.TeamId, ["channel_id"] = "C111", ["user_id"] = "U222", ["command"] = "/ask", ["text"] = "",
            ["response_url"] = _slack.ResponseUrl, ["trigger_id"] = "t-1",
        });
        var ack = await _slack.WaitForAckAsync(id);

        Assert.Equal("ephemeral", (string?)ack["payload"]!["response_type"]);
        Assert.Contains("/ask", (string?)ack["payload"]!["text"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisconnectOrDrop_ReconnectsWithANewUrl()
    {
        using var http = StartHost();
        await _slack.WaitForSocketAsync(1);

        await _slack.SendDisconnectAsync("refresh_requested");
        await _slack.WaitForSocketAsync(2);
        _slack.DropConnection();
        await _slack.WaitForSocketAsync(3);

        Assert.True(_slack.ConnectionsOpened >= 3, "every connection asked apps.connections.open for a new URL");
        var id = await _slack.SendEnvelopeAsync("events_api", _slack.Envelope(FakeSlack.Message("still there?")));
        await _slack.WaitForAckAsync(id);
    }

    [Fact]
    public async Task CannotConnect_ReadinessSaysDegradedAndItKeepsTrying()
    {
        _slack.RefuseConnections = true;
        using var http = StartHost();

        await WaitUntilAsync(() => _slack.Calls.Count(c => c.Method == "apps.connections.open") >= 2);
        Assert.Equal("Degraded", await http.GetStringAsync(new Uri("/readyz", UriKind.Relative)));

        _slack.RefuseConnections = false;
        await _slack.WaitForSocketAsync(1, TimeSpan.FromSeconds(20));
        await WaitUntilAsync(async () => await http.GetStringAsync(new Uri("/readyz", UriKind.Relative)) == "Healthy");
    }

    private static async Task WaitUntilAsync(Func<bool> condition) => await WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The condition never held.");
    }
}
