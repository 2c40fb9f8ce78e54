using ChatBot.Adapters;
using ChatBot.ChatData.Users;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Models;

public enum LlmProvider
{
    /// <summary>No model: answers quote the best passages, labelled as such.</summary>
    Extractive = 0,
    OpenAI = 1,
    AzureOpenAI = 2,
    Anthropic = 3,

    /// <summary>Any server speaking OpenAI's chat completions API (Ollama, vLLM, LM Studio…).</summary>
    OpenAICompatible = 4,
}

/// <summary>The <c>Llm</c> section.</summary>
internal sealed class LlmOptions
{
    public const string SectionName = "Llm";

    public LlmProvider Provider { get; set; } = LlmProvider.Extractive;

    public string? Endpoint { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>The model (or Azure deployment) name when <see cref="Models"/> is empty.</summary>
    public string? Model { get; set; }

    /// <summary>
    /// The embedding model for hybrid retrieval (for example text-embedding-3-small). Called at <see cref="EmbeddingEndpoint"/>
    /// when set (any OpenAI-compatible server), else at the OpenAI / Azure OpenAI / compatible endpoint of <see cref="Provider"/>.
    /// </summary>
    public string? EmbeddingModel { get; set; }

    public string? EmbeddingEndpoint { get; set; }

    public string? EmbeddingApiKey { get; set; }

    /// <summary>The model catalog. When empty, one entry is made from Provider/Endpoint/ApiKey/Model.</summary>
    public List<ModelEntryOptions> Models { get; set; } = [];

    /// <summary>Model ids tried in order when the chosen one fails; defaults to the catalog's order.</summary>
    public List<string> Fallback { get; set; } = [];

    /// <summary>The organisation the assistant works for, named in the system prompt.</summary>
    public string OrganizationName { get; set; } = "the company";

    /// <summary>How answers should sound, e.g. "friendly and concise".</summary>
    public string Tone { get; set; } = "clear, friendly and concise";

    /// <summary>Replaces the built-in instructions when set (the rules about sources are always added).</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>Retries of one model call on 429, 5xx and timeouts before falling back.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>A Retry-After longer than this is not waited for: the next model is tried instead.</summary>
    public double MaxRetryAfterSeconds { get; set; } = 20;

    /// <summary>How long one attempt may take to answer with headers.</summary>
    public double AttemptTimeoutSeconds { get; set; } = 30;

    /// <summary>How long the first words may take before the next model is tried.</summary>
    public double FirstTokenTimeoutSeconds { get; set; } = 45;

    /// <summary>How long the stream may stall between words before the answer is cut off.</summary>
    public double IdleTimeoutSeconds { get; set; } = 60;

    /// <summary>The base delay of the exponential back-off between retries.</summary>
    public double RetryDelaySeconds { get; set; } = 1;

    /// <summary>Passages retrieved per question.</summary>
    public int RetrievalTop { get; set; } = 6;
}

/// <summary>One catalog entry. Unset fields inherit the section's Provider, Endpoint and ApiKey.</summary>
public sealed class ModelEntryOptions
{
    /// <summary>The id users pick and usage records name.</summary>
    public string? Id { get; set; }

    public LlmProvider? Provider { get; set; }

    public string? Endpoint { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>The provider's model or deployment name; defaults to <see cref="Id"/>.</summary>
    public string? Model { get; set; }

    public string? DisplayName { get; set; }

    public int ContextWindow { get; set; } = 128_000;

    public int MaxOutputTokens { get; set; } = 1_024;

    /// <summary>US dollars per million input tokens.</summary>
    public decimal InputPricePerMillion { get; set; }

    /// <summary>US dollars per million output tokens.</summary>
    public decimal OutputPricePerMillion { get; set; }

    /// <summary>Roles that may use this model; empty means everyone.</summary>
    public List<UserRole> AllowedRoles { get; set; } = [];
}

internal sealed class LlmOptionsValidator : IValidateOptions<LlmOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmOptions options)
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(options.Provider))
        {
            errors.Add("Llm:Provider must be Extractive, OpenAI, AzureOpenAI, Anthropic or OpenAICompatible.");
        }

        if (!string.IsNullOrWhiteSpace(options.EmbeddingModel))
        {
            if (options.EmbeddingEndpoint is not null)
            {
                OptionsUrls.RequireHttpsOrLoopback(errors, "Llm:EmbeddingEndpoint", options.EmbeddingEndpoint);
            }
            else if (options.Provider is not (LlmProvider.OpenAI or LlmProvider.AzureOpenAI or LlmProvider.OpenAICompatible))
            {
                errors.Add($"Llm:EmbeddingModel needs Llm:EmbeddingEndpoint when Llm:Provider is {options.Provider} (it has no embeddings API).");
            }
        }

        var entries = ModelCatalog.Entries(options);
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var key = options.Models.Count == 0 ? "Llm" : $"Llm:Models:{i}";
            if (string.IsNullOrWhiteSpace(e.Id))
            {
                errors.Add(options.Models.Count == 0 ? "Llm:Model is required when Llm:Provider is not Extractive." : $"{key}:Id is required.");
                continue;
            }

            if (!ids.Add(e.Id))
            {
                errors.Add($"{key}:Id '{e.Id}' appears twice.");
            }

            switch (e.Provider)
            {
                case LlmProvider.Extractive:
                    errors.Add($"{key}:Provider must name a model provider (Extractive is the built-in default, not a catalog entry).");
                    break;
                case LlmProvider.OpenAI or LlmProvider.Anthropic when string.IsNullOrWhiteSpace(e.ApiKey):
                    errors.Add($"{key}:ApiKey is required for {e.Provider}.");
                    break;
                case LlmProvider.AzureOpenAI when string.IsNullOrWhiteSpace(e.ApiKey) || string.IsNullOrWhiteSpace(e.Endpoint):
                    errors.Add($"{key}:Endpoint and {key}:ApiKey are required for AzureOpenAI.");
                    break;
                case LlmProvider.OpenAICompatible when string.IsNullOrWhiteSpace(e.Endpoint):
                    errors.Add($"{key}:Endpoint is required for OpenAICompatible.");
                    break;
            }

            if (e.Endpoint is not null)
            {
                OptionsUrls.RequireHttpsOrLoopback(errors, $"{key}:Endpoint", e.Endpoint);
            }

            if (e.ContextWindow < 1_000 || e.MaxOutputTokens < 1 || e.MaxOutputTokens >= e.ContextWindow)
            {
                errors.Add($"{key}:ContextWindow must be at least 1000 and larger than MaxOutputTokens.");
            }

            if (e.InputPricePerMillion < 0 || e.OutputPricePerMillion < 0)
            {
                errors.Add($"{key}: prices cannot be negative.");
            }
        }

        foreach (var id in options.Fallback.Where(id => !ids.Contains(id)))
        {
            errors.Add($"Llm:Fallback names '{id}', which is not in the model catalog.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            errors.Add("Llm:MaxRetries must be between 0 and 10.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
