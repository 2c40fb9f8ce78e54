using System.Net.Http.Json;
using ChatBot.ChatData.Usage;
using Microsoft.Extensions.DependencyInjection;
using ChatBot.TestSupport;
using ChatBot.TestSupport.Fakes;
using Microsoft.EntityFrameworkCore;
using static ChatBot.BotHost.Tests.Pipeline.ChatPipelineTests;

namespace ChatBot.BotHost.Tests.Pipeline;

public sealed class QuotaTests : IAsyncLifetime
{
    private FakeOpenAiServer _model = null!;

    public async Task InitializeAsync()
    {
        _model = await FakeOpenAiServer.StartAsync();
        _model.Default = _ => FakeReply.Text("An answer.", promptTokens: 1000, completionTokens: 10);
    }

    public async Task DisposeAsync() => await _model.DisposeAsync();

    [Fact]
    public async Task DailyQuota_Exhausted_RefusesNamingTheLimitAndTheReset_WithoutCallingTheModel()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await SetUserAsync(app, chat, u => u.DailyTokenQuota = 500);

        var first = await chat.SendAsync("First question");
        var second = await chat.SendAsync("Second question");

        Assert.Equal("An answer.", first.FinalText);
        Assert.Contains("daily allowance of 500 tokens", second.FinalText, StringComparison.Ordinal);
        Assert.Contains("resets at 00:00 UTC", second.FinalText, StringComparison.Ordinal);
        Assert.Equal("notice", second.Final!.Data.GetProperty("kind").GetString());
        Assert.Single(_model.Requests);
        await using var db = await DbAfterTurnsAsync(app);
        Assert.Equal([UsageOutcome.Answered, UsageOutcome.Refused], await db.UsageRecords.OrderBy(u => u.Id).Select(u => u.Outcome).ToListAsync());
    }

    [Fact]
    public async Task MonthlyQuota_Exhausted_RefusesNamingTheMonthlyLimit()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await SetUserAsync(app, chat, u => (u.DailyTokenQuota, u.MonthlyTokenQuota) = (1_000_000, 500));

        await chat.SendAsync("First question");
        var second = await chat.SendAsync("Second question");

        Assert.Contains("monthly allowance of 500 tokens", second.FinalText, StringComparison.Ordinal);
        Assert.Contains("It resets on 1 ", second.FinalText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoleQuota_ChangedByAnAdmin_TakesEffectOnTheNextTurn()
    {
        using var app = NewApp();
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await using (var db = app.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<ChatBot.ChatData.Database.ChatDbContext>>().CreateDbContext())
        {
            await db.RoleQuotas.Where(q => q.Role == ChatBot.ChatData.Users.UserRole.User).ExecuteUpdateAsync(s => s.SetProperty(q => q.DailyTokens, 1L));
        }

        await chat.SendAsync("First question"); // admitted: nothing used yet
        var second = await chat.SendAsync("Second question");

        Assert.Contains("daily allowance of 1 tokens", second.FinalText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MessagesPerMinute_OverTheLimit_RefusesWithTheWaitInSeconds()
    {
        // A fixed clock, 20 seconds into a minute: no minute boundary can fall between the messages.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 10, 0, 20, TimeSpan.Zero));
        using var app = NewApp().WithServices(s => s.AddSingleton<TimeProvider>(clock));
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await SetUserAsync(app, chat, u => u.MessagesPerMinute = 2);

        await chat.SendAsync("One");
        await chat.SendAsync("Two");
        var third = await chat.SendAsync("Three");

        Assert.Contains("faster than your limit of 2 a minute", third.FinalText, StringComparison.Ordinal);
        Assert.Contains("Try again in 40 seconds.", third.FinalText, StringComparison.Ordinal);
        Assert.Equal(2, _model.Requests.Count);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ParallelTurns_OfOneUser_AccountingIsExactAndTheLimitHolds(string database)
    {
        // On PostgreSQL the turns race to create the same new counters: the losers' unique-key violations must not
        // abort their admissions.
        await using var postgres = database == "postgres" ? await PostgresTestDatabase.CreateAsync() : null;
        using var app = postgres is null ? NewApp() : NewApp().WithPostgres(postgres);
        var chat = await ChatDriver.SignInNewUserAsync(app);
        await SetUserAsync(app, chat, u => (u.DailyTokenQuota, u.MessagesPerMinute) = (5_000, 1_000));

        // Twelve conversations at once, so the turns really run in parallel.
        var exchanges = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            var driver = chat;
            var conversation = Guid.NewGuid();
            using var response = await driver.Client.PostAsJsonAsync(
                new Uri($"/api/chat/conversations/{conversation}/messages", UriKind.Relative),
                new { clientMessageId = Guid.NewGuid(), text = $"Question {i}" });
            return ChatDriver.Parse(await response.Content.ReadAsStringAsync());
        }));

        await using var db = await DbAfterTurnsAsync(app);
        var usage = await db.UsageRecords.ToListAsync();
        var answered = usage.Where(u => u.Outcome == UsageOutcome.Answered).ToList();
        var refused = usage.Count(u => u.Outcome == UsageOutcome.Refused);
        Assert.Equal(12, answered.Count + refused);
        Assert.InRange(answered.Count, 1, 11);
        var counters = await db.QuotaCounters.Where(c => c.UserId == chat.User.Id && !c.Period.StartsWith("minute:")).ToListAsync();
        var expected = answered.Sum(u => (long)u.InputTokens + u.OutputTokens);
        Assert.All(counters, c => Assert.Equal(expected, c.Used)); // day and month: exactly the real usage
        Assert.Equal(answered.Count, _model.Requests.Count);
        Assert.Equal(12, exchanges.Count(e => e.Any(x => x.Name == "final")));
        var perMinute = await db.QuotaCounters.Where(c => c.UserId == chat.User.Id && c.Period.StartsWith("minute:")).SumAsync(c => c.Used);
        Assert.Equal(answered.Count, perMinute); // a refused turn counts nothing
        Assert.All(await db.Inbox.ToListAsync(), i => Assert.Equal(1, i.Attempts)); // no admission failed and was retried
    }

    private ChatBotAppFactory NewApp() => new ChatBotAppFactory().WithModels(_model.Endpoint, ("model-a", 1m, 1m));

    private static async Task SetUserAsync(ChatBotAppFactory app, ChatDriver chat, Action<ChatBot.ChatData.Users.User> change)
    {
        await using var db = app.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<ChatBot.ChatData.Database.ChatDbContext>>().CreateDbContext();
        var user = await db.Users.SingleAsync(u => u.Id == chat.User.Id);
        change(user);
        await db.SaveChangesAsync();
    }
}
