namespace ChatBot.ChatData.Conversations;

/// <summary>Where a turn came from. Stored as its name.</summary>
public enum Channel
{
    Web = 0,
    Teams = 1,
    Slack = 2,
    Api = 3,
}
