using System.Text.Json;
using ChatBot.Adapters.Turns;

namespace ChatBot.BotHost.Pipeline;

/// <summary>Citations as stored on an answer (Message.CitationsJson).</summary>
internal static class CitationJson
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Write(IReadOnlyList<Citation> citations) => JsonSerializer.Serialize(citations, Json);

    public static IReadOnlyList<Citation> Read(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<Citation>>(json, Json) ?? [];
}
