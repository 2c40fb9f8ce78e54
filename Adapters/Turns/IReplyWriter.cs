namespace ChatBot.Adapters.Turns;

/// <summary>
/// How the pipeline answers one turn, whatever the channel. Calls come in this order:
/// any number of <see cref="SetStatusAsync"/> and <see cref="AppendAsync"/>, then exactly one of
/// <see cref="CompleteAsync"/> or <see cref="FailAsync"/>. Adapters buffer and throttle as their channel needs
/// (Teams: cumulative text at most once a second; Slack: appendStream; web: SSE at once).
/// </summary>
public interface IReplyWriter : IAsyncDisposable
{
    /// <summary>A short progress note ("Searching the knowledge base…"), shown until text arrives.</summary>
    Task SetStatusAsync(string status, CancellationToken cancellationToken);

    /// <summary>The next piece of the answer's text (Markdown).</summary>
    Task AppendAsync(string delta, CancellationToken cancellationToken);

    /// <summary>The finished message. Returns the channel's id for it (for feedback and updates), when it has one.</summary>
    Task<string?> CompleteAsync(FinalReply reply, CancellationToken cancellationToken);

    /// <summary>Something went wrong; <paramref name="userMessage"/> is safe to show (never a stack trace).</summary>
    Task FailAsync(string userMessage, CancellationToken cancellationToken);

    /// <summary>Fires when the user stopped the answer in the channel (Teams' Stop button): stop generating.</summary>
    CancellationToken UserStopped => CancellationToken.None;
}

/// <summary>Opens the reply writer of one turn. One implementation per channel, chosen by <see cref="Channel"/>.</summary>
public interface IReplyChannel
{
    ChannelKind Channel { get; }

    /// <param name="turn">The turn being answered (its <see cref="InboundTurn.ReplyAddress"/> says where).</param>
    /// <param name="turnId">The inbox id of the turn, unique across channels.</param>
    IReplyWriter Open(InboundTurn turn, long turnId);
}

public enum ReplyKind
{
    /// <summary>An answer from the knowledge base or a model: AI label, citations, feedback buttons.</summary>
    Answer = 0,

    /// <summary>A command's result or a notice (help, usage, quota refusal): no AI label, no feedback.</summary>
    Notice = 1,
}

/// <param name="Text">The complete text (Markdown), including [n] citation markers.</param>
/// <param name="Kind">Decides whether the channel shows the AI label and feedback buttons.</param>
/// <param name="Citations">Numbered sources the text refers to as [n].</param>
/// <param name="Actions">Buttons or suggestions; each sends its <see cref="ReplyAction.Command"/> as the user's next message.</param>
/// <param name="MessageId">Our id for the stored answer (feedback refers to it where the channel has no id of its own).</param>
/// <param name="Model">The model that wrote it, or "extractive".</param>
public sealed record FinalReply(
    string Text,
    ReplyKind Kind,
    IReadOnlyList<Citation> Citations,
    IReadOnlyList<ReplyAction> Actions,
    long? MessageId = null,
    string? Model = null);

/// <param name="Number">The n of [n] in the text.</param>
public sealed record Citation(int Number, string Title, string? Url, string Snippet, int? Page = null, string? Section = null);

public sealed record ReplyAction(string Label, string Command);
