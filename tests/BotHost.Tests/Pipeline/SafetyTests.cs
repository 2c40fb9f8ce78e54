using ChatBot.BotHost.Safety;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Usage;
using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Pipeline;

/// <summary>Content safety: personal data masked before it reaches a model, blocked topics refused politely, filtered answers flagged.</summary>
public sealed class SafetyTests : IAsyncLifetime
{
    private FakeOpenAiServer _model = null!;
    private ChatBotAppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _model = await FakeOpenAiServer.StartAsync();
        _model.Default = _ => FakeReply.Text("Use the VPN client [1].");
        StartHost();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _model.DisposeAsync();
    }

    private void StartHost(params (string Key, string Value)[] settings)
    {
        _app = new ChatBotAppFactory()
            .WithModels(_model.Endpoint, ("gpt-4o-mini", 0.15m, 0.6m), ("backup", 0.1m, 0.1m))
            .WithServices(s => s.AddSingleton<IKnowledgeRetriever>(FixedKnowledgeRetriever.VpnGuide()));
        foreach (var (key, value) in settings)
        {
            _app.With(key, value);
        }
    }

    [Theory]
    [InlineData("Mail ada.lovelace@contoso.com please", "Mail [email] please")]
    [InlineData("My IBAN is DE89 3704 0044 0532 0130 00.", "My IBAN is [iban].")]
    [InlineData("Card 4111 1111 1111 1111 expires soon", "Card [card] expires soon")]
    [InlineData("Call +49 30 1234 5678 or (555) 123-4567", "Call [phone] or [phone]")]
    [InlineData("On 2026-11-30 band E3 pays 90000 EUR; order 12345; card-like 1234 5678 9012 3456", "On 2026-11-30 band E3 pays 90000 EUR; order 12345; card-like 1234 5678 9012 3456")]
    public void PiiMasker_MasksPersonalDataOnly(string text, string expected) => Assert.Equal(expected, PiiMasker.Mask(text));

    [Fact]
    public async Task PersonalData_IsMaskedInWhatTheModelReceives_HistoryIncluded_ButKeptInTheUsersOwnHistory()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);

        await person.SendAsync("My laptop 4111 1111 1111 1111 is registered to ada@contoso.com, how do I connect to the VPN?");
        await person.SendAsync("And from a hotel? Call me on +44 20 7946 0958");

        var first = _model.Requests[0].Messages[^1].Content;
        var second = _model.Requests[1];
        Assert.Contains("My laptop [card] is registered to [email]", first, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@contoso.com", string.Join("\n", second.Messages.Select(m => m.Content)), StringComparison.Ordinal);
        Assert.Contains("Call me on [phone]", second.Messages[^1].Content, StringComparison.Ordinal);
        await using var db = _app.Db();
        Assert.Contains(await db.Messages.Where(m => m.Role == MessageRole.User).Select(m => m.Content).ToListAsync(), c => c.Contains("ada@contoso.com", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MaskingOff_SendsTheTextAsWritten()
    {
        await _app.DisposeAsync();
        StartHost(("Safety:MaskPii", "false"));
        var person = await ChatDriver.SignInNewUserAsync(_app);

        await person.SendAsync("Is ada@contoso.com on the VPN list?");

        Assert.Contains("ada@contoso.com", _model.Requests.Single().Messages[^1].Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlockedTopic_GetsThePoliteRefusal_NoModelCall_RecordedAsRefused()
    {
        await _app.DisposeAsync();
        StartHost(("Safety:BlockedTopics:0", "layoffs"), ("Safety:BlockedTopics:1", "merger talks"));
        var person = await ChatDriver.SignInNewUserAsync(_app);

        var refused = await person.SendAsync("Are there LAYOFFS planned?");
        var allowed = await person.SendAsync("How do I connect to the VPN?"); // "layoffs" inside no other word

        Assert.StartsWith("Sorry — that is a topic I can't help with here.", refused.FinalText, StringComparison.Ordinal);
        Assert.Single(_model.Requests);
        Assert.Contains("VPN client", allowed.FinalText, StringComparison.Ordinal);
        await using var db = _app.Db();
        Assert.Equal(1, await db.UsageRecords.CountAsync(u => u.Outcome == UsageOutcome.Refused));
        var audit = await db.AuditLog.SingleAsync(a => a.Action == "turn.refused.topic");
        Assert.Equal("{\"topic\":0}", audit.Details);
    }

    [Fact]
    public async Task FilteredAnswer_SaysSo_AndIsFlagged_AnEmptyOneIsNotRetriedElsewhere()
    {
        var person = await ChatDriver.SignInNewUserAsync(_app);
        _model.Default = _ => FakeReply.Text("Install the client [1].", finishReason: "content_filter");

        var partial = await person.SendAsync("How do I connect to the VPN?");
        _model.Default = _ => FakeReply.Text("", finishReason: "content_filter");
        var empty = await person.SendAsync("And the other thing?");

        Assert.Equal("Install the client [1].\n\n_(The language model's content filter withheld the rest of this answer.)_", partial.FinalText);
        Assert.Equal("_(The language model's content filter withheld this answer.)_", empty.FinalText);
        Assert.Equal(2, _model.Requests.Count); // the backup model was not asked
        await using var db = _app.Db();
        Assert.Equal(2, await db.Messages.CountAsync(m => m.Role == MessageRole.Assistant && m.ContentFiltered));
    }
}
