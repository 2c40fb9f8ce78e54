namespace ChatBot.Adapters.Turns;

/// <summary>Fetches a file a user attached in a channel (each channel has its own way: a pre-authorised URL, a bot token…).</summary>
public interface IAttachmentDownloader
{
    ChannelKind Channel { get; }

    /// <summary>The file's bytes, at most <paramref name="maxBytes"/>; throws <see cref="AttachmentRefusedException"/> with a reason for the user.</summary>
    /// <param name="turn">The turn the file came with (which workspace's credentials to use).</param>
    Task<Stream> DownloadAsync(InboundTurn turn, TurnAttachment attachment, long maxBytes, CancellationToken cancellationToken);
}

/// <summary>A file that cannot be taken; the message is safe to show to the user.</summary>
public sealed class AttachmentRefusedException : Exception
{
    public AttachmentRefusedException(string message)
        : base(message)
    {
    }

    public AttachmentRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public AttachmentRefusedException()
    {
    }
}

/// <summary>
/// Tells what a channel did not send with the turn, such as a Teams user's email (asked from the connector), so
/// identities can be linked at first contact. Called only for people the bot has not met yet.
/// </summary>
public interface IChannelUserDirectory
{
    ChannelKind Channel { get; }

    Task<UserReference?> DescribeAsync(InboundTurn turn, CancellationToken cancellationToken);
}

/// <param name="Address">The adapter's reply address (opaque), used for messages the bot starts later.</param>
public sealed record ChannelInstallation(
    ChannelKind Channel,
    string TenantId,
    string ConversationId,
    ConversationType Type,
    IReadOnlyDictionary<string, string> Address,
    string? TeamId = null,
    string? TeamName = null,
    string? TeamGroupId = null);

/// <summary>Where adapters keep track of where the bot is installed and which threads it takes part in.</summary>
public interface IChannelInstallations
{
    /// <summary>Records an installation; true when it is new or was inactive (so a welcome is due).</summary>
    Task<bool> InstalledAsync(ChannelInstallation installation, CancellationToken cancellationToken);

    /// <summary>The bot was removed: the reference is kept but no longer used.</summary>
    Task RemovedAsync(ChannelKind channel, string tenantId, string conversationId, CancellationToken cancellationToken);

    /// <summary>The active installation with this key, or null (never installed, or removed).</summary>
    Task<ChannelInstallation?> FindAsync(ChannelKind channel, string tenantId, string conversationId, CancellationToken cancellationToken);

    /// <summary>The active installation under the first of these keys that has one (one lookup for all), or null.</summary>
    Task<ChannelInstallation?> FindFirstAsync(ChannelKind channel, string tenantId, IReadOnlyList<string> conversationIds, CancellationToken cancellationToken);

    /// <summary>An active team installation by the team's name (a knowledge owner's "for team X").</summary>
    Task<ChannelInstallation?> FindTeamAsync(ChannelKind channel, string tenantId, string teamName, CancellationToken cancellationToken);

    /// <summary>Whether this installation was removed (the bot uninstalled or its tokens revoked) and not added again.</summary>
    Task<bool> IsRemovedAsync(ChannelKind channel, string tenantId, string conversationId, CancellationToken cancellationToken);

    /// <summary>Whether the bot has already taken part in this conversation thread.</summary>
    Task<bool> InThreadAsync(ChannelKind channel, string tenantId, string conversationId, string threadId, CancellationToken cancellationToken);
}

/// <summary>A person's usage against their quota as Markdown, for channels that show it on their own pages (Slack's App Home).</summary>
public interface IUserUsageReport
{
    /// <param name="turn">Who is asking, as a channel knows them (only the channel, tenant and user are used).</param>
    Task<string> TextAsync(InboundTurn turn, CancellationToken cancellationToken);
}

/// <summary>
/// What the channel shows around a message that the bot has not seen itself: the earlier messages of a thread it was
/// called into, the channel the person is looking at. Given to the model as data with the question.
/// </summary>
public interface IChannelContext
{
    ChannelKind Channel { get; }

    /// <returns>Plain text (at most a few thousand characters), or null when there is nothing to add.</returns>
    Task<string?> DescribeAsync(InboundTurn turn, CancellationToken cancellationToken);
}

/// <summary>
/// Random, single-use, expiring tokens kept by the host (an OAuth <c>state</c>): issued once, accepted once, by any
/// host process sharing the database.
/// </summary>
public interface ISingleUseTokens
{
    Task<string> IssueAsync(string purpose, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>True exactly once for a token issued for <paramref name="purpose"/> that has not expired.</summary>
    Task<bool> ConsumeAsync(string purpose, string token, CancellationToken cancellationToken);
}
