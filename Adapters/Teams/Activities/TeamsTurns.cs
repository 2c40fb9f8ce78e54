using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatBot.Adapters.Turns;

namespace ChatBot.Adapters.Teams.Activities;

/// <summary>Turns a verified Teams activity into the channel-neutral turn, and back into a reply address.</summary>
internal static partial class TeamsTurns
{
    public const string FileDownloadInfo = "application/vnd.microsoft.teams.file.download.info";

    /// <summary>The keys of <see cref="InboundTurn.ReplyAddress"/> for Teams.</summary>
    public static class Address
    {
        public const string ServiceUrl = "serviceUrl";
        public const string ConversationId = "conversationId";
        public const string ActivityId = "activityId";
        public const string ConversationType = "conversationType";
        public const string BotId = "botId";
        public const string BotName = "botName";
        public const string UserId = "userId";
        public const string TenantId = "tenantId";
    }

    public static ConversationType TypeOf(Activity activity) => activity.Conversation?.ConversationType?.ToLowerInvariant() switch
    {
        "channel" => ConversationType.Channel,
        "groupchat" => ConversationType.Group,
        _ => activity.Conversation?.IsGroup == true ? ConversationType.Group : ConversationType.Personal,
    };

    /// <summary>
    /// The conversation as the pipeline sees it. A channel reply chain (<c>19:…@thread.tacv2;messageid=N</c>) is its own
    /// conversation: the channel id plus the root message id as the thread.
    /// </summary>
    public static ConversationReference ConversationOf(Activity activity)
    {
        var type = TypeOf(activity);
        var id = activity.Conversation!.Id!;
        var thread = "";
        if (type == ConversationType.Channel)
        {
            var marker = id.IndexOf(";messageid=", StringComparison.OrdinalIgnoreCase);
            if (marker >= 0)
            {
                thread = id[(marker + ";messageid=".Length)..];
                id = id[..marker];
            }
            else
            {
                thread = activity.Id ?? "";
            }
        }

        // The team's Microsoft 365 group counts as a scope in its channels: everyone there is a member of it.
        var group = type == ConversationType.Channel && activity.TeamGroupId is { } g ? "group:" + g : null;
        string[] scopes = [.. new[] { activity.TeamId, activity.TeamsChannelId, group }.OfType<string>().Distinct(StringComparer.Ordinal)];
        return new ConversationReference(id, thread, type, scopes.Length == 0 ? null : scopes, activity.Conversation.Name);
    }

    public static UserReference UserOf(Activity activity) =>
        new(activity.From?.AadObjectId is { Length: > 0 } aad ? aad : activity.From?.Id ?? "", activity.From?.Name ?? "");

    public static Dictionary<string, string> AddressOf(Activity activity)
    {
        var address = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Address.ServiceUrl] = activity.ServiceUrl ?? "",
            [Address.ConversationId] = activity.Conversation?.Id ?? "",
            [Address.ConversationType] = TypeOf(activity).ToString(),
            [Address.BotId] = activity.Recipient?.Id ?? "",
            [Address.BotName] = activity.Recipient?.Name ?? "",
            [Address.UserId] = activity.From?.Id ?? "",
            [Address.TenantId] = activity.TenantId ?? "",
        };
        if (activity.Id is { Length: > 0 } id)
        {
            address[Address.ActivityId] = id;
        }

        return address;
    }

    /// <summary>Whether the bot itself is @mentioned (by its account id in a mention entity).</summary>
    public static bool MentionsBot(Activity activity) =>
        activity.Entities?.Any(e => IsMention(e) && (string?)e["mentioned"]?["id"] == activity.Recipient?.Id) == true;

    /// <summary>
    /// The text without the bot's own mention (other people's mentions stay), trimmed. Uses each mention entity's
    /// <c>text</c>, else <c>&lt;at&gt;name&lt;/at&gt;</c>, case-insensitively.
    /// </summary>
    public static string TextWithoutBotMention(Activity activity)
    {
        var text = activity.Text ?? "";
        foreach (var entity in activity.Entities ?? [])
        {
            if (!IsMention(entity) || (string?)entity["mentioned"]?["id"] != activity.Recipient?.Id)
            {
                continue;
            }

            var mentionText = (string?)entity["text"] ?? $"<at>{(string?)entity["mentioned"]?["name"]}</at>";
            text = Regex.Replace(text, Regex.Escape(mentionText), "", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }

        return Whitespace().Replace(text, " ").Trim();
    }

    /// <summary>Files the user attached in a personal chat (the mirrored text/html attachment and inline images are not files).</summary>
    public static List<TurnAttachment> FilesOf(Activity activity)
    {
        var files = new List<TurnAttachment>();
        foreach (var attachment in activity.Attachments ?? [])
        {
            if (!string.Equals(attachment.ContentType, FileDownloadInfo, StringComparison.OrdinalIgnoreCase)
                || (string?)attachment.Content?["downloadUrl"] is not { Length: > 0 } url)
            {
                continue;
            }

            // Teams names no media type: the file's name decides how it is read.
            files.Add(new TurnAttachment(attachment.Name ?? "file", FileDownloadInfo, null, url));
        }

        return files;
    }

    private static bool IsMention(JsonObject entity) => string.Equals((string?)entity["type"], "mention", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"[ \t\r\n\u00a0]+")]
    private static partial Regex Whitespace();
}
