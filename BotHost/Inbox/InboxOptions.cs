using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Inbox;

/// <summary>The <c>Inbox</c> section: how turns are leased and run.</summary>
internal sealed class InboxOptions
{
    public const string SectionName = "Inbox";

    /// <summary>How long a host owns a turn without renewing; a crashed host's turns are taken over after this.</summary>
    public double LeaseSeconds { get; set; } = 30;

    /// <summary>How often the dispatcher looks for work it was not told about (turns stored by another instance, expired leases).</summary>
    public double PollSeconds { get; set; } = 1;

    /// <summary>
    /// Turns run at once by this host: 48 per core (at least 32, at most 512). Turns mostly wait on the model, so this
    /// is well above the core count; more than the cores can feed only makes every turn, and every webhook
    /// acknowledgement, wait for CPU. bench/load, 500 Slack conversations on 2 cores: 48 turns at once → 55 turns/s
    /// (the model's 0.8 s per answer was the limit), 96 → 91 turns/s with acknowledgements p99 74 ms, 128 → 92 turns/s
    /// and p99 86 ms, 256 → 100 turns/s but p99 390 ms and 15% more memory.
    /// </summary>
    public int MaxConcurrentTurns { get; set; } = Math.Clamp(Environment.ProcessorCount * 48, 32, 512);

    /// <summary>After this many tries a turn is marked failed and the user told.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// A web chat or API turn waits this long for the host holding its stream; then any host answers it (the answer is
    /// in the conversation when the browser comes back).
    /// </summary>
    public double AffinityGraceSeconds { get; set; } = 15;

    public TimeSpan AffinityGrace => TimeSpan.FromSeconds(AffinityGraceSeconds);

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan Poll => TimeSpan.FromSeconds(PollSeconds);
}

internal sealed class InboxOptionsValidator : IValidateOptions<InboxOptions>
{
    public ValidateOptionsResult Validate(string? name, InboxOptions options)
    {
        var errors = new List<string>();
        if (options.LeaseSeconds is < 1 or > 3600)
        {
            errors.Add("Inbox:LeaseSeconds must be between 1 and 3600.");
        }

        if (options.PollSeconds is < 0.05 or > 60)
        {
            errors.Add("Inbox:PollSeconds must be between 0.05 and 60.");
        }

        if (options.MaxConcurrentTurns is < 1 or > 4096)
        {
            errors.Add("Inbox:MaxConcurrentTurns must be between 1 and 4096.");
        }

        if (options.AffinityGraceSeconds is < 1 or > 3600)
        {
            errors.Add("Inbox:AffinityGraceSeconds must be between 1 and 3600.");
        }

        if (options.MaxAttempts is < 1 or > 20)
        {
            errors.Add("Inbox:MaxAttempts must be between 1 and 20.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
