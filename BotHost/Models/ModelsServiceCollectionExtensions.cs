using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace ChatBot.BotHost.Models;

internal static class ModelsServiceCollectionExtensions
{
    public static WebApplicationBuilder AddModels(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LlmOptions>().BindConfiguration(LlmOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<LlmOptions>, LlmOptionsValidator>();
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<TokenCounter>();
        builder.Services.AddSingleton<ChatClientFactory>();
        builder.Services.AddSingleton<ModelRouter>();
        // Null (no embeddings, BM25 only) unless Llm:EmbeddingModel is set; read when first asked for, after configuration is final.
        builder.Services.AddSingleton(sp => sp.GetRequiredService<ChatClientFactory>().CreateEmbeddingGenerator(sp.GetRequiredService<IOptions<LlmOptions>>().Value)!);

        builder.Services.AddHttpClient(ChatClientFactory.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("llm", (pipeline, context) =>
            {
                var o = context.ServiceProvider.GetRequiredService<IOptions<LlmOptions>>().Value;
                var maxRetryAfter = TimeSpan.FromSeconds(o.MaxRetryAfterSeconds);
                if (o.MaxRetries > 0)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = o.MaxRetries,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = TimeSpan.FromSeconds(o.RetryDelaySeconds),
                        MaxDelay = maxRetryAfter,
                        ShouldRetryAfterHeader = true,
                        ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, maxRetryAfter)),
                    });
                }

                pipeline.AddTimeout(TimeSpan.FromSeconds(o.AttemptTimeoutSeconds));
            });
        return builder;
    }

    /// <summary>429, 408 and 5xx (but not 501), network errors and attempt timeouts — unless Retry-After asks for longer than we wait.</summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, TimeSpan maxRetryAfter)
    {
        if (outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException)
        {
            return true;
        }

        if (outcome.Result is not { } response)
        {
            return false;
        }

        var status = (int)response.StatusCode;
        var transient = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
            || (status >= 500 && response.StatusCode != HttpStatusCode.NotImplemented);
        if (!transient)
        {
            return false;
        }

        var retryAfter = response.Headers.RetryAfter;
        var wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is null || wait <= maxRetryAfter;
    }
}
