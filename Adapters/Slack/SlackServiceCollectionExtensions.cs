using ChatBot.Adapters.Slack.Api;
using ChatBot.Adapters.Slack.Events;
using ChatBot.Adapters.Slack.Installs;
using ChatBot.Adapters.Slack.Replies;
using ChatBot.Adapters.Slack.SocketMode;
using ChatBot.Adapters.Turns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatBot.Adapters.Slack;

internal static class SlackServiceCollectionExtensions
{
    /// <summary>The Slack adapter's services: always registered, reading <c>Slack:*</c> when used (404 until configured).</summary>
    public static IHostApplicationBuilder AddSlackAdapter(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // Held by singletons: pooled connections are renewed instead of the handler.
        services.AddHttpClient<SlackApiClient>(c => c.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddSingleton<SlackInstallations>();
        services.AddSingleton<SlackBotApi>();
        services.AddSingleton<SlackOAuth>();
        services.AddSingleton<IChannelContext, SlackChannelContext>();
        services.AddSingleton<SlackEventHandler>();
        services.AddSingleton<SlackInteractions>();
        services.AddSingleton<IReplyChannel, SlackReplyChannel>();
        services.AddSingleton<INoticeChannel, SlackNoticeChannel>();
        services.AddSingleton<IChannelUserDirectory, SlackUserDirectory>();
        services.AddHttpClient(SlackAttachmentDownloader.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(120));
        services.AddSingleton<IAttachmentDownloader, SlackAttachmentDownloader>();
        services.AddHttpClient(SlackSocketMode.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<SlackSocketMode>();
        services.AddHostedService(sp => sp.GetRequiredService<SlackSocketMode>());
        return builder;
    }
}
