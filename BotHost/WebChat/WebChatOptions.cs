using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.WebChat;

/// <summary>The <c>WebChat</c> section.</summary>
public sealed class WebChatOptions
{
    public const string SectionName = "WebChat";

    /// <summary>
    /// Email domains whose people may create their own web chat account (as plain users) at /register.
    /// Empty: only admins create accounts.
    /// </summary>
    public List<string> SelfRegistrationDomains { get; set; } = [];

    public bool AllowsSelfRegistration(string email)
    {
        var at = email.LastIndexOf('@');
        if (at <= 0 || at == email.Length - 1)
        {
            return false;
        }

        var domain = email[(at + 1)..];
        return SelfRegistrationDomains.Any(d => string.Equals(d.Trim().TrimStart('@'), domain, StringComparison.OrdinalIgnoreCase));
    }
}

internal sealed class WebChatOptionsValidator : IValidateOptions<WebChatOptions>
{
    public ValidateOptionsResult Validate(string? name, WebChatOptions options) =>
        options.SelfRegistrationDomains.Any(d => string.IsNullOrWhiteSpace(d) || d.Contains(' ', StringComparison.Ordinal) || !d.Contains('.', StringComparison.Ordinal))
            ? ValidateOptionsResult.Fail("WebChat:SelfRegistrationDomains must list email domains such as contoso.com.")
            : ValidateOptionsResult.Success;
}
