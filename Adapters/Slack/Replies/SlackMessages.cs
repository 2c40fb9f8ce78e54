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
