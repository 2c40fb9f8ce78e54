using System.Text;
using System.Text.RegularExpressions;
using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Knowledge;
using ChatBot.ChatData.Users;
using ChatBot.KnowledgeIngest;
using ChatBot.KnowledgeIngest.Extraction;
using ChatBot.KnowledgeIngest.Ingestion;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Knowledge;

/// <summary>
/// Files dropped into a chat. From a knowledge owner (or admin) they join the knowledge base: for one team when the
/// message says "for team &lt;name&gt;", for the channel when shared in one, else for the whole organisation; from
/// anyone else they are read for that conversation only. Unsupported or oversized files are refused before anything is stored. The uploader is told
/// in the same conversation when indexing ends.
/// </summary>
internal sealed partial class ChatFileIntake(
    IEnumerable<IAttachmentDownloader> downloaders,
    DocumentIntake intake,
    IChannelInstallations installations,
    IOptions<KnowledgeOptions> options,
    ILogger<ChatFileIntake> logger)
{
    public async Task<string> TakeAsync(InboundTurn turn, User user, Conversation conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(conversation);
        var downloader = downloaders.FirstOrDefault(d => d.Channel == turn.Channel);
        var (scope, scopeKey, audience) = await ScopeAsync(turn, user, conversation, cancellationToken);
        var reply = new StringBuilder();
        foreach (var file in turn.Attachments)
        {
            reply.AppendLine(await TakeOneAsync(turn, user, file, downloader, scope, scopeKey, audience, cancellationToken));
        }

        return reply.ToString().TrimEnd();
    }

    private async Task<string> TakeOneAsync(InboundTurn turn, User user, TurnAttachment file, IAttachmentDownloader? downloader, DocumentScope scope, string? scopeKey, string audience, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(file.Name);
        if (!DocumentFormats.TryDetect(name, null, out _, out var contentType))
        {
            return $"I can't read “{name}”: that file type is not supported. Supported: {DocumentFormats.SupportedExtensions}.";
        }

        if (downloader is null)
        {
            return $"I can't take files in this channel yet, so “{name}” was not added.";
        }

        try
        {
            await using var content = await downloader.DownloadAsync(turn, file, options.Value.MaxFileBytes, cancellationToken);
            var upload = new DocumentUpload(name, DocumentSource.Chat, scope, scopeKey, ContentType: contentType,
                UploadedByUserId: user.Id, NotifyReference: NoticeAddress.ForTurn(turn));
            var result = await intake.IngestFromChatAsync(content, upload, cancellationToken);
            Log.Taken(logger, result.DocumentId, scope);
            return result.IsUnchanged && result.Status == DocumentStatus.Ready
                ? $"I already have “{name}” ({audience}); nothing changed."
                : $"Got “{name}”. I'm reading it now ({audience}) and will tell you here when it's ready.";
        }
        catch (AttachmentRefusedException ex)
        {
            return ex.Message;
        }
        catch (DocumentRejectedException ex)
        {
            return ex.Message;
        }
    }

    private async Task<(DocumentScope Scope, string? Key, string Audience)> ScopeAsync(InboundTurn turn, User user, Conversation conversation, CancellationToken cancellationToken)
    {
        if (user.Role is not (UserRole.KnowledgeOwner or UserRole.Admin))
        {
            return (DocumentScope.Conversation, conversation.Id.ToString(), "for this conversation only");
        }

        if (ForTeam().Match(turn.Text) is { Success: true } match)
        {
            var teamName = match.Groups["team"].Value.Trim().TrimEnd('.', '!');
            var team = await installations.FindTeamAsync(turn.Channel, turn.TenantId, teamName, cancellationToken);
            if (team?.TeamId is { } teamId)
            {
                return (DocumentScope.Channel, teamId, $"for the team {team.TeamName}");
            }
        }

        if (turn.Conversation.Type == ConversationType.Channel && turn.Conversation.TeamOrChannelIds is [var channel, ..])
        {
            // Shared by its owner in a channel: for the people of that channel.
            return (DocumentScope.Channel, channel, "for the people in this channel");
        }

        return (DocumentScope.Organisation, null, "for everyone in the organisation");
    }

    [GeneratedRegex(@"\bfor (?:the )?team\s+(?<team>.+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ForTeam();

    private static partial class Log
    {
        [LoggerMessage(EventId = 4610, Level = LogLevel.Information, Message = "Took a chat file as document {DocumentId} ({Scope})")]
        public static partial void Taken(ILogger logger, Guid documentId, DocumentScope scope);
    }
}
