using ChatBot.ChatData.Conversations;

namespace ChatBot.ChatData.Users;

/// <summary>
/// How a channel knows a user. Teams: tenant id + AAD object id. Slack: team id + user id.
/// Web: issuer ("local" or the OIDC issuer) + subject.
/// </summary>
public sealed class ChannelIdentity
{
    public long Id { get; set; }

    public Guid UserId { get; set; }

    public User? User { get; set; }

    public Channel Channel { get; set; }

    /// <summary>Teams tenant id, Slack team id, or the web issuer.</summary>
    public required string TenantId { get; set; }

    /// <summary>AAD object id, Slack user id, or the web subject.</summary>
    public required string ExternalUserId { get; set; }

    public string? DisplayName { get; set; }

    public string? Email { get; set; }

    public DateTime CreatedAt { get; set; }
}
