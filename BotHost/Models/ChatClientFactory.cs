using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Anthropic;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using OpenAI;

namespace ChatBot.BotHost.Models;

/// <summary>
/// One <see cref="IChatClient"/> per catalog entry, each on the "llm" HttpClient (retries with back-off that honour
/// Retry-After, a per-attempt timeout). The SDKs' own retries are switched off so the policy is ours alone.
/// </summary>
internal sealed class ChatClientFactory(IHttpClientFactory httpClients) : IDisposable
{
    public const string HttpClientName = "llm";

    private readonly ConcurrentDictionary<string, IChatClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    public IChatClient Get(ModelEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _clients.GetOrAdd(entry.Id, _ => Create(entry));
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }

    /// <summary>The embedding generator of <c>Llm:EmbeddingModel</c>, or null when none is configured.</summary>
    public IEmbeddingGenerator<string, Embedding<float>>? CreateEmbeddingGenerator(LlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.EmbeddingModel))
        {
            return null;
        }

        var http = httpClients.CreateClient(HttpClientName);
        if (options.EmbeddingEndpoint is null && options.Provider == LlmProvider.AzureOpenAI)
        {
            var azureOptions = new AzureOpenAIClientOptions();
            ConfigurePipeline(azureOptions, http);
            return new AzureOpenAIClient(new Uri(options.Endpoint!), new ApiKeyCredential(options.ApiKey!), azureOptions)
                .GetEmbeddingClient(options.EmbeddingModel).AsIEmbeddingGenerator();
        }

        var openAiOptions = new OpenAIClientOptions();
        ConfigurePipeline(openAiOptions, http);
        var endpoint = options.EmbeddingEndpoint ?? options.Endpoint;
        if (endpoint is not null)
        {
            openAiOptions.Endpoint = new Uri(endpoint);
        }

        return new OpenAIClient(new ApiKeyCredential(options.EmbeddingApiKey ?? options.ApiKey ?? "not-needed"), openAiOptions)
            .GetEmbeddingClient(options.EmbeddingModel).AsIEmbeddingGenerator();
    }

    private IChatClient Create(ModelEntry entry)
    {
        var http = httpClients.CreateClient(HttpClientName);
        switch (entry.Provider)
        {
            case LlmProvider.OpenAI:
            case LlmProvider.OpenAICompatible:
                var openAiOptions = new OpenAIClientOptions();
                ConfigurePipeline(openAiOptions, http);
                if (entry.Endpoint is not null)
                {
                    openAiOptions.Endpoint = new Uri(entry.Endpoint);
                }

                // Local servers (Ollama, vLLM) take any key; the SDK insists on one.
                return new OpenAIClient(new ApiKeyCredential(entry.ApiKey ?? "not-needed"), openAiOptions)
                    .GetChatClient(entry.Model).AsIChatClient();

            case LlmProvider.AzureOpenAI:
                var azureOptions = new AzureOpenAIClientOptions();
                ConfigurePipeline(azureOptions, http);
                return new AzureOpenAIClient(new Uri(entry.Endpoint!), new ApiKeyCredential(entry.ApiKey!), azureOptions)
                    .GetChatClient(entry.Model).AsIChatClient();

            case LlmProvider.Anthropic:
                var anthropic = new AnthropicClient(new Anthropic.Core.ClientOptions
                {
                    ApiKey = entry.ApiKey!,
                    BaseUrl = entry.Endpoint ?? "https://api.anthropic.com",
                    HttpClient = http,
                    MaxRetries = 0,
                });
                return anthropic.AsIChatClient(entry.Model, entry.MaxOutputTokens);

            default:
                throw new InvalidOperationException($"Model '{entry.Id}' has no provider to call (Llm:Provider is {entry.Provider}).");
        }
    }

    private static void ConfigurePipeline(ClientPipelineOptions options, HttpClient http)
    {
        options.Transport = new HttpClientPipelineTransport(http);
        options.RetryPolicy = new ClientRetryPolicy(maxRetries: 0);
        options.NetworkTimeout = TimeSpan.FromMinutes(10);
    }
}
