using System.Text.RegularExpressions;
using ChatBot.Adapters.Turns;
using ChatBot.BotHost.Models;
using ChatBot.BotHost.Quotas;
using ChatBot.BotHost.Usage;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Database;
using ChatBot.ChatData.Usage;
using ChatBot.KnowledgeIngest.Retrieval;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Pipeline;

internal sealed partial class TurnPipeline
{
    private const string ExtractiveModelId = "extractive";
    private const int HistoryMessagesRead = 60;
    private const int TitleLength = 80;

    private async Task AnswerAsync(TurnContext context, CancellationToken cancellationToken)
    {
        var (turn, user, conversation, reply) = (context.Turn, context.User, context.Conversation, context.Reply);
        var chain = catalog.IsExtractive ? [] : catalog.ChainFor(user.Role, turn.RequestedModel);
        if (!catalog.IsExtractive && chain.Count == 0)
        {
            await reply.CompleteAsync(Notice("No language model is available to your role. Ask your administrator for access."), cancellationToken);
            return;
        }

        if (blockedTopics.Find(turn.Text) is { } topic)
        {
            await RefuseTopicAsync(context, topic, cancellationToken);
            return;
        }

        await reply.SetStatusAsync("Searching the knowledge base…", cancellationToken);
        var mask = safety.Value.MaskPii;
        // What people wrote goes to the model (and the embedding model) with personal data masked.
        var question = mask ? Safety.PiiMasker.Mask(turn.Text) : turn.Text;
        var limits = await quotas.LimitsAsync(user, cancellationToken);
        var history = chain.Count == 0 ? [] : await LoadHistoryAsync(conversation.Id, context.TurnId, mask, cancellationToken);
        // What the channel shows around the question (earlier messages of a thread): only a model can use it.
        var channelContext = chain.Count == 0 ? null : channelContexts.LastOrDefault(c => c.Channel == turn.Channel)?.DescribeAsync(turn, cancellationToken);
        IReadOnlyList<RetrievedPassage> passages;
        using (var retrieval = Telemetry.ChatBotMetrics.Activities.StartActivity("chatbot.retrieve"))
        {
            passages = await retriever.RetrieveAsync(
                new RetrievalRequest(
                    question,
                    user.Id,
                    user.Email,
                    conversation.Id,
                    IsSharedConversation: turn.Conversation.Type != ConversationType.Personal,
                    turn.Conversation.TeamOrChannelIds ?? [],
                    llmOptions.Value.RetrievalTop),
                cancellationToken);
            retrieval?.SetTag("chatbot.passages", passages.Count);
        }

        var questionTokens = tokens.Count(turn.Text);

        if (chain.Count == 0)
        {
            await AnswerExtractivelyAsync(context, limits, passages, questionTokens, cancellationToken);
            return;
        }

        var chat = channelContext is null ? null : await channelContext;
        var (messages, promptTokens) = prompts.Build(chain[0], question, passages, history, mask && chat is not null ? Safety.PiiMasker.Mask(chat) : chat);
        var reservation = new TokenReservation(clock.GetUtcNow().UtcDateTime, promptTokens + chain[0].MaxOutputTokens);
        if (await quotas.TryAdmitAsync(user, limits, reservation.Tokens, (db, ct) => SaveUserMessageAsync(db, context, questionTokens, ct), cancellationToken) is { } refusal)
        {
            await RefuseAsync(context, refusal, cancellationToken);
            return;
        }

        GenerationResult result;
        try
        {
            using var generation = Telemetry.ChatBotMetrics.Activities.StartActivity("chatbot.generate");
            result = await router.GenerateAsync(chain, messages, (text, ct) => reply.AppendAsync(text, ct), cancellationToken, reply.UserStopped);
            generation?.SetTag("chatbot.model", result.Model?.Id);
        }
        catch
        {
            await quotas.ReleaseAsync(user.Id, reservation, CancellationToken.None);
            throw;
        }

        if (result.Model is null)
        {
            await reply.FailAsync(ApologyText, cancellationToken);
            await usage.RecordAsync(
                new TurnUsage(user.Id, conversation.Channel, conversation.Id, chain[0].Id, 0, 0, 0, ElapsedMs(context), null, UsageOutcome.Failed),
                reservation,
                cancellationToken);
            Log.AllModelsFailed(logger, context.TurnId, string.Join(", ", result.Failures.Select(f => $"{f.ModelId}: {f.Kind}")));
            return;
        }

        var inputTokens = result.InputTokens ?? promptTokens;
        var outputTokens = result.OutputTokens ?? tokens.Count(result.Text);

        var text = result.Interrupted
            ? result.Text + "\n\n_(The answer was cut off: the language model stopped responding.)_"
            : result.Text;
        if (result.ContentFiltered)
        {
            // The provider's filter withheld (part of) the answer: say so, and flag the stored answer.
            var note = "_(The language model's content filter withheld " + (text.Length == 0 ? "this answer" : "the rest of this answer") + ".)_";
            text = text.Length == 0 ? note : text + "\n\n" + note;
            if (result.Text.Length == 0)
            {
                await reply.AppendAsync(note, cancellationToken);
            }

            Log.ContentFiltered(logger, context.TurnId, result.Model.Id);
        }
        var citations = CitedSources(text, passages);
        var firstTokenMs = result.FirstTokenAt is { } first ? (int)(first - context.StartedAt).TotalMilliseconds : (int?)null;
        var delivered = await FinishAnswerAsync(context, text, citations, result.Model.Id, (int)Math.Min(int.MaxValue, outputTokens), firstTokenMs, cancellationToken, result.ContentFiltered);

        var latency = ElapsedMs(context);
        await usage.RecordAsync(
            new TurnUsage(user.Id, conversation.Channel, conversation.Id, result.Model.Id, inputTokens, outputTokens,
                result.Model.CostMicroUsd(inputTokens, outputTokens), latency, firstTokenMs,
                result.Interrupted ? UsageOutcome.Failed : UsageOutcome.Answered),
            reservation,
            delivered.WriteAsync,
            cancellationToken);
        Log.Answered(logger, context.TurnId, result.Model.Id, latency, firstTokenMs, inputTokens, outputTokens);
    }

    private async Task AnswerExtractivelyAsync(TurnContext context, QuotaLimits limits, IReadOnlyList<RetrievedPassage> passages, int questionTokens, CancellationToken cancellationToken)
    {
        var (text, cited) = ExtractiveAnswer.Compose(context.Turn.Text, passages);
        var outputTokens = tokens.Count(text);
        // The extractive answer is known before it is sent, so the reservation is already the exact usage.
        if (await quotas.TryAdmitAsync(context.User, limits, questionTokens + outputTokens, (db, ct) => SaveUserMessageAsync(db, context, questionTokens, ct), cancellationToken) is { } refusal)
        {
            await RefuseAsync(context, refusal, cancellationToken);
            return;
        }

        await context.Reply.AppendAsync(text, cancellationToken);
        var firstTokenMs = ElapsedMs(context);
        var citations = cited.Select((p, i) => ToCitation(i + 1, p)).ToList();
        var delivered = await FinishAnswerAsync(context, text, citations, ExtractiveModelId, outputTokens, firstTokenMs, cancellationToken);
        await usage.RecordAsync(
            new TurnUsage(context.User.Id, context.Conversation.Channel, context.Conversation.Id, ExtractiveModelId, questionTokens, outputTokens, 0, ElapsedMs(context), firstTokenMs, UsageOutcome.Answered),
            null,
            delivered.WriteAsync,
            cancellationToken);
        Log.Answered(logger, context.TurnId, ExtractiveModelId, firstTokenMs, firstTokenMs, questionTokens, outputTokens);
    }

    /// <summary>
    /// Stores the answer, then sends the final message. The returned delivery mark is written with the turn's usage, in
    /// one transaction: a retry re-sends only what never arrived.
    /// </summary>
    private async Task<Delivery> FinishAnswerAsync(TurnContext context, string text, List<Citation> citations, string model, int outputTokens, int? firstTokenMs, CancellationToken cancellationToken, bool contentFiltered = false)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var message = new Message
        {
            ConversationId = context.Conversation.Id,
            Role = MessageRole.Assistant,
            Content = text,
            Tokens = outputTokens,
            Model = model,
            LatencyMs = ElapsedMs(context),
            TimeToFirstTokenMs = firstTokenMs,
            CitationsJson = citations.Count == 0 ? null : CitationJson.Write(citations),
            InboxItemId = context.TurnId,
            ContentFiltered = contentFiltered,
            CreatedAt = now,
        };
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            // One SaveChanges: the answer and the conversation's "last active" time.
            db.Messages.Add(message);
            var conversation = new Conversation { Id = context.Conversation.Id, ExternalId = context.Conversation.ExternalId };
            db.Conversations.Attach(conversation);
            conversation.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        var externalId = await context.Reply.CompleteAsync(new FinalReply(text, ReplyKind.Answer, citations, [], message.Id, model), cancellationToken);
        return new Delivery(message.Id, externalId, clock.GetUtcNow().UtcDateTime);
    }

    /// <summary>Stores the question, in the admission's transaction.</summary>
    private async Task SaveUserMessageAsync(ChatDbContext db, TurnContext context, int questionTokens, CancellationToken cancellationToken)
    {
        if (context.IsRetry && await db.Messages.AnyAsync(m => m.InboxItemId == context.TurnId && m.Role == MessageRole.User, cancellationToken))
        {
            return; // a retried turn
        }

        var now = clock.GetUtcNow().UtcDateTime;
        db.Messages.Add(new Message
        {
            ConversationId = context.Conversation.Id,
            UserId = context.User.Id,
            Role = MessageRole.User,
            Content = context.Turn.Text,
            Tokens = questionTokens,
            InboxItemId = context.TurnId,
            CreatedAt = now,
        });
        if (context.Conversation.Title is null)
        {
            var title = context.Turn.Text.ReplaceLineEndings(" ").Trim();
            title = title.Length <= TitleLength ? title : title[..(TitleLength - 1)] + "…";
            await db.Conversations.Where(c => c.Id == context.Conversation.Id && c.Title == null)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Title, title), cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The conversation's earlier messages, newest first, without this turn's own.</summary>
    private async Task<List<HistoryMessage>> LoadHistoryAsync(Guid conversationId, long turnId, bool maskPeople, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Messages.AsNoTracking()
            .Where(m => m.ConversationId == conversationId && m.Role != MessageRole.System && m.InboxItemId != turnId)
            .OrderByDescending(m => m.Id)
            .Take(HistoryMessagesRead)
            .Select(m => new { m.Role, m.Content, m.Tokens })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new HistoryMessage(
            r.Role == MessageRole.User,
            maskPeople && r.Role == MessageRole.User ? Safety.PiiMasker.Mask(r.Content) : r.Content,
            r.Tokens > 0 ? r.Tokens : tokens.Count(r.Content)))];
    }

    /// <summary>A question on a blocked topic: the configured polite refusal, no retrieval, no model; recorded as refused.</summary>
    private async Task RefuseTopicAsync(TurnContext context, int topic, CancellationToken cancellationToken)
    {
        await context.Reply.CompleteAsync(Notice(safety.Value.BlockedTopicReply), cancellationToken);
        await usage.RecordAsync(
            new TurnUsage(context.User.Id, context.Conversation.Channel, context.Conversation.Id, "none", 0, 0, 0, ElapsedMs(context), null, UsageOutcome.Refused),
            null,
            cancellationToken);
        await audit.WriteAsync(context.User.DisplayName, context.User.Id, "turn.refused.topic", "turn", context.TurnId.ToString(System.Globalization.CultureInfo.InvariantCulture), new { topic }, cancellationToken);
        Log.TopicRefused(logger, context.TurnId, topic);
    }

    /// <summary>The sources the answer actually cites ([n] in its text), numbered as in the prompt.</summary>
    private static List<Citation> CitedSources(string text, IReadOnlyList<RetrievedPassage> passages)
    {
        var numbers = CitationMarker().Matches(text)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Where(n => n >= 1 && n <= passages.Count)
            .Distinct()
            .Order();
        return [.. numbers.Select(n => ToCitation(n, passages[n - 1]))];
    }

    private static Citation ToCitation(int number, RetrievedPassage passage)
    {
        var snippet = passage.Text.ReplaceLineEndings(" ").Trim();
        return new Citation(number, passage.Title, passage.Url, snippet.Length <= 300 ? snippet : snippet[..299] + "…", passage.Page, passage.Section);
    }

    [GeneratedRegex(@"\[(\d{1,2})\]")]
    private static partial Regex CitationMarker();
}
