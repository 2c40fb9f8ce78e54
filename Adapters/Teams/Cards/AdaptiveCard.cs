using System.Text.Json.Serialization;

namespace ChatBot.Adapters.Teams.Cards;

/// <summary>
/// The small part of the Adaptive Card schema (1.5, what Teams renders) our cards use, as typed records that
/// serialise to the card JSON. Buttons are <c>Action.Execute</c> with the verb <see cref="CommandVerb"/>: pressing one
/// sends its command as an <c>adaptiveCard/action</c> invoke.
/// </summary>
internal sealed record AdaptiveCard(
    [property: JsonPropertyName("body")] IReadOnlyList<CardElement> Body,
    [property: JsonPropertyName("actions")] IReadOnlyList<CardAction>? Actions = null)
{
    public const string ContentType = "application/vnd.microsoft.card.adaptive";
    public const string CommandVerb = "chatbot.command";

    [JsonPropertyName("type")]
    public string Type { get; init; } = "AdaptiveCard";

    [JsonPropertyName("$schema")]
    public string Schema { get; init; } = "http://adaptivecards.io/schemas/adaptive-card.json";

    [JsonPropertyName("version")]
    public string Version { get; init; } = "1.5";
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TextBlock), "TextBlock")]
[JsonDerivedType(typeof(FactSet), "FactSet")]
[JsonDerivedType(typeof(Container), "Container")]
internal abstract record CardElement
{
    [JsonPropertyName("spacing")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Spacing { get; init; }
}

internal sealed record TextBlock(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("wrap")] bool Wrap = true,
    [property: JsonPropertyName("size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Size = null,
    [property: JsonPropertyName("weight"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Weight = null,
    [property: JsonPropertyName("isSubtle"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool IsSubtle = false) : CardElement;

internal sealed record FactSet([property: JsonPropertyName("facts")] IReadOnlyList<Fact> Facts) : CardElement;

internal sealed record Fact([property: JsonPropertyName("title")] string Title, [property: JsonPropertyName("value")] string Value);

internal sealed record Container(
    [property: JsonPropertyName("items")] IReadOnlyList<CardElement> Items,
    [property: JsonPropertyName("style"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Style = null) : CardElement;

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ExecuteAction), "Action.Execute")]
[JsonDerivedType(typeof(OpenUrlAction), "Action.OpenUrl")]
internal abstract record CardAction([property: JsonPropertyName("title")] string Title);

internal sealed record ExecuteAction(string Title, [property: JsonPropertyName("verb")] string Verb, [property: JsonPropertyName("data")] IReadOnlyDictionary<string, string> Data) : CardAction(Title);

internal sealed record OpenUrlAction(string Title, [property: JsonPropertyName("url")] string Url) : CardAction(Title);
