using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ChatBot.Adapters.Teams.Activities;

/// <summary>
/// The part of a Bot Framework activity the bot reads. Open-ended members (entities, channel data, invoke values)
/// stay JSON nodes; the adapter reads only what it needs from them.
/// </summary>
internal sealed class Activity
{
    public string? Type { get; set; }

    public string? Id { get; set; }

    public string? ChannelId { get; set; }

    public string? ServiceUrl { get; set; }

    public string? Text { get; set; }

    public string? ReplyToId { get; set; }

    public string? Name { get; set; }

    public string? Action { get; set; }

    public string? Locale { get; set; }

    public ChannelAccount? From { get; set; }

    public ChannelAccount? Recipient { get; set; }

    public ConversationAccount? Conversation { get; set; }

    public List<ChannelAccount>? MembersAdded { get; set; }

    public List<ChannelAccount>? MembersRemoved { get; set; }

    public List<MessageReaction>? ReactionsAdded { get; set; }

    public List<MessageReaction>? ReactionsRemoved { get; set; }

    public List<JsonObject>? Entities { get; set; }

    public List<Attachment>? Attachments { get; set; }

    public JsonObject? ChannelData { get; set; }

    public JsonNode? Value { get; set; }

    /// <summary>The conversation's tenant, else the channel data's (an empty string counts as absent).</summary>
    [JsonIgnore]
    public string? TenantId => NonEmpty(Conversation?.TenantId) ?? NonEmpty((string?)ChannelData?["tenant"]?["id"]);

    [JsonIgnore]
    public string? TeamId => NonEmpty((string?)ChannelData?["team"]?["id"]);

    [JsonIgnore]
    public string? TeamsChannelId => NonEmpty((string?)ChannelData?["channel"]?["id"]);

    /// <summary>The Microsoft 365 group behind the team (documents shared with it may be used in its channels).</summary>
    public string? TeamGroupId => NonEmpty((string?)ChannelData?["team"]?["aadGroupId"]);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        MaxDepth = 32,
    };

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

internal sealed class ChannelAccount
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    public string? AadObjectId { get; set; }

    public string? Role { get; set; }
}

internal sealed class ConversationAccount
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    public string? ConversationType { get; set; }

    public string? TenantId { get; set; }

    public bool? IsGroup { get; set; }
}

internal sealed class MessageReaction
{
    public string? Type { get; set; }
}

internal sealed class Attachment
{
    public string? ContentType { get; set; }

    public string? ContentUrl { get; set; }

    public string? Name { get; set; }

    public JsonNode? Content { get; set; }
}

/// <summary>A member as the connector describes it (<c>GET …/members/{id}</c>).</summary>
internal sealed class TeamsMember
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    public string? AadObjectId { get; set; }

    public string? Email { get; set; }

    public string? UserPrincipalName { get; set; }

    public string? TenantId { get; set; }
}
