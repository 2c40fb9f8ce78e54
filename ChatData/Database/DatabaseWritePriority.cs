namespace ChatBot.ChatData.Database;

/// <summary>
/// Marks the writes of the current flow as urgent: on SQLite (one writer at a time) they go before queued writers.
/// Used where someone is waiting on the write — storing an inbound turn before a channel's acknowledgement. Other
/// providers take row locks, not a database lock, and ignore it.
/// </summary>
public static class DatabaseWritePriority
{
    private static readonly AsyncLocal<bool> Flag = new();

    internal static bool IsUrgent => Flag.Value;

    /// <summary>Urgent until the returned scope is disposed.</summary>
    public static IDisposable Urgent()
    {
        var previous = Flag.Value;
        Flag.Value = true;
        return new Scope(previous);
    }

    private sealed class Scope(bool previous) : IDisposable
    {
        public void Dispose() => Flag.Value = previous;
    }
}
