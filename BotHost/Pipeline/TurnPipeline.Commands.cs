using System.Globalization;
using System.Text;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Conversations;
using Microsoft.EntityFrameworkCore;

namespace ChatBot.BotHost.Pipeline;

internal sealed partial class TurnPipeline
{
    private async Task RunCommandAsync(TurnContext context, ChatCommand command, CancellationToken cancellationToken)
    {
        var reply = command switch
        {
            ChatCommand.Help => Notice(ChatCommands.HelpText),
            ChatCommand.New => await StartNewConversationAsync(context, cancellationToken),
            ChatCommand.Usage => await UsageReportAsync(context, cancellationToken),
            ChatCommand.Sources => await LastSourcesAsync(context, cancellationToken),
            ChatCommand.Forget => await ForgetPromptAsync(context, cancellationToken),
            ChatCommand.ForgetConfirm => await ForgetAsync(context, cancellationToken),
            _ => Notice(ChatCommands.HelpText),
        };
        await context.Reply.CompleteAsync(reply, cancellationToken);
    }

    private async Task<FinalReply> StartNewConversationAsync(TurnContext context, CancellationToken cancellationToken)
    {
        await conversations.StartNewAsync(context.Turn, context.User, context.Conversation, cancellationToken);
        return Notice("Started a new conversation. I won't use what was said before — ask away.");
    }

    private async Task<FinalReply> UsageReportAsync(TurnContext context, CancellationToken cancellationToken) =>
        Notice(await usageReport.TextAsync(context.User, cancellationToken));

    private async Task<FinalReply> LastSourcesAsync(TurnContext context, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var last = await db.Messages.AsNoTracking()
            .Where(m => m.ConversationId == context.Conversation.Id && m.Role == MessageRole.Assistant)
            .OrderByDescending(m => m.Id)
            .Select(m => new { m.CitationsJson })
            .FirstOrDefaultAsync(cancellationToken);
        var citations = CitationJson.Read(last?.CitationsJson);
        if (citations.Count == 0)
        {
            return Notice(last is null ? "I haven't answered anything in this conversation yet." : "My last answer did not cite any sources.");
        }

        var text = new StringBuilder("Sources of my last answer:\n");
        foreach (var c in citations)
        {
            text.Append(CultureInfo.InvariantCulture, $"{c.Number}. ");
            text.Append(c.Url is null ? c.Title : $"[{c.Title}]({c.Url})");
            if (c.Page is { } page)
            {
                text.Append(CultureInfo.InvariantCulture, $", page {page}");
            }

            text.Append('\n');
        }

        return new FinalReply(text.ToString().TrimEnd(), ReplyKind.Notice, citations, []);
    }

    private async Task<FinalReply> ForgetPromptAsync(TurnContext context, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var userId = context.User.Id;
        var conversationCount = await db.Conversations.CountAsync(c => c.OwnerUserId == userId, cancellationToken);
        var messageCount = await db.Messages.CountAsync(m => m.Conversation!.OwnerUserId == userId || m.UserId == userId, cancellationToken);
        return Notice(
            string.Format(
                CultureInfo.InvariantCulture,
                "This deletes your conversation history with me: {0} private conversation(s) and {1} message(s), including your own messages in shared chats. Usage totals stay for billing. Send **{2}** to go ahead.",
                conversationCount,
                messageCount,
                ChatCommands.ForgetConfirmText),
            new ReplyAction("Delete my history", ChatCommands.ForgetConfirmText));
    }

    private async Task<FinalReply> ForgetAsync(TurnContext context, CancellationToken cancellationToken)
    {
        var userId = context.User.Id;
        var deleted = await personalData.ForgetHistoryAsync(userId, cancellationToken);
        await audit.WriteAsync(context.User.DisplayName, userId, "user.history.forgotten", "user", userId.ToString(),
            new { conversations = deleted.Conversations, messages = deleted.Messages, documents = deleted.Documents }, cancellationToken);
        return Notice(string.Format(
            CultureInfo.InvariantCulture,
            "Done: I deleted {0} conversation(s) and {1} message(s){2}. I no longer remember them.",
            deleted.Conversations,
            deleted.Messages,
            deleted.Documents > 0 ? string.Format(CultureInfo.InvariantCulture, ", and {0} file(s) you shared in them", deleted.Documents) : ""));
    }
}
