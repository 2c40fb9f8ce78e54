using System.Text.Json;
using System.Text.Json.Nodes;
using ChatBot.Adapters.Teams.Activities;
using ChatBot.Adapters.Teams.Cards;
using ChatBot.Adapters.Teams.Connector;
using ChatBot.Adapters.Teams.Replies;
using ChatBot.Adapters.Turns;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatBot.Adapters.Teams;

/// <summary>
/// What the bot does with each verified activity. Anything that needs the model goes to the inbox and is acknowledged
/// at once (Teams redelivers after 15 seconds); invokes are answered in the HTTP response as Teams requires.
/// </summary>
internal sealed partial class TeamsActivityHandler(
    ITurnInbox inbox,
    IChannelInstallations installations,
    ConnectorClient connector,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<TeamsActivityHandler> logger)
{
    private static readonly HashSet<string> PositiveReactions = new(StringComparer.OrdinalIgnoreCase) { "like", "heart" };
    private static readonly HashSet<string> NegativeReactions = new(StringComparer.OrdinalIgnoreCase) { "sad", "angry" };

    public async Task<IResult> HandleAsync(Activity activity, CancellationToken cancellationToken)
    {
        switch (activity.Type?.ToLowerInvariant())
        {
            case "message":
                return await OnMessageAsync(activity, cancellationToken);
            case "conversationupdate":
                await OnConversationUpdateAsync(activity, cancellationToken);
                return Results.Ok();
            case "installationupdate":
                await OnInstallationUpdateAsync(activity, cancellationToken);
                return Results.Ok();
            case "invoke":
                return await OnInvokeAsync(activity, cancellationToken);
            case "messagereaction":
                await OnReactionAsync(activity, cancellationToken);
                return Results.Ok();
            default:
                // Teams adds event types over time: acknowledge and ignore.
                return Results.Ok();
        }
    }

    private async Task<IResult> OnMessageAsync(Activity activity, CancellationToken cancellationToken)
    {
        if (activity.From?.Id is null || activity.From.Id == activity.Recipient?.Id)
        {
            return Results.Ok();
        }

        var conversation = TeamsTurns.ConversationOf(activity);
        var tenant = activity.TenantId ?? "";
        if (conversation.Type == ConversationType.Channel && !TeamsTurns.MentionsBot(activity)
            && !await installations.InThreadAsync(ChannelKind.Teams, tenant, conversation.Id, conversation.ThreadId, cancellationToken))
        {
            // In channels the bot answers when mentioned, or in a thread it is already part of.
            return Results.Ok();
        }

        var text = TeamsTurns.TextWithoutBotMention(activity);
        var files = conversation.Type == ConversationType.Personal ? TeamsTurns.FilesOf(activity) : [];
        if (text.Length == 0 && files.Count == 0)
        {
            return Results.Ok();
        }

        await AcceptAsync(activity, conversation, text, files, cancellationToken);
        return Results.Ok();
    }

    private async Task OnConversationUpdateAsync(Activity activity, CancellationToken cancellationToken)
    {
        var botId = activity.Recipient?.Id;
        if (activity.MembersAdded?.Any(m => m.Id == botId) == true)
        {
            await InstalledAsync(activity, cancellationToken);
        }
        else if (activity.MembersRemoved?.Any(m => m.Id == botId) == true)
        {
            await RemovedAsync(activity, cancellationToken);
        }
    }

    private async Task OnInstallationUpdateAsync(Activity activity, CancellationToken cancellationToken)
    {
        switch (activity.Action?.ToLowerInvariant())
        {
            case "add" or "add-upgrade":
                await InstalledAsync(activity, cancellationToken);
                break;
            case "remove" or "remove-upgrade":
                await RemovedAsync(activity, cancellationToken);
                break;
        }
    }

    private async Task RemovedAsync(Activity activity, CancellationToken cancellationToken)
    {
        await installations.RemovedAsync(ChannelKind.Teams, activity.TenantId ?? "", activity.Conversation!.Id!, cancellationToken);
        var type = TeamsTurns.TypeOf(activity);
        Log.Removed(logger, type);
    }

    /// <summary>Stores the conversation reference and, the first time (Teams sends both conversationUpdate and installationUpdate), welcomes.</summary>
    private async Task InstalledAsync(Activity activity, CancellationToken cancellationToken)
    {
        var type = TeamsTurns.TypeOf(activity);
        var installation = new ChannelInstallation(
            ChannelKind.Teams,
            activity.TenantId ?? "",
            activity.Conversation!.Id!,
            type,
            TeamsTurns.AddressOf(activity),
            activity.TeamId,
            (string?)activity.ChannelData?["team"]?["name"],
            (string?)activity.ChannelData?["team"]?["aadGroupId"]);
        if (!await installations.InstalledAsync(installation, cancellationToken))
        {
            return;
        }

        Log.Installed(logger, type);
        var botName = string.IsNullOrWhiteSpace(activity.Recipient?.Name) ? "ChatBot" : activity.Recipient.Name;
        var (serviceUrl, conversationId) = (activity.ServiceUrl!, activity.Conversation.Id!);
        // After the acknowledgement: a throttled connector (Retry-After) must not hold Teams' request past 15 s.
        _ = Task.Run(() => WelcomeAsync(serviceUrl, conversationId, botName), CancellationToken.None);
    }

    private async Task WelcomeAsync(string serviceUrl, string conversationId, string botName)
    {
        try
        {
            await connector.SendAsync(serviceUrl, conversationId, TeamsMessages.CardMessage(TeamsMessages.WelcomeCard(botName)), null, lifetime.ApplicationStopping);
        }
        catch (ConnectorException ex)
        {
            Log.WelcomeFailed(logger, ex.Status, ex.Code);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private async Task<IResult> OnInvokeAsync(Activity activity, CancellationToken cancellationToken)
    {
        switch (activity.Name)
        {
            case "adaptiveCard/action":
                return await OnCardActionAsync(activity, cancellationToken);
            case "message/submitAction":
                return await OnFeedbackAsync(activity, cancellationToken);
            default:
                // As the SDKs do: an invoke nobody handles is "not implemented".
                return Results.StatusCode(StatusCodes.Status501NotImplemented);
        }
    }

    /// <summary>One of our card buttons: its command runs as if the user had typed it.</summary>
    private async Task<IResult> OnCardActionAsync(Activity activity, CancellationToken cancellationToken)
    {
        var action = activity.Value?["action"];
        if (action is null)
        {
            return CardError(StatusCodes.Status400BadRequest, "BadRequest", "Missing value.action.");
        }

        if ((string?)action["type"] != "Action.Execute")
        {
            return CardError(StatusCodes.Status400BadRequest, "NotSupported", $"The action type {(string?)action["type"]} is not supported.");
        }

        var command = (string?)action["data"]?["command"];
        if ((string?)action["verb"] != AdaptiveCard.CommandVerb || string.IsNullOrWhiteSpace(command) || command.Length > 100)
        {
            return CardError(StatusCodes.Status400BadRequest, "BadRequest", "This button is not one of ChatBot's.");
        }

        var conversation = TeamsTurns.ConversationOf(activity);
        await AcceptAsync(activity, conversation, command, [], cancellationToken);
        return Results.Json(new { statusCode = 200, type = "application/vnd.microsoft.activity.message", value = "On it." });
    }

    /// <summary>The thumbs up/down under an answer: stored on that message; Teams wants exactly <c>{}</c> back.</summary>
    private async Task<IResult> OnFeedbackAsync(Activity activity, CancellationToken cancellationToken)
    {
        var value = activity.Value;
        if ((string?)value?["actionName"] == "feedback" && activity.ReplyToId is { Length: > 0 } messageId)
        {
            var reaction = (string?)value["actionValue"]?["reaction"];
            var rating = reaction switch { "like" => 1, "dislike" => -1, _ => 0 };
            if (rating != 0)
            {
                await AcceptAsync(activity, TeamsTurns.ConversationOf(activity), "", [], cancellationToken,
                    new FeedbackReference(messageId, rating, FeedbackText(value["actionValue"]?["feedback"])));
            }
        }

        return Results.Json(new { });
    }

    private async Task OnReactionAsync(Activity activity, CancellationToken cancellationToken)
    {
        if (activity.ReplyToId is not { Length: > 0 } messageId || activity.ReactionsAdded is not { Count: > 0 } added)
        {
            return;
        }

        var rating = added.Any(r => PositiveReactions.Contains(r.Type ?? "")) ? 1 : added.Any(r => NegativeReactions.Contains(r.Type ?? "")) ? -1 : 0;
        if (rating != 0)
        {
            await AcceptAsync(activity, TeamsTurns.ConversationOf(activity), "", [], cancellationToken, new FeedbackReference(messageId, rating));
        }
    }

    private Task<InboxReceipt> AcceptAsync(Activity activity, ConversationReference conversation, string text, IReadOnlyList<TurnAttachment> files, CancellationToken cancellationToken, FeedbackReference? feedback = null)
    {
        var turn = new InboundTurn
        {
            Channel = ChannelKind.Teams,
            // Teams activity ids are unique within a conversation: the pair is the event id.
            EventId = $"{activity.Conversation!.Id}|{activity.Id}",
            Kind = feedback is null ? TurnKind.Message : TurnKind.Feedback,
            TenantId = activity.TenantId ?? "",
            Conversation = conversation,
            User = TeamsTurns.UserOf(activity),
            Text = text,
            Attachments = files,
            Feedback = feedback,
            ReplyAddress = TeamsTurns.AddressOf(activity),
            ReceivedAt = clock.GetUtcNow().UtcDateTime,
        };
        return inbox.AcceptAsync(turn, cancellationToken);
    }

    /// <summary>Teams sends the comment as a JSON string inside the value: <c>"{\"feedbackText\":\"…\"}"</c>.</summary>
    private static string? FeedbackText(JsonNode? feedback)
    {
        if (feedback?.GetValueKind() != JsonValueKind.String)
        {
            return (string?)feedback?["feedbackText"];
        }

        try
        {
            return (string?)JsonNode.Parse((string)feedback!)?["feedbackText"];
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult CardError(int status, string code, string message) =>
        Results.Json(new { statusCode = status, type = "application/vnd.microsoft.error", value = new { code, message } }, statusCode: status);

    private static partial class Log
    {
        [LoggerMessage(EventId = 730, Level = LogLevel.Information, Message = "Installed in a Teams {Type} conversation")]
        public static partial void Installed(ILogger logger, ConversationType type);

        [LoggerMessage(EventId = 731, Level = LogLevel.Information, Message = "Removed from a Teams {Type} conversation")]
        public static partial void Removed(ILogger logger, ConversationType type);

        [LoggerMessage(EventId = 732, Level = LogLevel.Warning, Message = "The welcome card could not be sent ({Status} {Code})")]
        public static partial void WelcomeFailed(ILogger logger, int status, string code);
    }
}
