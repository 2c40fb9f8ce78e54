using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Turns;
using ChatBot.Adapters.Web;

namespace ChatBot.Adapters.Slack.Replies;

/// <summary>One Slack message of an answer: the fallback text and its blocks.</summary>
internal sealed record SlackMessage(string Text, JsonArray Blocks);

/// <summary>
/// Answers in Block Kit: the text as <c>markdown</c> blocks, the sources as a context block of links, and Slack's
/// feedback buttons. Slack refuses messages whose blocks are too long (<c>msg_blocks_too_long</c> at about 13k
/// characters; 12k per markdown block), so a long answer becomes several messages in the thread, never a refusal.
/// </summary>
internal static class SlackMessages
{
    /// <summary>The most answer text one message carries (under the 12,000 of a markdown block and the ~13k total).</summary>
    public const int MaxTextPerMessage = 11_000;

    /// <summary>Slack's limit for a notification text.</summary>
    private const int MaxFallbackText = 3_000;

    public static IReadOnlyList<SlackMessage> Build(FinalReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var parts = Split(reply.Text, MaxTextPerMessage);
        var messages = new List<SlackMessage>();
        for (var i = 0; i < parts.Count; i++)
        {
            var blocks = new JsonArray(new JsonObject { ["type"] = "markdown", ["text"] = parts[i] });
            if (i == parts.Count - 1 && reply.Kind == ReplyKind.Answer)
            {
                if (Sources(reply.Citations) is { } sources)
                {
                    blocks.Add(sources);
                }

                if (reply.MessageId is { } id)
                {
                    blocks.Add(FeedbackButtons(id));
                }
            }

            if (i == parts.Count - 1 && Buttons(reply) is { } buttons)
            {
                blocks.Add(buttons);
            }

            messages.Add(new SlackMessage(Fallback(parts[i]), blocks));
        }

        return messages;
    }

    /// <summary>Splits text into pieces of at most <paramref name="max"/> characters, at a paragraph, line or word break when there is one.</summary>
    public static List<string> Split(string text, int max)
    {
        var parts = new List<string>();
        var rest = string.IsNullOrEmpty(text) ? " " : text;
        while (rest.Length > max)
        {
            var cut = LastBreak(rest, max);
            parts.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart('\n');
        }

        parts.Add(rest);
        return parts;
    }

    /// <summary>A context block: "Sources: [1] title · [2] title", linked where the source has a safe URL.</summary>
    public static JsonObject? Sources(IReadOnlyList<Citation> citations)
    {
        if (citations.Count == 0)
        {
            return null;
        }

        var text = new StringBuilder("Sources: ");
        foreach (var c in citations.Take(20))
        {
            var label = Escape($"[{c.Number.ToString(CultureInfo.InvariantCulture)}] {c.Title}{(c.Page is { } page ? $", p. {page}" : "")}");
            var item = SafeMarkdown.IsSafeUrl(c.Url) && Uri.IsWellFormedUriString(c.Url, UriKind.Absolute) ? $"<{c.Url}|{label.Replace("|", "¦", StringComparison.Ordinal)}>" : label;
            if (text.Length + item.Length + 3 > 2_900)
            {
                break;
            }

            text.Append(item).Append(" · ");
        }

        return new JsonObject
        {
            ["type"] = "context",
            ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = text.ToString().TrimEnd(' ', '·') }),
        };
    }

    /// <summary>
    /// The reply's actions as buttons (each sends its command as the clicker's next message), plus "Show sources" under
    /// an answer that cites any: the full list with pages, in the thread.
    /// </summary>
    public static JsonObject? Buttons(FinalReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var actions = reply.Actions.ToList();
        if (reply.Kind == ReplyKind.Answer && reply.Citations.Count > 0)
        {
            actions.Add(new ReplyAction("Show sources", "sources"));
        }

        if (actions.Count == 0)
        {
            return null;
        }

        // Slack: at most 25 elements, labels up to 75 characters, values up to 2,000, action ids unique in the message.
        return new JsonObject
        {
            ["type"] = "actions",
            ["elements"] = new JsonArray([.. actions.Take(25).Select((a, n) => (JsonNode)new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = ReplyActionIdPrefix + n.ToString(CultureInfo.InvariantCulture),
                ["text"] = PlainText(a.Label.Length <= 75 ? a.Label : a.Label[..74] + "…"),
                ["value"] = a.Command.Length <= 2_000 ? a.Command : a.Command[..2_000],
            })]),
        };
    }

    /// <summary>The action ids of <see cref="Buttons"/>: this prefix and the button's position.</summary>
    public const string ReplyActionIdPrefix = "reply_action_";

    /// <summary>Slack's thumbs up/down under an answer; the value names our message so a click is stored on it.</summary>
    public static JsonObject FeedbackButtons(long messageId)
    {
        var id = messageId.ToString(CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["type"] = "context_actions",
            ["elements"] = new JsonArray(new JsonObject
            {
                ["type"] = "feedback_buttons",
                ["action_id"] = "answer_feedback",
                ["positive_button"] = new JsonObject { ["text"] = PlainText("Helpful"), ["accessibility_label"] = "Mark this answer helpful", ["value"] = "up:" + id },
                ["negative_button"] = new JsonObject { ["text"] = PlainText("Not helpful"), ["accessibility_label"] = "Mark this answer not helpful", ["value"] = "down:" + id },
            }),
        };
    }

    /// <summary>mrkdwn control characters in text we did not write.</summary>
    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Fallback(string text) => text.Length <= MaxFallbackText ? text : text[..(MaxFallbackText - 1)] + "…";

    private static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = text };

    private static int LastBreak(string text, int max)
    {
        foreach (var separator in new[] { "\n\n", "\n", " " })
        {
            var at = text.LastIndexOf(separator, max - 1, StringComparison.Ordinal);
            if (at > max / 2)
            {
                return at + separator.Length;
            }
        }

        return max;
    }
}
