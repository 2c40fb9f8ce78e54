using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Models;

/// <summary>Why one model in the chain was given up.</summary>
internal sealed record ModelFailure(string ModelId, string Kind);

/// <summary>What came of a generation over the fallback chain.</summary>
/// <param name="Model">The model that answered; null when every model failed.</param>
/// <param name="Text">Everything streamed (partial when <paramref name="Interrupted"/>).</param>
/// <param name="InputTokens">From the provider's usage report, when it sent one.</param>
/// <param name="OutputTokens">From the provider's usage report, when it sent one.</param>
/// <param name="FirstTokenAt">When the first words arrived.</param>
/// <param name="Interrupted">The model stopped mid-answer; no other model can take over a half-shown answer.</param>
/// <param name="Failures">The models given up on the way, in order.</param>
/// <param name="ContentFiltered">The provider's content filter cut the answer (or all of it).</param>
internal sealed record GenerationResult(
    ModelEntry? Model,
    string Text,
    long? InputTokens,
    long? OutputTokens,
    DateTimeOffset? FirstTokenAt,
    bool Interrupted,
    IReadOnlyList<ModelFailure> Failures,
    bool ContentFiltered = false)
{
    public bool Succeeded => Model is not null && !Interrupted;
}

/// <summary>
/// Streams an answer from the first model of the chain that starts answering. Each model gets its HTTP retries
/// (see <see cref="ChatClientFactory"/>) and a first-words timeout; a model that fails before its first words hands
/// over to the next. Once words are shown the model is kept; a later stall ends the answer as interrupted.
/// </summary>
internal sealed partial class ModelRouter(
    ChatClientFactory clients,
    IOptions<LlmOptions> options,
    Telemetry.ChatBotMetrics metrics,
    TimeProvider clock,
    ILogger<ModelRouter> logger)
{
    public async Task<GenerationResult> GenerateAsync(
        IReadOnlyList<ModelEntry> chain,
        IList<ChatMessage> messages,
        Func<string, CancellationToken, Task> onText,
        CancellationToken cancellationToken,
        CancellationToken userStopped = default)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(onText);
        var o = options.Value;
        var failures = new List<ModelFailure>();
        foreach (var entry in chain)
        {
            var text = new StringBuilder();
            long? inputTokens = null, outputTokens = null;
            DateTimeOffset? firstTokenAt = null;
            var filtered = false;
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, userStopped);
            attempt.CancelAfter(TimeSpan.FromSeconds(o.FirstTokenTimeoutSeconds));
            try
            {
                var chatOptions = new ChatOptions { ModelId = entry.Model, MaxOutputTokens = entry.MaxOutputTokens };
                await foreach (var update in clients.Get(entry).GetStreamingResponseAsync(messages, chatOptions, attempt.Token))
                {
                    filtered |= update.FinishReason == ChatFinishReason.ContentFilter;
                    foreach (var usage in update.Contents.OfType<UsageContent>())
                    {
                        inputTokens = usage.Details.InputTokenCount ?? inputTokens;
                        outputTokens = usage.Details.OutputTokenCount ?? outputTokens;
                    }

                    var piece = update.Text;
                    if (string.IsNullOrEmpty(piece))
                    {
                        continue;
                    }

                    firstTokenAt ??= clock.GetUtcNow();
                    attempt.CancelAfter(TimeSpan.FromSeconds(o.IdleTimeoutSeconds));
                    text.Append(piece);
                    await onText(piece, cancellationToken);
                }

                if (firstTokenAt is null && filtered)
                {
                    // Refused by the provider's filter: an answer (with nothing to show), not a failure to try elsewhere.
                    return new GenerationResult(entry, "", inputTokens, outputTokens, clock.GetUtcNow(), Interrupted: false, failures, ContentFiltered: true);
                }

                if (firstTokenAt is null)
                {
                    // A stream that ended without a word is a failure of that model, not an answer.
                    failures.Add(new ModelFailure(entry.Id, "empty"));
                    Log.ModelFailed(logger, entry.Id, "empty", null);
                    metrics.ModelFailed(entry.Id, "empty");
                    continue;
                }

                return new GenerationResult(entry, text.ToString(), inputTokens, outputTokens, firstTokenAt, Interrupted: false, failures, filtered);
            }
            catch (OperationCanceledException) when (userStopped.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The user pressed Stop: what was written is the answer; no other model is asked.
                return new GenerationResult(entry, text.ToString(), inputTokens, outputTokens, firstTokenAt, Interrupted: false, failures);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var kind = Classify(ex, attempt.IsCancellationRequested, firstTokenAt is not null);
                Log.ModelFailed(logger, entry.Id, kind, ex);
                metrics.ModelFailed(entry.Id, kind);
                failures.Add(new ModelFailure(entry.Id, kind));
                if (firstTokenAt is not null)
                {
                    return new GenerationResult(entry, text.ToString(), inputTokens, outputTokens, firstTokenAt, Interrupted: true, failures);
                }
            }
        }

        return new GenerationResult(null, "", null, null, null, Interrupted: false, failures);
    }

    private static string Classify(Exception ex, bool timedOut, bool started) => ex switch
    {
        _ when timedOut => started ? "stalled" : "timeout",
        System.ClientModel.ClientResultException { Status: 429 } => "rate-limited",
        System.ClientModel.ClientResultException { Status: >= 500 } => "server-error",
        System.ClientModel.ClientResultException { Status: 401 or 403 } => "unauthorized",
        System.ClientModel.ClientResultException => "rejected",
        HttpRequestException => "unreachable",
        Polly.Timeout.TimeoutRejectedException => "timeout",
        _ when ex.GetType().Namespace?.StartsWith("Anthropic", StringComparison.Ordinal) == true => "provider-error",
        _ => "error",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Model {ModelId} failed ({Kind})")]
        public static partial void ModelFailed(ILogger logger, string modelId, string kind, Exception? exception);
    }
}
