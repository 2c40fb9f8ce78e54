using ChatBot.Adapters.Slack;
using ChatBot.Adapters.Teams;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters;

public static class AdaptersServiceCollectionExtensions
{
    /// <summary>Binds and validates the Teams and Slack sections; each channel's endpoints arrive with its adapter.</summary>
    public static IHostApplicationBuilder AddChannelAdapters(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TeamsOptions>().BindConfiguration(TeamsOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TeamsOptions>, TeamsOptionsValidator>();
        builder.Services.AddOptions<SlackOptions>().BindConfiguration(SlackOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SlackOptions>, SlackOptionsValidator>();
        builder.AddTeamsAdapter();
        builder.AddSlackAdapter();
        return builder;
    }
}
