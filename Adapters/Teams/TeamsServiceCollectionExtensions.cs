using ChatBot.Adapters.Teams.Auth;
using ChatBot.Adapters.Teams.Connector;
using ChatBot.Adapters.Teams.Replies;
using ChatBot.Adapters.Turns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatBot.Adapters.Teams;

internal static class TeamsServiceCollectionExtensions
{
    /// <summary>
    /// The Teams adapter's services. They are always registered and read <c>Teams:*</c> when first used, so the
    /// endpoint answers 404 until Teams is configured.
    /// </summary>
    public static IHostApplicationBuilder AddTeamsAdapter(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // Long-lived clients (the connector keeps per-conversation pacing): pooled connections are renewed instead.
        foreach (var name in new[] { TeamsHttpClients.OpenId, TeamsHttpClients.Token, TeamsHttpClients.Connector, TeamsHttpClients.Files })
        {
            services.AddHttpClient(name, c => c.Timeout = TimeSpan.FromSeconds(name == TeamsHttpClients.Files ? 120 : 30))
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = name == TeamsHttpClients.Files })
                .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        }

        services.AddSingleton<BotFrameworkAuthenticator>();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<BotTokenClient>(sp, sp.GetRequiredService<IHttpClientFactory>().CreateClient(TeamsHttpClients.Token)));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ConnectorClient>(sp, sp.GetRequiredService<IHttpClientFactory>().CreateClient(TeamsHttpClients.Connector)));
        services.AddSingleton<TeamsActivityHandler>();
        services.AddSingleton<IReplyChannel, TeamsReplyChannel>();
        services.AddSingleton<INoticeChannel, TeamsNoticeChannel>();
        services.AddSingleton<IAttachmentDownloader, TeamsAttachmentDownloader>();
        services.AddSingleton<IChannelUserDirectory, TeamsUserDirectory>();
        return builder;
    }
}
