using Microsoft.Extensions.Options;

namespace ChatBot.Adapters.Slack;

/// <summary>The <c>Slack</c> section. Slack is enabled when <see cref="BotToken"/> is set.</summary>
public sealed class SlackOptions
{
    public const string SectionName = "Slack";

    public const string SlackApiBaseUrl = "https://slack.com/api/";

    /// <summary>Verifies every request Slack sends. Required when Slack is enabled; there is no "skip verification".</summary>
    public string? SigningSecret { get; set; }

    /// <summary>The bot token (xoxb-…) used for the Web API.</summary>
    public string? BotToken { get; set; }

    /// <summary>The app-level token (xapp-…) for Socket Mode; optional.</summary>
    public string? AppToken { get; set; }

    public string ApiBaseUrl { get; set; } = SlackApiBaseUrl;

    public bool Enabled => !string.IsNullOrWhiteSpace(BotToken);
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
            errors.Add("Slack:SigningSecret is required when Slack is enabled (Slack:BotToken is set).");
        }

        if (!options.BotToken!.StartsWith("xoxb-", StringComparison.Ordinal))
        {
            errors.Add("Slack:BotToken must be a bot token (xoxb-…).");
        }

        if (!string.IsNullOrWhiteSpace(options.AppToken) && !options.AppToken.StartsWith("xapp-", StringComparison.Ordinal))
        {
            errors.Add("Slack:AppToken must be an app-level token (xapp-…).");
        }

        OptionsUrls.RequireHttpsOrLoopback(errors, "Slack:ApiBaseUrl", options.ApiBaseUrl);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
