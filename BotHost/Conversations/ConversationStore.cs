using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Users;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Conversations;

/// <summary>
/// Conversations by channel reference. Each Teams reply chain and Slack thread is its own conversation;
/// the "new" command starts the next generation of the same reference, so earlier messages leave the context.
/// </summary>
internal sealed class ConversationStore(IDbContextFactory<ChatDbContext> contexts, TimeProvider clock)
{
    public async Task<Conversation> GetOrCreateAsync(InboundTurn turn, User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(user);
        var channel = (Channel)turn.Channel;
        for (var attempt = 0; ; attempt++)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var current = await CurrentAsync(db, channel, turn, cancellationToken);
            if (current is not null)
            {
                return current;
            }

            var conversation = New(turn, user, generation: 0);
            db.Conversations.Add(conversation);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return conversation;
            }
            catch (DbUpdateException) when (attempt < 2)
            {
                // Created by a concurrent turn; read it back.
            }
        }
    }

    /// <summary>Starts the next generation of the turn's conversation; history before it is no longer used.</summary>
    public async Task<Conversation> StartNewAsync(InboundTurn turn, User user, Conversation current, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var next = New(turn, user, current.Generation + 1);
        next.Title = current.Title;
        db.Conversations.Add(next);
        await db.SaveChangesAsync(cancellationToken);
        return next;
    }

    private static Task<Conversation?> CurrentAsync(ChatDbContext db, Channel channel, InboundTurn turn, CancellationToken cancellationToken) =>
        db.Conversations
            .Where(c => c.Channel == channel && c.TenantId == turn.TenantId
                && c.ExternalId == turn.Conversation.Id && c.ThreadId == turn.Conversation.ThreadId)
            .OrderByDescending(c => c.Generation)
            .FirstOrDefaultAsync(cancellationToken);

    private Conversation New(InboundTurn turn, User user, int generation)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return new Conversation
        {
            Channel = (Channel)turn.Channel,
            TenantId = turn.TenantId,
            ExternalId = turn.Conversation.Id,
            ThreadId = turn.Conversation.ThreadId,
            Generation = generation,
            Kind = (ConversationKind)turn.Conversation.Type,
            Title = turn.Conversation.Name,
            OwnerUserId = turn.Conversation.Type == ConversationType.Personal ? user.Id : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }
}
