using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Knowledge;
using ChatBot.KnowledgeIngest.Ingestion;

namespace ChatBot.BotHost.Knowledge;

/// <summary>
/// When a document's indexing ends: the document.indexed / document.failed webhooks, and a notice to the person who
/// dropped the file into a chat, in the conversation it came from (the document's <see cref="Document.NotifyReference"/>,
/// made with <see cref="NoticeAddress"/>).
/// </summary>
internal sealed partial class ChannelIngestionNotifier(
    IEnumerable<INoticeChannel> channels,
    ChatData.Webhooks.IWebhookPublisher webhooks,
    ILogger<ChannelIngestionNotifier> logger) : IIngestionNotifier
{
    public async Task DocumentFinishedAsync(Document document, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        await webhooks.PublishAsync(
            document.Status == DocumentStatus.Ready ? ChatData.Webhooks.WebhookEvents.DocumentIndexed : ChatData.Webhooks.WebhookEvents.DocumentFailed,
            new
            {
                documentId = document.Id, document.Title, source = document.Source.ToString(), scope = document.Scope.ToString(),
                status = document.Status.ToString(), document.ChunkCount, document.Version, document.FailureReason,
            },
            cancellationToken);
        if (!NoticeAddress.TryParse(document.NotifyReference, out var kind, out var address))
        {
            return;
        }

        // The last registration wins, as everywhere in dependency injection.
        var channel = channels.LastOrDefault(c => c.Channel == kind);
        if (channel is null)
        {
            Log.NoChannel(logger, document.Id, kind);
            return;
        }

        await channel.SendNoticeAsync(address, Text(document), cancellationToken);
    }

    internal static string Text(Document document) => document.Status == DocumentStatus.Ready
        ? $"“{document.Title}” is in the knowledge base now ({document.ChunkCount} passage{(document.ChunkCount == 1 ? "" : "s")}). Ask me about it."
        : $"“{document.Title}” could not be added to the knowledge base: {document.FailureReason}";

    private static partial class Log
    {
        [LoggerMessage(EventId = 4601, Level = LogLevel.Warning, Message = "Document {DocumentId}: no {Channel} adapter can send the indexing notice")]
        public static partial void NoChannel(ILogger logger, Guid documentId, ChannelKind channel);
    }
}
