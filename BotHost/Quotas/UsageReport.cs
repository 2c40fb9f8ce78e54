using System.Globalization;
using System.Text;
using ChatBot.Adapters.Turns;
using ChatBot.BotHost.Identity;
using ChatBot.ChatData.Users;

namespace ChatBot.BotHost.Quotas;

/// <summary>
/// A person's token use against their quota, as Markdown: the <c>usage</c> command's answer, and what channels show
/// on their own pages (Slack's App Home).
/// </summary>
internal sealed class UsageReport(QuotaService quotas, UserDirectory users, IEnumerable<IChannelUserDirectory> directories) : IUserUsageReport
{
    public async Task<string> TextAsync(User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var status = await quotas.StatusAsync(user, cancellationToken);
        var text = new StringBuilder("Your usage:\n");
        text.Append(CultureInfo.InvariantCulture, $"- **Today:** {Amount(status.UsedToday, status.Limits.DailyTokens)} — resets at 00:00 UTC\n");
        text.Append(CultureInfo.InvariantCulture, $"- **This month:** {Amount(status.UsedThisMonth, status.Limits.MonthlyTokens)} — resets on {status.MonthResetsAt:d MMMM yyyy}\n");
        if (status.Limits.MessagesPerMinute is { } perMinute)
        {
            text.Append(CultureInfo.InvariantCulture, $"- **Rate:** up to {perMinute} messages a minute\n");
        }

        return text.ToString().TrimEnd();

        static string Amount(long used, long? limit) => limit is { } l
            ? string.Format(CultureInfo.InvariantCulture, "{0:N0} of {1:N0} tokens", used, l)
            : string.Format(CultureInfo.InvariantCulture, "{0:N0} tokens (no limit)", used);
    }

    public async Task<string> TextAsync(InboundTurn turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var directory = directories.LastOrDefault(d => d.Channel == turn.Channel);
        var user = await users.ResolveAsync(turn.Channel, turn.TenantId, turn.User, cancellationToken,
            directory is null ? null : ct => directory.DescribeAsync(turn, ct));
        return user.IsSuspended ? "Your access to ChatBot is suspended." : await TextAsync(user, cancellationToken);
    }
}
