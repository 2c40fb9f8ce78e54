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

    public bool Enabled => !string.IsNullOrWhiteSpace(AppId);
}

internal sealed class TeamsOptionsValidator : IValidateOptions<TeamsOptions>
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
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
