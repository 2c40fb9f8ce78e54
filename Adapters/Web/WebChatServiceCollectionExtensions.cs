using ChatBot.Adapters.Turns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatBot.Adapters.Web;

public static class WebChatServiceCollectionExtensions
{
    /// <summary>The web chat's reply channel (also used by the HTTP API).</summary>
    public static IHostApplicationBuilder AddWebChatAdapter(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<WebChatFeeds>();
        builder.Services.AddSingleton<IReplyChannel>(sp => new WebReplyChannel(sp.GetRequiredService<WebChatFeeds>(), ChannelKind.Web));
        builder.Services.AddSingleton<IReplyChannel>(sp => new WebReplyChannel(sp.GetRequiredService<WebChatFeeds>(), ChannelKind.Api));
        return builder;
    }
}
