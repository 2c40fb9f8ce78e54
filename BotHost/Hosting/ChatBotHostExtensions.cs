using ChatBot.Adapters;
using ChatBot.Adapters.Slack;
using ChatBot.Adapters.Teams;
using ChatBot.Adapters.Web;
using ChatBot.AdminPortal;
using ChatBot.BotHost.Accounts;
using ChatBot.BotHost.Api;
using ChatBot.BotHost.Webhooks;
using ChatBot.BotHost.Health;
using ChatBot.BotHost.Limits;
using ChatBot.BotHost.Privacy;
using ChatBot.BotHost.Telemetry;
using ChatBot.BotHost.Knowledge;
using ChatBot.BotHost.Pipeline;
using ChatBot.BotHost.WebChat;
using ChatBot.ChatData.Database;
using ChatBot.KnowledgeIngest;

namespace ChatBot.BotHost.Hosting;

/// <summary>The composition root: every feature registers itself here, in one visible order.</summary>
internal static class ChatBotHostExtensions
{
    /// <summary>The address the host listens on when none is configured (README: "http://localhost:5080").</summary>
    public const string DefaultUrl = "http://localhost:5080";

    public static WebApplicationBuilder AddChatBotHost(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddHostRole();
        builder.AddChatData();
        builder.AddChannelAdapters();
        builder.AddKnowledgeIngest();
        builder.AddKnowledgeJobs();
        builder.AddWebChatAdapter();
        builder.AddAdminPortal();
        // Lifecycle services start in this order: migrate, then bootstrap the admin, then everything else.
        builder.Services.AddHostedService<DatabaseMigrationService>();
        builder.AddAccounts();
        builder.Services.AddHostedService<SharePointSchedule>();
        builder.Services.AddOptions<WebChatOptions>().BindConfiguration(WebChatOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<WebChatOptions>, WebChatOptionsValidator>();
        builder.AddChatPipeline();
        builder.AddPublicApi();
        builder.AddWebhooks();
        builder.Services.AddRazorPages();
        builder.Services.AddHostedService<StartupBanner>();
        builder.AddHealth();
        builder.AddTelemetry();
        builder.AddRequestLimits();
        builder.AddPrivacy();
        return builder;
    }

    public static WebApplication MapChatBotHost(this WebApplication app)
    {
        app.UseWorkerOnlyServesHealth();
        app.MapHealth();
        app.MapMetrics();
        app.UseStaticFiles();
        app.UseRequestLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMustChangePassword();
        app.MapJobsDashboard();
        app.MapRazorPages();
        app.MapEntraSignIn();
        app.MapWebChatApi();
        app.MapWebChatTurns();
        app.MapDocumentDownload();
        app.MapWebChatUploads();
        app.MapPublicApi();
        app.MapTeams();
        app.MapSlack();
        return app;
    }
}
