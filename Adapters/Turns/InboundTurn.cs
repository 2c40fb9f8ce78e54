namespace ChatBot.Adapters.Turns;

/// <summary>Where a turn came from.</summary>
public enum ChannelKind
{
    Web = 0,
    Teams = 1,
    Slack = 2,
    Api = 3,
}

public enum ConversationType
{
    /// <summary>A 1:1 chat with the bot (Teams personal chat, Slack DM or assistant pane, the web chat).</summary>
    Personal = 0,

    /// <summary>A group chat: others read the answer.</summary>
    Group = 1,

    /// <summary>A Teams channel or Slack channel: others read the answer.</summary>
    Channel = 2,
}

public enum TurnKind
{
    /// <summary>The user said something.</summary>
    Message = 0,

    /// <summary>The user rated an answer (thumbs up/down, optional comment).</summary>
    Feedback = 1,
}

/// <summary>
/// One thing a user did in a channel, channel-neutral. Adapters build it after verifying the request;
/// the pipeline never sees channel JSON. Stored in the inbox as JSON before the channel is acknowledged.
/// </summary>
public sealed record InboundTurn
{
    public required ChannelKind Channel { get; init; }

    /// <summary>The channel's id for this event (Slack event_id, Teams activity id, web client message id). Duplicates stop at the inbox.</summary>
    public required string EventId { get; init; }

    public TurnKind Kind { get; init; } = TurnKind.Message;

    /// <summary>Teams tenant id, Slack team id, "local" for the web chat.</summary>
    public required string TenantId { get; init; }

    public required ConversationReference Conversation { get; init; }

    public required UserReference User { get; init; }

    /// <summary>What the user wrote, with the bot's @mention removed.</summary>
    public string Text { get; init; } = "";

    public IReadOnlyList<TurnAttachment> Attachments { get; init; } = [];

    /// <summary>The model the user picked (web chat, API); null for the default.</summary>
    public string? RequestedModel { get; init; }

    /// <summary>For <see cref="TurnKind.Feedback"/>: the rated answer and the rating.</summary>
    public FeedbackReference? Feedback { get; init; }

    /// <summary>
    /// What the adapter needs to answer (Teams serviceUrl and activity id, Slack channel and thread_ts…),
    /// opaque to the pipeline and handed back to the adapter's reply writer.
    /// </summary>
    public IReadOnlyDictionary<string, string> ReplyAddress { get; init; } = new Dictionary<string, string>();

    public DateTime ReceivedAt { get; init; }

    /// <summary>Turns with the same key run one at a time, in arrival order.</summary>
    public string OrderingKey => $"{Channel}:{TenantId}:{Conversation.Id}:{Conversation.ThreadId}";
}

/// <param name="Id">Teams conversation id, Slack channel id, or the web conversation id.</param>
/// <param name="ThreadId">Teams reply-chain root or Slack thread_ts; "" when not in a thread.</param>
/// <param name="Type">Personal, group or channel: decides what knowledge may be used in the answer.</param>
/// <param name="TeamOrChannelIds">Teams team / channel ids or the Slack channel id: scopes for channel documents; "group:/// <param name="TeamOrChannelIds">Teams team / channel ids or the Slack channel id: scopes for channel documents.</param>lt;id/// <param name="TeamOrChannelIds">Teams team / channel ids or the Slack channel id: scopes for channel documents.</param>gt;" for the Microsoft 365 group behind a Teams team.</param>
public sealed record ConversationReference(
    string Id,
    string ThreadId,
    ConversationType Type,
    IReadOnlyList<string>? TeamOrChannelIds = null,
    string? Name = null);

/// <param name="Id">AAD object id, Slack user id, or the web user's id.</param>
public sealed record UserReference(string Id, string DisplayName, string? Email = null);

/// <summary>A file the user attached; the adapter says how to fetch it.</summary>
public sealed record TurnAttachment(string Name, string ContentType, long? Size, string DownloadUrl);

/// <param name="MessageId">The channel's id of the rated answer (or the web/API message id).</param>
/// <param name="Rating">1 thumbs up, -1 thumbs down.</param>
public sealed record FeedbackReference(string MessageId, int Rating, string? Comment = null);
