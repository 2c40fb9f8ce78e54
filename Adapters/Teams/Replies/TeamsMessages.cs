using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Teams.Activities;
using ChatBot.Adapters.Teams.Cards;
using ChatBot.Adapters.Turns;
using ChatBot.Adapters.Web;

namespace ChatBot.Adapters.Teams.Replies;

/// <summary>The activities the bot sends: streaming updates, final answers (AI label, citations, feedback) and cards.</summary>
internal static class TeamsMessages
{
    public const int MaxCitations = 20;

    /// <summary>A streaming update (<c>typing</c> + <c>streaminfo</c>); the first one has no stream id yet.</summary>
    public static JsonObject StreamUpdate(string streamType, string text, int sequence, string? streamId)
    {
        var info = new JsonObject { ["type"] = "streaminfo", ["streamType"] = streamType, ["streamSequence"] = sequence };
        if (streamId is not null)
        {
            info["streamId"] = streamId;
        }

        return new JsonObject { ["type"] = "typing", ["text"] = text, ["entities"] = new JsonArray(info) };
    }

    /// <summary>
    /// The finished message. Answers carry the AI-generated label and their citations in one schema.org Message
    /// entity and turn on the feedback buttons; notices (commands, refusals) are an Adaptive Card with their buttons.
    /// </summary>
    public static JsonObject Final(FinalReply reply, string? streamId, string? replyToId)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var message = new JsonObject { ["type"] = "message", ["textFormat"] = "markdown", ["text"] = reply.Text };
        if (replyToId is not null)
        {
            message["replyToId"] = replyToId;
        }

        var entities = new JsonArray();
        if (streamId is not null)
        {
            entities.Add(new JsonObject { ["type"] = "streaminfo", ["streamId"] = streamId, ["streamType"] = "final" });
        }

        if (reply.Kind == ReplyKind.Answer)
        {
            entities.Add(AiMessageEntity(reply.Citations));
            message["channelData"] = new JsonObject { ["feedbackLoop"] = new JsonObject { ["type"] = "default" } };
        }
        else
        {
            message["attachments"] = new JsonArray(CardAttachment(NoticeCard(reply)));
        }

        if (entities.Count > 0)
        {
            message["entities"] = entities;
        }

        return message;
    }

    /// <summary>A plain text message (notices sent on the bot's own initiative, errors).</summary>
    public static JsonObject Text(string text, string? replyToId = null)
    {
        var message = new JsonObject { ["type"] = "message", ["textFormat"] = "markdown", ["text"] = text };
        if (replyToId is not null)
        {
            message["replyToId"] = replyToId;
        }

        return message;
    }

    public static JsonObject CardMessage(AdaptiveCard card, string? replyToId = null)
    {
        var message = new JsonObject { ["type"] = "message", ["attachments"] = new JsonArray(CardAttachment(card)) };
        if (replyToId is not null)
        {
            message["replyToId"] = replyToId;
        }

        return message;
    }

    public static JsonObject CardAttachment(AdaptiveCard card) => new()
    {
        ["contentType"] = AdaptiveCard.ContentType,
        ["content"] = JsonSerializer.SerializeToNode(card, Activity.Json),
    };

    /// <summary>The card of a command's answer or a notice: its text, then its buttons.</summary>
    public static AdaptiveCard NoticeCard(FinalReply reply) => new(
        [new TextBlock(reply.Text)],
        reply.Actions.Count == 0 ? null : [.. reply.Actions.Take(5).Select(Button)]);

    public static AdaptiveCard WelcomeCard(string botName) => new(
        [
            new TextBlock($"Hi, I'm {botName}", Size: "Large", Weight: "Bolder"),
            new TextBlock("Ask me anything about how things work here. I answer from the company's own documents and SharePoint, and I cite my sources so you can check them."),
            new TextBlock("In a channel, @mention me. In a personal chat, just ask — and drop in a file to have me read it.", IsSubtle: true),
        ],
        [Button(new ReplyAction("What can you do?", "help")), Button(new ReplyAction("My usage", "usage"))]);

    public static ExecuteAction Button(ReplyAction action) =>
        new(action.Label, AdaptiveCard.CommandVerb, new Dictionary<string, string> { ["command"] = action.Command });

    /// <summary>The schema.org Message entity: "AI generated" label plus numbered citations (at most 20, fields trimmed to Teams' limits).</summary>
    public static JsonObject AiMessageEntity(IReadOnlyList<Citation> citations)
    {
        var entity = new JsonObject
        {
            ["type"] = "https://schema.org/Message",
            ["@type"] = "Message",
            ["@context"] = "https://schema.org",
            ["@id"] = "",
            ["additionalType"] = new JsonArray("AIGeneratedContent"),
        };
        if (citations.Count > 0)
        {
            var list = new JsonArray();
            foreach (var citation in citations.Take(MaxCitations))
            {
                var appearance = new JsonObject
                {
                    ["@type"] = "DigitalDocument",
                    ["name"] = Trim(string.IsNullOrWhiteSpace(citation.Title) ? "Source " + citation.Number.ToString(CultureInfo.InvariantCulture) : citation.Title, 80),
                    ["abstract"] = Trim(citation.Snippet, 160),
                };
                if (SafeMarkdown.IsSafeUrl(citation.Url) && Uri.TryCreate(citation.Url, UriKind.Absolute, out _))
                {
                    appearance["url"] = citation.Url;
                }

                if (IconFor(citation) is { } icon)
                {
                    appearance["image"] = new JsonObject { ["@type"] = "ImageObject", ["name"] = icon };
                }

                list.Add(new JsonObject { ["@type"] = "Claim", ["position"] = citation.Number, ["appearance"] = appearance });
            }

            entity["citation"] = list;
        }

        return entity;
    }

    private static string? IconFor(Citation citation)
    {
        var path = citation.Url is null ? citation.Title : new Uri(citation.Url, UriKind.RelativeOrAbsolute) is { IsAbsoluteUri: true } u ? u.AbsolutePath : citation.Url;
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".docx" or ".doc" => "Microsoft Word",
            ".xlsx" or ".xls" => "Microsoft Excel",
            ".pptx" or ".ppt" => "Microsoft PowerPoint",
            ".pdf" => "PDF",
            ".txt" or ".md" or ".csv" => "Text",
            _ => null,
        };
    }

    private static string Trim(string text, int max)
    {
        var flat = text.ReplaceLineEndings(" ").Trim();
        return flat.Length <= max ? flat : flat[..(max - 1)].TrimEnd() + "…";
    }
}
