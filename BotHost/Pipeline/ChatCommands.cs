namespace ChatBot.BotHost.Pipeline;

internal enum ChatCommand
{
    Help,
    New,
    Usage,
    Sources,
    Forget,
    ForgetConfirm,
}

/// <summary>The commands every channel understands: the whole message is the command, with or without a leading slash.</summary>
internal static class ChatCommands
{
    public const string ForgetConfirmText = "forget confirm";

    public const string HelpText = """
        I answer questions from your company's knowledge — documents and SharePoint libraries — and cite where each answer comes from. Just ask.

        Commands:
        - **help** — this message
        - **new** — start a fresh conversation (I stop using what was said before)
        - **usage** — your tokens today and this month, against your quota
        - **sources** — the sources of my last answer
        - **forget** — delete your conversation history with me (asks you to confirm)
        """;

    public static ChatCommand? Parse(string? text)
    {
        var command = text?.Trim().TrimStart('/').Trim().ToLowerInvariant();
        return command switch
        {
            "help" or "?" => ChatCommand.Help,
            "new" or "reset" => ChatCommand.New,
            "usage" or "quota" => ChatCommand.Usage,
            "sources" => ChatCommand.Sources,
            "forget" => ChatCommand.Forget,
            ForgetConfirmText => ChatCommand.ForgetConfirm,
            _ => null,
        };
    }
}
