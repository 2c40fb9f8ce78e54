using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Audit;
using ChatBot.BotHost.Conversations;
using ChatBot.BotHost.Identity;
using ChatBot.BotHost.Inbox;
using ChatBot.BotHost.Knowledge;
using ChatBot.BotHost.Models;
using ChatBot.BotHost.Quotas;
using ChatBot.BotHost.Usage;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest.Retrieval;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Pipeline;

/// <summary>Everything one turn needs, gathered once.</summary>
internal sealed record TurnContext(
    long TurnId,
    InboundTurn Turn,
    User User,
    Conversation Conversation,
    IReplyWriter Reply,
    DateTimeOffset StartedAt,
    int Attempt)
{
    /// <summary>A retried turn may find its own messages from an earlier attempt.</summary>
    public bool IsRetry => Attempt > 1;
}

/// <summary>
/// The path of one message, in the order it happens: resolve the user, refuse the suspended, route commands,
/// check the rate limit, then answer (retrieve, prompt, model or extractive, stream, record).
/// </summary>
internal sealed partial class TurnPipeline(
    IDbContextFactory<ChatDbContext> contexts,
    ReplyChannels replyChannels,
    UserDirectory users,
    ConversationStore conversations,
    QuotaService quotas,
    UsageReport usageReport,
    UsageRecorder usage,
    AuditLog audit,
    ChatData.Users.IPersonalData personalData,
    IKnowledgeRetriever retriever,
    ChatFileIntake fileIntake,
    IEnumerable<IChannelUserDirectory> channelDirectories,
    IEnumerable<IChannelContext> channelContexts,
    ChatData.Webhooks.IWebhookPublisher webhooks,
    Safety.BlockedTopics blockedTopics,
    IOptions<Safety.SafetyOptions> safety,
    ModelCatalog catalog,
    ModelRouter router,
    PromptBuilder prompts,
    TokenCounter tokens,
    IOptions<LlmOptions> llmOptions,
    TimeProvider clock,
    ILogger<TurnPipeline> logger) : ITurnProcessor
{
    public const string SuspendedText = "Your access to ChatBot is suspended. If you think this is a mistake, contact your administrator.";

    public const string ApologyText = "Sorry — I couldn't reach the language model just now, so I can't answer. Please try again in a minute.";

    public const string GaveUpText = "Sorry — something went wrong while I was answering your message, and I have stopped trying. Please send it again.";

    public async Task ProcessAsync(InboxItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var turn = TurnInbox.Deserialize(item);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["TurnId"] = item.Id, ["Channel"] = turn.Channel });
        var started = clock.GetUtcNow();
        await using var reply = replyChannels.Open(turn, item.Id);

        var directory = channelDirectories.LastOrDefault(d => d.Channel == turn.Channel);
        var user = await users.ResolveAsync(turn.Channel, turn.TenantId, turn.User, cancellationToken,
            directory is null ? null : ct => directory.DescribeAsync(turn, ct));
        if (user.IsSuspended)
        {
            await reply.CompleteAsync(Notice(SuspendedText), cancellationToken);
            await audit.WriteAsync(user.DisplayName, user.Id, "turn.refused.suspended", "turn", item.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), new { turn.Channel }, cancellationToken);
            return;
        }

        if (turn.Kind == TurnKind.Feedback)
        {
            await RecordFeedbackAsync(turn, user, cancellationToken);
            return;
        }

        var conversation = await conversations.GetOrCreateAsync(turn, user, cancellationToken);
        if (conversation.Kind == ConversationKind.Personal && conversation.OwnerUserId is { } owner && owner != user.Id)
        {
            // A personal conversation id that belongs to someone else (a guessed or leaked web conversation id).
            await reply.FailAsync("That conversation does not exist.", cancellationToken);
            return;
        }

        var context = new TurnContext(item.Id, turn, user, conversation, reply, started, item.Attempts);
        Log.TurnStarted(logger, item.Id, turn.Channel, item.Attempts);

        if (turn.Attachments.Count > 0)
        {
            await reply.CompleteAsync(Notice(await fileIntake.TakeAsync(turn, user, conversation, cancellationToken)), cancellationToken);
            return;
        }

        if (ChatCommands.Parse(turn.Text) is { } command)
        {
            await RunCommandAsync(context, command, cancellationToken);
            return;
        }

        if (context.IsRetry && await TryRedeliverAsync(context, cancellationToken))
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(turn.Text))
        {
            await reply.CompleteAsync(Notice("Ask me a question and I'll look it up in your company's knowledge. Send **help** to see what else I can do."), cancellationToken);
            return;
        }

        if (turn.Text.Length > Adapters.Web.WebChatEndpoints.MaxMessageLength)
        {
            // Teams and Slack allow far longer messages; the web chat and API refuse them before they are stored.
            await reply.CompleteAsync(Notice($"Your message is too long for me ({turn.Text.Length:N0} characters; the limit is {Adapters.Web.WebChatEndpoints.MaxMessageLength:N0}). Please shorten it or send the text as a file."), cancellationToken);
            return;
        }

        await AnswerAsync(context, cancellationToken);
    }

    public async Task GiveUpAsync(InboxItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var turn = TurnInbox.Deserialize(item);
        await using var reply = replyChannels.Open(turn, item.Id);
        await reply.FailAsync(GaveUpText, cancellationToken);
    }

    private static FinalReply Notice(string text, params ReplyAction[] actions) => new(text, ReplyKind.Notice, [], actions);

    private async Task RefuseAsync(TurnContext context, QuotaRefusal refusal, CancellationToken cancellationToken)
    {
        await context.Reply.CompleteAsync(Notice(refusal.Message), cancellationToken);
        await usage.RecordAsync(
            new TurnUsage(context.User.Id, context.Conversation.Channel, context.Conversation.Id, "none", 0, 0, 0, ElapsedMs(context), null, ChatData.Usage.UsageOutcome.Refused),
            null,
            cancellationToken);
        Log.Refused(logger, context.TurnId, refusal.Limit);
        await webhooks.PublishAsync(ChatData.Webhooks.WebhookEvents.QuotaExhausted, new { userId = context.User.Id, limit = refusal.Limit, resetsAt = refusal.ResetsAt, channel = context.Turn.Channel.ToString() }, cancellationToken);
    }

    /// <summary>A retried turn whose answer was already written: send it (if it never reached the channel) instead of answering twice.</summary>
    private async Task<bool> TryRedeliverAsync(TurnContext context, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var answer = await db.Messages.SingleOrDefaultAsync(m => m.InboxItemId == context.TurnId && m.Role == MessageRole.Assistant, cancellationToken);
        if (answer is null)
        {
            return false;
        }

        if (answer.DeliveredAt is null)
        {
            var citations = CitationJson.Read(answer.CitationsJson);
            var externalId = await context.Reply.CompleteAsync(new FinalReply(answer.Content, ReplyKind.Answer, citations, [], answer.Id, answer.Model), cancellationToken);
            await using var marking = await contexts.CreateDbContextAsync(cancellationToken);
            await new Delivery(answer.Id, externalId, clock.GetUtcNow().UtcDateTime).WriteAsync(marking, cancellationToken);
        }

        return true;
    }

    /// <summary>An answer the channel received: when, and the channel's id for it (for feedback and edits).</summary>
    private sealed record Delivery(long MessageId, string? ExternalId, DateTime At)
    {
        public async Task WriteAsync(ChatDbContext db, CancellationToken cancellationToken) =>
            await db.Messages.Where(m => m.Id == MessageId)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeliveredAt, At).SetProperty(m => m.ExternalMessageId, ExternalId), cancellationToken);
    }

    private async Task RecordFeedbackAsync(InboundTurn turn, User user, CancellationToken cancellationToken)
    {
        if (turn.Feedback is not { } feedback)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rating = Math.Sign(feedback.Rating);
        var comment = feedback.Comment is { Length: > 2000 } tooLong ? tooLong[..2000] : feedback.Comment;
        long? ourId = long.TryParse(feedback.MessageId, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
        var channel = (Channel)turn.Channel;
        // Only an answer in the conversation the feedback came from, and in a personal conversation only its owner's.
        var answers = db.Messages
            .Where(m => m.Role == MessageRole.Assistant
                && m.Conversation!.Channel == channel
                && m.Conversation.TenantId == turn.TenantId
                && m.Conversation.ExternalId == turn.Conversation.Id
                && (m.Conversation.OwnerUserId == null || m.Conversation.OwnerUserId == user.Id)
                && (m.ExternalMessageId == feedback.MessageId || m.Id == ourId));
        var rated = rating < 0 ? await answers.Select(m => new { m.Id, m.ConversationId }).ToListAsync(cancellationToken) : [];
        var updated = await answers.ExecuteUpdateAsync(s => s.SetProperty(m => m.Feedback, rating).SetProperty(m => m.FeedbackComment, comment), cancellationToken);
        Log.FeedbackRecorded(logger, updated, rating, user.Id);
        foreach (var answer in rated)
        {
            // Which answer and who; never the comment or the answer's text.
            await webhooks.PublishAsync(ChatData.Webhooks.WebhookEvents.FeedbackNegative, new { messageId = answer.Id, conversationId = answer.ConversationId, userId = user.Id, channel = turn.Channel.ToString(), hasComment = comment is not null }, cancellationToken);
        }
    }

    private int ElapsedMs(TurnContext context) => (int)(clock.GetUtcNow() - context.StartedAt).TotalMilliseconds;

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Turn {TurnId} refused: blocked topic #{Topic}")]
        public static partial void TopicRefused(ILogger logger, long turnId, int topic);

        [LoggerMessage(EventId = 521, Level = LogLevel.Warning, Message = "Turn {TurnId}: {Model}'s content filter withheld (part of) the answer")]
        public static partial void ContentFiltered(ILogger logger, long turnId, string model);

        [LoggerMessage(EventId = 500, Level = LogLevel.Debug, Message = "Turn {TurnId} from {Channel} started (attempt {Attempt})")]
        public static partial void TurnStarted(ILogger logger, long turnId, ChannelKind channel, int attempt);

        [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Turn {TurnId} refused: {Limit} limit reached")]
        public static partial void Refused(ILogger logger, long turnId, string limit);

        [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "Turn {TurnId} answered by {Model} in {LatencyMs} ms (first words after {FirstTokenMs} ms, {InputTokens} in / {OutputTokens} out)")]
        public static partial void Answered(ILogger logger, long turnId, string model, int latencyMs, int? firstTokenMs, long inputTokens, long outputTokens);

        [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Turn {TurnId} could not be answered: every model failed ({Failures})")]
        public static partial void AllModelsFailed(ILogger logger, long turnId, string failures);

        [LoggerMessage(EventId = 504, Level = LogLevel.Information, Message = "Recorded feedback {Rating} from user {UserId} on {Count} message(s)")]
        public static partial void FeedbackRecorded(ILogger logger, int count, int rating, Guid userId);
    }
}
