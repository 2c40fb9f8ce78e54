using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Teams;

/// <summary>The <c>Teams</c> section. Teams is enabled when <see cref="AppId"/> is set.</summary>
public sealed class TeamsOptions
{
    public const string SectionName = "Teams";

    public const string BotFrameworkOpenIdMetadataUrl = "https://login.botframework.com/v1/.well-known/openidconfiguration";

    public const string BotFrameworkTokenEndpoint = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";

    /// <summary>The bot's Microsoft App ID (Entra application id); the audience of inbound tokens.</summary>
    public string? AppId { get; set; }

    /// <summary>The application's client secret, used to get tokens for the Bot Connector.</summary>
    public string? AppPassword { get; set; }

    /// <summary>The bot's home tenant for single-tenant bots; outbound tokens come from this tenant when set.</summary>
    public string? TenantId { get; set; }

    public string OpenIdMetadataUrl { get; set; } = BotFrameworkOpenIdMetadataUrl;

    public string TokenEndpoint { get; set; } = BotFrameworkTokenEndpoint;

    /// <summary>Tenants allowed to talk to the bot; empty means any tenant.</summary>
    public string[] AllowedTenants { get; set; } = [];

    /// <summary>The issuer of channel tokens (<c>https://api.botframework.us</c> in the US Government cloud).</summary>
    public string TokenIssuer { get; set; } = "https://api.botframework.com";

    /// <summary>The scope of outbound tokens for the Bot Connector.</summary>
    public string ConnectorScope { get; set; } = "https://api.botframework.com/.default";

    /// <summary>
    /// Hosts the bot's token may be sent to (the activity's <c>serviceUrl</c>); a leading <c>*.</c> matches subdomains.
    /// Any other serviceUrl is refused before a token leaves the process.
    /// </summary>
    public string[] ServiceUrlHosts { get; set; } =
    [
        "smba.trafficmanager.net",
        "*.botframework.com",
        "smba.infra.gcc.teams.microsoft.com",
        "smba.infra.gov.teams.microsoft.us",
        "smba.infra.dod.teams.microsoft.us",
    ];

    /// <summary>Largest accepted activity body.</summary>
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Seconds between streamed updates in personal chats (Teams allows one request a second).</summary>
    public double StreamIntervalSeconds { get; set; } = 1.0;

    /// <summary>How long a personal-chat answer streams before the rest waits for the final message (Teams ends streams at two minutes).</summary>
    public double StreamLimitSeconds { get; set; } = 100;

    /// <summary>
    /// Accepts Bot Framework Emulator tokens (no channel endorsement). Honoured only in the Development environment;
    /// never set it anywhere else.
    /// </summary>
    public bool DangerouslyAcceptEmulatorTokens { get; set; }

    /// <summary>Where Emulator token keys come from.</summary>
    public string EmulatorOpenIdMetadataUrl { get; set; } = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration";

    public bool Enabled => !string.IsNullOrWhiteSpace(AppId);
}

internal sealed class TeamsOptionsValidator(IHostEnvironment environment) : IValidateOptions<TeamsOptions>
{
    public ValidateOptionsResult Validate(string? name, TeamsOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.AppPassword))
        {
            errors.Add("Teams:AppPassword is required when Teams:AppId is set.");
        }

        OptionsUrls.RequireHttpsOrLoopback(errors, "Teams:OpenIdMetadataUrl", options.OpenIdMetadataUrl);
        OptionsUrls.RequireHttpsOrLoopback(errors, "Teams:TokenEndpoint", options.TokenEndpoint);
        OptionsUrls.RequireHttpsOrLoopback(errors, "Teams:EmulatorOpenIdMetadataUrl", options.EmulatorOpenIdMetadataUrl);
        if (options.MaxBodyBytes is < 1024 or > 16 * 1024 * 1024)
        {
            errors.Add("Teams:MaxBodyBytes must be between 1 KB and 16 MB.");
        }

        if (options.StreamIntervalSeconds is < 0.05 or > 10)
        {
            errors.Add("Teams:StreamIntervalSeconds must be between 0.05 and 10.");
        }

        if (options.StreamLimitSeconds is < 0.5 or > 115)
        {
            errors.Add("Teams:StreamLimitSeconds must be between 0.5 and 115 (Teams ends a stream after 120 seconds).");
        }

        if (options.DangerouslyAcceptEmulatorTokens && !environment.IsDevelopment())
        {
            errors.Add("Teams:DangerouslyAcceptEmulatorTokens is allowed only in the Development environment.");
        }

        if (options.ServiceUrlHosts.Length == 0)
        {
            errors.Add("Teams:ServiceUrlHosts must list at least one host.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
