using ChatBot.ChatData.Database;
using ChatBot.ChatData.Inbox;
using ChatBot.KnowledgeIngest.Ingestion;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Privacy;

/// <summary>The <c>Retention</c> section: how long conversations and stored turns are kept.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>Messages older than this are deleted, with conversations left empty and the files shared only in them; 0 keeps them.</summary>
    public int ConversationDays { get; set; }

    /// <summary>Finished inbox rows (each holds the message as received) are deleted after this many days.</summary>
    public int InboxDays { get; set; } = 7;

    /// <summary>Cron expression (UTC) of the recurring retention job.</summary>
    public string Schedule { get; set; } = "17 * * * *";
}

internal sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        var errors = new List<string>();
        if (options.ConversationDays is < 0 or > 36_500)
        {
            errors.Add("Retention:ConversationDays must be between 0 (keep) and 36500.");
        }

        if (options.InboxDays is < 1 or > 3650)
        {
            errors.Add("Retention:InboxDays must be between 1 and 3650.");
        }

        if (!IsCron(options.Schedule))
        {
            errors.Add($"Retention:Schedule must be a cron expression (5 fields, UTC), not '{options.Schedule}'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Five fields of the characters cron uses (Hangfire parses it for real when the job is scheduled).</summary>
    private static bool IsCron(string? expression) =>
        expression is not null && System.Text.RegularExpressions.Regex.IsMatch(
            expression.Trim(), @"^[0-9A-Za-z*,/\-?LW#]+( [0-9A-Za-z*,/\-?LW#]+){4}$", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
}

/// <summary>What a retention pass deleted.</summary>
internal sealed record RetentionResult(int Messages, int Conversations, int Documents, int InboxRows);

/// <summary>
/// The recurring retention pass (a Hangfire job, so it runs on a worker and shows in the jobs dashboard): messages past
/// <c>Retention:ConversationDays</c>, the conversations they leave empty and the files shared only in those; finished
/// inbox rows past <c>Retention:InboxDays</c>. Each step is idempotent, so two workers running it at once do no harm.
/// </summary>
internal sealed partial class RetentionJob(
    IDbContextFactory<ChatDbContext> contexts,
    DocumentIntake documents,
    IOptions<RetentionOptions> options,
    TimeProvider clock,
    ILogger<RetentionJob> logger)
{
    public const string JobId = "retention";

    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    public async Task<RetentionResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var inboxBefore = now.AddDays(-o.InboxDays);
        var inboxRows = await db.Inbox
            .Where(i => (i.Status == InboxStatus.Done || i.Status == InboxStatus.Failed) && i.CompletedAt < inboxBefore)
            .ExecuteDeleteAsync(cancellationToken);

        int messages = 0, conversations = 0, files = 0;
        if (o.ConversationDays > 0)
        {
            var before = now.AddDays(-o.ConversationDays);
            messages = await db.Messages.Where(m => m.CreatedAt < before).ExecuteDeleteAsync(cancellationToken);
            var emptied = await db.Conversations
                .Where(c => c.UpdatedAt < before && !c.Messages.Any())
                .Select(c => c.Id)
                .ToListAsync(cancellationToken);
            files = await PersonalData.DeleteConversationFilesAsync(db, documents, emptied, cancellationToken);

            conversations = await db.Conversations.Where(c => emptied.Contains(c.Id)).ExecuteDeleteAsync(cancellationToken);
        }

        Log.Pass(logger, messages, conversations, files, inboxRows);
        return new RetentionResult(messages, conversations, files, inboxRows);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 960, Level = LogLevel.Information, Message = "Retention: deleted {Messages} messages, {Conversations} conversations, {Documents} files, {InboxRows} inbox rows")]
        public static partial void Pass(ILogger logger, int messages, int conversations, int documents, int inboxRows);
    }
}

/// <summary>Registers (or updates) the recurring retention job at start.</summary>
internal sealed class RetentionSchedule(JobStorage storage, IOptions<RetentionOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        new RecurringJobManager(storage).AddOrUpdate<RetentionJob>(RetentionJob.JobId, j => j.RunAsync(CancellationToken.None), options.Value.Schedule);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static class PrivacyExtensions
{
    public static WebApplicationBuilder AddPrivacy(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RetentionOptions>, RetentionOptionsValidator>();
        builder.Services.AddSingleton<ChatData.Users.IPersonalData, PersonalData>();
        builder.Services.AddTransient<RetentionJob>();
        builder.Services.AddHostedService<RetentionSchedule>();
        return builder;
    }
}
