namespace ChatBot.ChatData.Conversations;

/// <summary>
/// Where the bot was added (a Teams personal chat, group chat or team; a Slack workspace or channel): the reference the
/// bot needs to start a conversation on its own later. Removing the bot deactivates it; adding it again reactivates it.
/// </summary>
public sealed class BotInstallation
{
    public long Id { get; set; }

    public Channel Channel { get; set; }

    /// <summary>Teams tenant id or Slack team id.</summary>
    public required string TenantId { get; set; }

    /// <summary>The conversation the bot was added to (for a team: the channel Teams named).</summary>
    public required string ConversationId { get; set; }

    public ConversationKind Kind { get; set; }

    /// <summary>Teams team id, when added to a team.</summary>
    public string? TeamId { get; set; }

    public string? TeamName { get; set; }

    /// <summary>The Microsoft 365 group behind the team (its documents' ACLs name it).</summary>
    public string? TeamGroupId { get; set; }

    /// <summary>The adapter's reply address (service URL, bot id…) as JSON, opaque to everything else.</summary>
    public required string AddressJson { get; set; }

    public bool IsActive { get; set; }

    public DateTime InstalledAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? RemovedAt { get; set; }
}
