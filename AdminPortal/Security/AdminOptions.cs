using Microsoft.Extensions.Options;

namespace ChatBot.AdminPortal.Security;

/// <summary>The <c>Admin</c> section.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>
    /// The first password of the bootstrap account <c>admin</c>, for automated deployments.
    /// When absent a password is generated, printed once to the console, and must be changed at first sign-in.
    /// </summary>
    public string? BootstrapPassword { get; set; }

    /// <summary>
    /// Whether admins may read message text in Conversations. Off by default: the portal shows metadata and feedback
    /// only, as most works councils and privacy officers expect.
    /// </summary>
    public bool ShowConversationContent { get; set; }
}

internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public const int MinimumPasswordLength = 12;

    public ValidateOptionsResult Validate(string? name, AdminOptions options) =>
        options.BootstrapPassword is { Length: < MinimumPasswordLength }
            ? ValidateOptionsResult.Fail($"Admin:BootstrapPassword must be at least {MinimumPasswordLength} characters.")
            : ValidateOptionsResult.Success;
}
