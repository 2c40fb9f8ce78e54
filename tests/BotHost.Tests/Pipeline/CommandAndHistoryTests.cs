using System.Net;
using System.Net.Http.Json;
using ChatBot.Adapters.Turns;
using ChatBot.BotHost.Identity;
using ChatBot.BotHost.Models;
using ChatBot.BotHost.Pipeline;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static ChatBot.BotHost.Tests.Pipeline.ChatPipelineTests;

namespace ChatBot.BotHost.Tests.Pipeline;

public sealed class CommandAndHistoryTests : IAsyncLifetime
{
    private FakeOpenAiServer _model = null!;

    public async Task InitializeAsync() => _model = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _model.DisposeAsync();

    [Theory]
    [InlineData("help")]
    [InlineData("/help")]
    [InlineData("  HELP ")]
    public async Task Help_InAnySpelling_ListsTheCommandsWithoutCallingTheModel(string text)
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);

        var exchange = await chat.SendAsync(text);

        Assert.Contains("**forget**", exchange.FinalText, StringComparison.Ordinal);
        Assert.Equal("notice", exchange.Final!.Data.GetProperty("kind").GetString());
        Assert.Empty(_model.Requests);
    }

    [Fact]
    public async Task Usage_ReportsTodayAndThisMonthAgainstTheQuota()
    {
        _model.Default = _ => FakeReply.Text("Answer.", promptTokens: 700, completionTokens: 5);
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await chat.SendAsync("A question");
        await DbAfterTurnsAsync(app);

        var exchange = await chat.SendAsync("usage");

        Assert.Contains("**Today:** 705 of 200,000 tokens", exchange.FinalText, StringComparison.Ordinal);
        Assert.Contains("**This month:** 705 of 3,000,000 tokens", exchange.FinalText, StringComparison.Ordinal);
        Assert.Contains("up to 10 messages a minute", exchange.FinalText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_StartsAFreshConversation_EarlierMessagesLeaveTheContext()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await chat.SendAsync("My name is Ada.");
        await chat.SendAsync("What is my name?");

        var reset = await chat.SendAsync("new");
        await chat.SendAsync("Do you remember me?");

        Assert.Contains("Started a new conversation", reset.FinalText, StringComparison.Ordinal);
        Assert.Contains(_model.Requests[1].Messages, m => m.Content == "My name is Ada.");
        var afterReset = _model.Requests[2].Messages;
        Assert.Equal(2, afterReset.Count); // the system prompt and the question, nothing before "new"
        Assert.DoesNotContain(afterReset, m => m.Content.Contains("Ada", StringComparison.Ordinal));
        await using var db = await DbAfterTurnsAsync(app);
        Assert.Equal([0, 1], await db.Conversations.OrderBy(c => c.Generation).Select(c => c.Generation).ToListAsync());
    }

    [Fact]
    public async Task Sources_ListsTheLastAnswersCitations()
    {
        _model.Default = _ => FakeReply.Text("Use the Software Center [1].");
        using var app = NewApp(FixedKnowledgeRetriever.VpnGuide());
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var before = await chat.SendAsync("sources");
        await chat.SendAsync("How do I install the VPN?");
        await DbAfterTurnsAsync(app);

        var after = await chat.SendAsync("sources");

        Assert.Contains("haven't answered anything", before.FinalText, StringComparison.Ordinal);
        Assert.Contains("1. [VPN setup guide](https://intranet.example.com/vpn), page 2", after.FinalText, StringComparison.Ordinal);
        Assert.DoesNotContain("Travel policy", after.FinalText, StringComparison.Ordinal); // not cited, not listed
    }

    [Fact]
    public async Task Forget_AsksToConfirm_ThenDeletesTheUsersHistoryAndAuditsIt()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await chat.SendAsync("Something private");
        var other = await ChatDriver.SignInNewUserAsync(app);
        await other.SendAsync("Someone else's question");

        var prompt = await chat.SendAsync("forget");
        await using (var db = await DbAfterTurnsAsync(app))
        {
            Assert.Equal(2, await db.Messages.CountAsync(m => m.Conversation!.OwnerUserId == chat.User.Id)); // nothing deleted yet
        }

        var done = await chat.SendAsync(ChatCommands.ForgetConfirmText);

        Assert.Contains("Send **forget confirm**", prompt.FinalText, StringComparison.Ordinal);
        Assert.Equal(ChatCommands.ForgetConfirmText, prompt.Final!.Data.GetProperty("actions")[0].GetProperty("command").GetString());
        Assert.Contains("I deleted 1 conversation(s) and 2 message(s)", done.FinalText, StringComparison.Ordinal);
        await using var after = await DbAfterTurnsAsync(app);
        Assert.False(await after.Messages.AnyAsync(m => m.UserId == chat.User.Id));
        Assert.False(await after.Conversations.AnyAsync(c => c.OwnerUserId == chat.User.Id));
        Assert.Equal(2, await after.Messages.CountAsync(m => m.Conversation!.OwnerUserId == other.User.Id)); // others keep theirs
        Assert.True(await after.AuditLog.AnyAsync(a => a.Action == "user.history.forgotten" && a.ActorUserId == chat.User.Id));
    }

    [Fact]
    public async Task History_LongConversation_IsTrimmedToTheModelsWindowNewestFirst()
    {
        _model.Default = _ => FakeReply.Text("ok");
        using var app = NewApp(null, ("Llm:Models:0:ContextWindow", "2000"), ("Llm:Models:0:MaxOutputTokens", "200"));
        var chat = await ChatDriver.SignInNewUserAsync(app);
        for (var i = 1; i <= 5; i++)
        {
            await chat.SendAsync($"Message {i}: " + string.Concat(Enumerable.Repeat("lorem ipsum dolor sit amet ", 60)));
        }

        var last = _model.Requests[^1].Messages;
        var tokens = app.Services.GetRequiredService<TokenCounter>();
        var total = last.Sum(m => tokens.Count(m.Content));
        Assert.True(total <= 2000 - 200, $"{total} tokens sent to a 2000-token window with 200 kept for the answer");
        Assert.Contains(last, m => m.Content.StartsWith("Message 4:", StringComparison.Ordinal)); // the newest history stays
        Assert.DoesNotContain(last, m => m.Content.StartsWith("Message 1:", StringComparison.Ordinal)); // the oldest went
        Assert.Contains("Question: Message 5:", last[^1].Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuspendedUser_IsRefusedAndNothingElseHappens()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await using (var db = app.Db())
        {
            await db.Users.Where(u => u.Id == chat.User.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsSuspended, true));
        }

        var exchange = await chat.SendAsync("Hello?");

        Assert.Equal(TurnPipeline.SuspendedText, exchange.FinalText);
        Assert.Empty(_model.Requests);
        await using var after = await DbAfterTurnsAsync(app);
        Assert.False(await after.Messages.AnyAsync());
        Assert.True(await after.AuditLog.AnyAsync(a => a.Action == "turn.refused.suspended"));
    }

    [Fact]
    public async Task Identity_SamePersonOnWebAndSlackAndTeams_IsOneUserWhenTheEmailMatches()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app, email: "ada@contoso.com");
        var directory = app.Services.GetRequiredService<UserDirectory>();

        var slack = await directory.ResolveAsync(ChannelKind.Slack, "T001", new UserReference("U123", "Ada L.", "Ada@Contoso.com"), CancellationToken.None);
        var teams = await directory.ResolveAsync(ChannelKind.Teams, "tenant-1", new UserReference("aad-1", "Ada Lovelace", "ada@contoso.com"), CancellationToken.None);
        var again = await directory.ResolveAsync(ChannelKind.Slack, "T001", new UserReference("U123", "Ada L.", null), CancellationToken.None);
        var stranger = await directory.ResolveAsync(ChannelKind.Slack, "T001", new UserReference("U999", "Bob", null), CancellationToken.None);

        Assert.Equal(chat.User.Id, slack.Id);
        Assert.Equal(chat.User.Id, teams.Id);
        Assert.Equal(chat.User.Id, again.Id);
        Assert.NotEqual(chat.User.Id, stranger.Id);
        await using var db = app.Db();
        Assert.Equal(3, await db.ChannelIdentities.CountAsync(i => i.UserId == chat.User.Id));
    }

    [Fact]
    public async Task Identity_FirstContactOfOnePersonTwiceAtOnce_CreatesOneUser()
    {
        using var app = NewApp();
        _ = app.Services;
        var directory = app.Services.GetRequiredService<UserDirectory>();

        var users = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            directory.ResolveAsync(ChannelKind.Slack, "T1", new UserReference("U-same", "Same", "same@contoso.com"), CancellationToken.None)));

        Assert.Single(users.Select(u => u.Id).Distinct());
    }

    [Fact]
    public async Task Feedback_ThumbsDownOnAnAnswer_IsStoredOnTheMessage()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        var exchange = await chat.SendAsync("Hello?");
        var messageId = exchange.Final!.Data.GetProperty("messageId").GetInt64();

        using var response = await chat.Client.PostAsJsonAsync(
            new Uri($"/api/chat/conversations/{chat.ConversationId}/messages/{messageId}/feedback", UriKind.Relative),
            new { rating = -1, comment = "Wrong office" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await using var db = await DbAfterTurnsAsync(app);
        var message = await db.Messages.SingleAsync(m => m.Id == messageId);
        Assert.Equal((-1, "Wrong office"), (message.Feedback, message.FeedbackComment));
    }

    [Fact]
    public async Task Feedback_OnSomeoneElsesAnswer_ChangesNothing()
    {
        using var app = NewApp();
        var owner = await ChatDriver.SignInNewUserAsync(app);
        var messageId = (await owner.SendAsync("Hello?")).Final!.Data.GetProperty("messageId").GetInt64();
        var intruder = await ChatDriver.SignInNewUserAsync(app);

        using var response = await intruder.Client.PostAsJsonAsync(
            new Uri($"/api/chat/conversations/{intruder.ConversationId}/messages/{messageId}/feedback", UriKind.Relative),
            new { rating = -1 });

        await using var db = await DbAfterTurnsAsync(app);
        Assert.Equal(0, (await db.Messages.SingleAsync(m => m.Id == messageId)).Feedback);
    }

    [Fact]
    public async Task Conversation_SomeoneElsesId_IsRefusedAndItsHistoryStaysPrivate()
    {
        using var app = NewApp();
        var owner = await ChatDriver.SignInNewUserAsync(app);
        await owner.SendAsync("My secret plan");
        var intruder = await ChatDriver.SignInNewUserAsync(app);
        intruder.ConversationId = owner.ConversationId;

        var exchange = await intruder.SendAsync("What did they say?");
        using var history = await intruder.Client.GetAsync(new Uri($"/api/chat/conversations/{owner.ConversationId}/messages", UriKind.Relative));

        Assert.Equal("That conversation does not exist.", exchange.Error!.Data.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, history.StatusCode);
        Assert.Single(_model.Requests);
    }

    private ChatBotAppFactory NewApp(FixedKnowledgeRetriever? retriever = null, params (string Key, string Value)[] settings)
    {
        var app = new ChatBotAppFactory().WithModels(_model.Endpoint, ("model-a", 1m, 1m));
        foreach (var (key, value) in settings)
        {
            app.With(key, value);
        }

        if (retriever is not null)
        {
            app.WithServices(s => s.AddSingleton<ChatBot.KnowledgeIngest.Retrieval.IKnowledgeRetriever>(retriever));
        }

        return app;
    }
}
