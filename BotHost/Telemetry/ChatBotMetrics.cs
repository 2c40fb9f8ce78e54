using System.Diagnostics;
using System.Diagnostics.Metrics;
using ChatBot.ChatData.Conversations;
using ChatBot.ChatData.Usage;

namespace ChatBot.BotHost.Telemetry;

/// <summary>
/// The host's own instruments (meter and activity source "ChatBot"). Labels are low-cardinality by design:
/// channel, outcome, model, error kind, status — never a user, conversation or text.
/// </summary>
internal sealed class ChatBotMetrics
{
    public const string Name = "ChatBot";

    /// <summary>Spans of the chat pipeline: a turn, its retrieval and its generation (HTTP calls are their children).</summary>
    public static readonly ActivitySource Activities = new(Name);

    private readonly Counter<long> _turns;
    private readonly Histogram<double> _turnDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _modelErrors;

    public ChatBotMetrics(IMeterFactory meters, TelemetrySampler sampler)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(sampler);
        var meter = meters.Create(Name);
        _turns = meter.CreateCounter<long>("chatbot.turns", "{turn}", "Turns ended, by channel and outcome (answered, failed, refused).");
        _turnDuration = meter.CreateHistogram<double>("chatbot.turn.duration", "s", "Time from receiving a turn to its complete answer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80] });
        _timeToFirstToken = meter.CreateHistogram<double>("chatbot.turn.time_to_first_token", "s", "Time from receiving a turn to the answer's first words.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20] });
        _tokens = meter.CreateCounter<long>("chatbot.tokens", "{token}", "Model tokens, by model and direction (input, output).");
        _cost = meter.CreateCounter<double>("chatbot.cost", "USD", "Model cost at the configured prices, by model.");
        _modelErrors = meter.CreateCounter<long>("chatbot.model.errors", "{error}", "Model calls given up, by model and kind (timeout, rate-limited, server-error, unreachable, ...).");
        meter.CreateObservableGauge("chatbot.inbox.depth", () => sampler.InboxDepth(), "{turn}", "Turns waiting or running, by status.");
        meter.CreateObservableGauge("chatbot.inbox.oldest_age", () => sampler.InboxOldestAge(), "s", "Age of the oldest turn waiting to run.");
        meter.CreateObservableGauge("chatbot.ingestion.documents", () => sampler.Documents(), "{document}", "Documents by ingestion status.");
        meter.CreateObservableGauge("chatbot.ingestion.jobs", () => sampler.Jobs(), "{job}", "Background jobs by state (enqueued, scheduled, processing, failed).");
    }

    public void TurnEnded(Channel channel, UsageOutcome outcome, string model, long inputTokens, long outputTokens, long costMicroUsd, int latencyMs, int? timeToFirstTokenMs)
    {
        var channelTag = new KeyValuePair<string, object?>("channel", channel.ToString().ToLowerInvariant());
        var outcomeTag = new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant());
        _turns.Add(1, channelTag, outcomeTag);
        _turnDuration.Record(latencyMs / 1000.0, channelTag, outcomeTag);
        if (timeToFirstTokenMs is { } ttft)
        {
            _timeToFirstToken.Record(ttft / 1000.0, channelTag, new KeyValuePair<string, object?>("model", model));
        }

        var modelTag = new KeyValuePair<string, object?>("model", model);
        if (inputTokens > 0)
        {
            _tokens.Add(inputTokens, modelTag, new KeyValuePair<string, object?>("direction", "input"));
        }

        if (outputTokens > 0)
        {
            _tokens.Add(outputTokens, modelTag, new KeyValuePair<string, object?>("direction", "output"));
        }

        if (costMicroUsd > 0)
        {
            _cost.Add(costMicroUsd / 1_000_000.0, modelTag);
        }
    }

    public void ModelFailed(string model, string kind) =>
        _modelErrors.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("kind", kind));
}
