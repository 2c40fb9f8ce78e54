using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack;

/// <summary>
/// The <c>Slack</c> section. Slack is enabled when <see cref="BotToken"/> is set (one workspace from configuration) or
/// when <see cref="ClientId"/> and <see cref="ClientSecret"/> are (workspaces installed through OAuth), or both.
/// </summary>
public sealed class SlackOptions
{
    public const string SectionName = "Slack";

    public const string SlackApiBaseUrl = "https://slack.com/api/";

    /// <summary>Verifies every request Slack sends. Required when Slack is enabled; there is no "skip verification".</summary>
    public string? SigningSecret { get; set; }

    /// <summary>The bot token (xoxb-…) of the one workspace configured here; others come from OAuth installs.</summary>
    public string? BotToken { get; set; }

    /// <summary>The app's client id, for the OAuth install flow (<c>/api/slack/install</c>).</summary>
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>Slack's authorization page.</summary>
    public string AuthorizeUrl { get; set; } = "https://slack.com/oauth/v2/authorize";

    /// <summary>The callback URL registered with the app; by default this host's <c>/api/slack/oauth/callback</c> as requested.</summary>
    public string? OAuthRedirectUrl { get; set; }

    /// <summary>Workspace (T…) or Enterprise Grid org (E…) ids that may install the app; empty: any an admin installs it in.</summary>
    public IList<string> AllowedTeams { get; } = [];

    /// <summary>The app-level token (xapp-…) for Socket Mode; optional.</summary>
    public string? AppToken { get; set; }

    public string ApiBaseUrl { get; set; } = SlackApiBaseUrl;

    /// <summary>Largest accepted request body (events, commands, interactivity).</summary>
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Seconds between streamed appends (chat.appendStream) or fallback updates (chat.update, about one a second).</summary>
    public double StreamIntervalSeconds { get; set; } = 1.0;

    /// <summary>Answer messages from other bots. Off by default: two bots answering each other never stop.</summary>
    public bool AnswerOtherBots { get; set; }

    public bool OAuthEnabled => !string.IsNullOrWhiteSpace(ClientId) && !string.IsNullOrWhiteSpace(ClientSecret);

    public bool Enabled => !string.IsNullOrWhiteSpace(BotToken) || OAuthEnabled;
}

internal sealed class SlackOptionsValidator : IValidateOptions<SlackOptions>
{
    public ValidateOptionsResult Validate(string? name, SlackOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.SigningSecret))
        {
            errors.Add("Slack:SigningSecret is required when Slack is enabled (Slack:BotToken or Slack:ClientId and Slack:ClientSecret are set).");
        }

        if (!string.IsNullOrWhiteSpace(options.BotToken) && !options.BotToken.StartsWith("xoxb-", StringComparison.Ordinal))
        {
            errors.Add("Slack:BotToken must be a bot token (xoxb-…).");
        }

        if (string.IsNullOrWhiteSpace(options.ClientId) != string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            errors.Add("Slack:ClientId and Slack:ClientSecret go together (both for OAuth installs, or neither).");
        }

        OptionsUrls.RequireHttpsOrLoopback(errors, "Slack:AuthorizeUrl", options.AuthorizeUrl);
        if (!string.IsNullOrWhiteSpace(options.OAuthRedirectUrl))
        {
            OptionsUrls.RequireHttpsOrLoopback(errors, "Slack:OAuthRedirectUrl", options.OAuthRedirectUrl);
        }

        if (!string.IsNullOrWhiteSpace(options.AppToken) && !options.AppToken.StartsWith("xapp-", StringComparison.Ordinal))
        {
            errors.Add("Slack:AppToken must be an app-level token (xapp-…).");
        }

        OptionsUrls.RequireHttpsOrLoopback(errors, "Slack:ApiBaseUrl", options.ApiBaseUrl);
        if (!options.ApiBaseUrl.EndsWith('/'))
        {
            errors.Add("Slack:ApiBaseUrl must end with '/'.");
        }

        if (options.MaxBodyBytes is < 1024 or > 16 * 1024 * 1024)
        {
            errors.Add("Slack:MaxBodyBytes must be between 1 KB and 16 MB.");
        }

        if (options.StreamIntervalSeconds is < 0.05 or > 10)
        {
            errors.Add("Slack:StreamIntervalSeconds must be between 0.05 and 10.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
