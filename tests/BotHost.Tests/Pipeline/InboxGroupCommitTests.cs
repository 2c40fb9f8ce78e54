using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Inbox;
using ChatBot.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ChatBot.BotHost.Tests.Pipeline;

/// <summary>
/// A burst of turns stored together (group commit): every turn stored exactly once, duplicates inside one write and
/// against earlier writes recognised with the stored row's id, on SQLite and on PostgreSQL.
/// </summary>
public sealed class InboxGroupCommitTests
{
    [Fact]
    public async Task Burst_WithDuplicates_StoresEachEventOnce_OnSqlite()
    {
        // The web role runs only turns bound to it: these Slack turns stay in the inbox for the assertions.
        using var app = new ChatBotAppFactory().With("Hosting:Role", "web");
        await AssertBurstAsync(app);
    }

    [Fact]
    public async Task Burst_WithDuplicates_StoresEachEventOnce_OnPostgres()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        using var app = new ChatBotAppFactory()
            .With("Hosting:Role", "web")
            .WithPostgres(database);
        await AssertBurstAsync(app);
    }

    private static async Task AssertBurstAsync(ChatBotAppFactory app)
    {
        _ = app.Server; // starts the host (migrations)
        var inbox = app.Services.GetRequiredService<ITurnInbox>();
        var earlier = await inbox.AcceptAsync(Turn("Ev-early"), CancellationToken.None);
        Assert.False(earlier.Duplicate);

        // 600 distinct events, 100 of them delivered twice at once, and one delivered again after it was stored:
        // more than one write's worth, so batches, a batch with duplicates inside it and the fallback all run.
        var events = Enumerable.Range(0, 600).Select(i => $"Ev{i}")
            .Concat(Enumerable.Range(0, 100).Select(i => $"Ev{i * 6}"))
            .Append("Ev-early")
            .ToList();
        var receipts = await Task.WhenAll(events.Select(e => Task.Run(() => inbox.AcceptAsync(Turn(e), CancellationToken.None))));

        await using var db = app.Db();
        var rows = await db.Inbox.AsNoTracking().ToDictionaryAsync(i => i.EventId, i => i.Id);
        Assert.Equal(601, rows.Count);
        foreach (var group in events.Zip(receipts).GroupBy(p => p.First))
        {
            var stored = rows[group.Key];
            Assert.All(group, p => Assert.Equal(stored, p.Second.TurnId));
            var fresh = group.Count(p => !p.Second.Duplicate);
            Assert.Equal(group.Key == "Ev-early" ? 0 : 1, fresh);
        }

        Assert.Equal(earlier.TurnId, rows["Ev-early"]);
        Assert.Equal(101, receipts.Count(r => r.Duplicate));
        Assert.All(await db.Inbox.AsNoTracking().Where(i => i.EventId != "Ev-early").ToListAsync(), i =>
        {
            Assert.Equal(InboxStatus.Pending, i.Status);
            Assert.Contains($"\"eventId\":\"{i.EventId}\"", i.Payload, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task WaveOfTurns_FinishingTogether_AreAllMarkedDone_InOrderPerConversation_OnSqlite()
    {
        using var app = new ChatBotAppFactory();
        await AssertWaveFinishesAsync(app);
    }

    [Fact]
    public async Task WaveOfTurns_FinishingTogether_AreAllMarkedDone_InOrderPerConversation_OnPostgres()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        using var app = new ChatBotAppFactory().WithPostgres(database);
        await AssertWaveFinishesAsync(app);
    }

    /// <summary>
    /// Many turns end at about the same time, so their completions are written in groups: each turn is marked done
    /// (lease cleared, no error), and a conversation's second turn still runs only after its first is marked.
    /// </summary>
    private static async Task AssertWaveFinishesAsync(ChatBotAppFactory app)
    {
        _ = app.Server;
        var inbox = app.Services.GetRequiredService<ITurnInbox>();
        var turns = Enumerable.Range(0, 80).SelectMany(c => new[] { WebTurn(c, 1), WebTurn(c, 2) }).ToList();
        await Task.WhenAll(turns.Select(t => Task.Run(() => inbox.AcceptAsync(t, CancellationToken.None))));

        await app.WaitForAsync(async db => await db.Inbox.CountAsync(i => i.Status == InboxStatus.Done) == turns.Count, TimeSpan.FromSeconds(60));
        await using var db = app.Db();
        var items = await db.Inbox.AsNoTracking().ToListAsync();
        Assert.Equal(turns.Count, items.Count);
        Assert.All(items, i =>
        {
            Assert.NotNull(i.CompletedAt);
            Assert.Null(i.LeaseOwner);
            Assert.Null(i.LeaseUntil);
            Assert.Null(i.Error);
            Assert.Equal(1, i.Attempts);
        });

        // Within a conversation the second turn started after the first was finished.
        foreach (var conversation in items.GroupBy(i => i.ConversationKey))
        {
            var ordered = conversation.OrderBy(i => i.Id).ToList();
            Assert.Equal(2, ordered.Count);
            var secondAnswer = await db.Messages.AsNoTracking().SingleAsync(m => m.InboxItemId == ordered[1].Id && m.Role == ChatBot.ChatData.Conversations.MessageRole.Assistant);
            Assert.True(secondAnswer.CreatedAt >= ordered[0].CompletedAt, $"{conversation.Key}: second answered at {secondAnswer.CreatedAt:O}, first finished at {ordered[0].CompletedAt:O}");
        }
    }

    private static InboundTurn WebTurn(int conversation, int number) => new()
    {
        Channel = ChannelKind.Web,
        EventId = $"wave-{conversation}-{number}",
        TenantId = "web",
        Conversation = new ConversationReference($"wave-{conversation}", "", ConversationType.Personal),
        User = new UserReference($"wave-user-{conversation}", $"Person {conversation}"),
        Text = "Where is the VPN guide?",
    };

    private static InboundTurn Turn(string eventId) => new()
    {
        Channel = ChannelKind.Slack,
        EventId = eventId,
        TenantId = "T1",
        Conversation = new ConversationReference("D" + eventId, "", ConversationType.Personal),
        User = new UserReference("U" + eventId, "Person " + eventId),
        Text = "Where is the VPN guide?",
    };
}
