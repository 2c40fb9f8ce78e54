namespace ChatBot.ChatData.Audit;

/// <summary>Who did what to what, and when. Written for every administrative change and security event.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTime At { get; set; }

    public Guid? ActorUserId { get; set; }

    /// <summary>A readable actor: a user name, "system", or a channel.</summary>
    public required string Actor { get; set; }

    public required string Action { get; set; }

    public string? TargetType { get; set; }

    public string? TargetId { get; set; }

    /// <summary>Small JSON with the details; never secrets or message text.</summary>
    public string? Details { get; set; }

    public string? IpAddress { get; set; }
}
