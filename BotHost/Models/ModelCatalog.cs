using ChatBot.ChatData.Users;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Models;

/// <summary>A model as the pipeline uses it: where it is, what it costs, who may use it.</summary>
internal sealed record ModelEntry(
    string Id,
    LlmProvider Provider,
    string? Endpoint,
    string? ApiKey,
    string Model,
    string DisplayName,
    int ContextWindow,
    int MaxOutputTokens,
    decimal InputPricePerMillion,
    decimal OutputPricePerMillion,
    IReadOnlyList<UserRole> AllowedRoles)
{
    public bool IsAllowedFor(UserRole role) => AllowedRoles.Count == 0 || AllowedRoles.Contains(role);

    /// <summary>Cost in millionths of a dollar: tokens × dollars-per-million is exactly that.</summary>
    public long CostMicroUsd(long inputTokens, long outputTokens) =>
        (long)Math.Round((inputTokens * InputPricePerMillion) + (outputTokens * OutputPricePerMillion), MidpointRounding.AwayFromZero);
}

/// <summary>The configured models and the order they are tried in.</summary>
internal sealed class ModelCatalog(IOptions<LlmOptions> options)
{
    private readonly Lazy<IReadOnlyList<ModelEntry>> _entries = new(() => Entries(options.Value));

    /// <summary>True when no model is configured: answers are extractive.</summary>
    public bool IsExtractive => _entries.Value.Count == 0;

    public IReadOnlyList<ModelEntry> All => _entries.Value;

    /// <summary>The models a role may pick, in catalog order.</summary>
    public IReadOnlyList<ModelEntry> AllowedFor(UserRole role) => [.. All.Where(m => m.IsAllowedFor(role))];

    /// <summary>The chosen model (or the default) followed by the fallback chain, only models the role may use.</summary>
    public IReadOnlyList<ModelEntry> ChainFor(UserRole role, string? requested)
    {
        var allowed = AllowedFor(role);
        var order = options.Value.Fallback.Count > 0
            ? options.Value.Fallback.Select(id => allowed.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase))).OfType<ModelEntry>().ToList()
            : [.. allowed];
        var first = allowed.FirstOrDefault(m => string.Equals(m.Id, requested, StringComparison.OrdinalIgnoreCase)) ?? (order.Count > 0 ? order[0] : null) ?? (allowed.Count > 0 ? allowed[0] : null);
        if (first is null)
        {
            return [];
        }

        return [first, .. order.Where(m => m != first)];
    }

    /// <summary>The catalog as configured: Llm:Models, or one entry from the section's own keys.</summary>
    internal static IReadOnlyList<ModelEntry> Entries(LlmOptions o)
    {
        if (o.Models.Count == 0)
        {
            return o.Provider == LlmProvider.Extractive
                ? []
                : [Entry(o, new ModelEntryOptions { Id = o.Model })];
        }

        return [.. o.Models.Select(m => Entry(o, m))];
    }

    private static ModelEntry Entry(LlmOptions o, ModelEntryOptions m) => new(
        m.Id ?? "",
        m.Provider ?? o.Provider,
        m.Endpoint ?? o.Endpoint,
        m.ApiKey ?? o.ApiKey,
        m.Model ?? m.Id ?? "",
        m.DisplayName ?? m.Id ?? "",
        m.ContextWindow,
        m.MaxOutputTokens,
        m.InputPricePerMillion,
        m.OutputPricePerMillion,
        m.AllowedRoles);
}
