using ChatBot.ChatData.Users;

namespace ChatBot.ChatData.Usage;

/// <summary>Limits for everyone in a role; null means unlimited. Users may override them.</summary>
public sealed class RoleQuota
{
    public UserRole Role { get; set; }

    public long? DailyTokens { get; set; }

    public long? MonthlyTokens { get; set; }

    public int? MessagesPerMinute { get; set; }
}
