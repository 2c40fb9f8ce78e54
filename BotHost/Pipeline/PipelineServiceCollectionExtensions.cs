using ChatBot.Adapters.Turns;
using ChatBot.ChatData.Audit;
using ChatBot.BotHost.Conversations;
using ChatBot.BotHost.Identity;
using ChatBot.BotHost.Inbox;
using ChatBot.BotHost.Knowledge;
using ChatBot.BotHost.Models;
using ChatBot.BotHost.Quotas;
using ChatBot.BotHost.Usage;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Pipeline;

internal static class PipelineServiceCollectionExtensions
{
    /// <summary>The inbox, its dispatcher and everything a turn passes through.</summary>
    public static WebApplicationBuilder AddChatPipeline(this WebApplicationBuilder builder)
    {
        builder.AddModels();
        builder.Services.AddOptions<Safety.SafetyOptions>().BindConfiguration(Safety.SafetyOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<Safety.SafetyOptions>, Safety.SafetyOptionsValidator>();
        builder.Services.AddSingleton<Safety.BlockedTopics>();
        builder.Services.AddOptions<InboxOptions>().BindConfiguration(InboxOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InboxOptions>, InboxOptionsValidator>();
        builder.Services.AddSingleton<InboxSignal>();
        builder.Services.AddSingleton<HostInstance>();
        builder.Services.AddSingleton<ITurnInbox, TurnInbox>();
        builder.Services.AddSingleton<UserDirectory>();
        builder.Services.AddSingleton<ConversationStore>();
        builder.Services.AddSingleton<IChannelInstallations, ChannelInstallations>();
        builder.Services.AddSingleton<ChatFileIntake>();
        builder.Services.AddSingleton<QuotaService>();
        builder.Services.AddSingleton<UsageReport>();
        builder.Services.AddSingleton<IUserUsageReport>(sp => sp.GetRequiredService<UsageReport>());
        builder.Services.AddSingleton<UsageRecorder>();
        builder.Services.AddSingleton<ReplyChannels>();
        builder.Services.AddSingleton<PromptBuilder>();
        builder.Services.AddSingleton<TurnPipeline>();
        builder.Services.AddSingleton<ITurnProcessor>(sp => sp.GetRequiredService<TurnPipeline>());
        builder.Services.AddSingleton<InboxDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<InboxDispatcher>());
        return builder;
    }
}
