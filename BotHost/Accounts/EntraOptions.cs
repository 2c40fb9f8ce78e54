using ChatBot.Adapters;
using Microsoft.Extensions.Options;

namespace ChatBot.BotHost.Accounts;

/// <summary>
/// The <c>Entra</c> section: sign-in with Microsoft Entra ID (OpenID Connect, authorization code + PKCE) for the web
/// chat and the portal. Enabled when <see cref="ClientId"/> is set.
/// </summary>
public sealed class EntraOptions
{
    public const string SectionName = "Entra";

    public const string PublicInstance = "https://login.microsoftonline.com/";

    /// <summary>The sign-in service; a national cloud or, in tests, a fake provider on a loopback address.</summary>
    public string Instance { get; set; } = PublicInstance;

    /// <summary>The organisation's tenant (id or verified domain). Multi-tenant values are refused: emails link accounts.</summary>
    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The app role (in the token's <c>roles</c> claim) that makes a person an admin.</summary>
    public string AdminAppRole { get; set; } = "Admin";

    /// <summary>The app role that makes a person a knowledge owner.</summary>
    public string KnowledgeOwnerAppRole { get; set; } = "KnowledgeOwner";

    /// <summary>
    /// When true (the default) every Entra sign-in sets the person's role from their app roles (none: plain user), so
    /// Entra stays the one place roles are granted. When false, roles are managed in the portal only.
    /// </summary>
    public bool RolesFromAppRoles { get; set; } = true;

    /// <summary>The label of the sign-in button.</summary>
    public string ButtonText { get; set; } = "Sign in with Microsoft";

    public bool Enabled => !string.IsNullOrWhiteSpace(ClientId);

    public string Authority => $"{Instance.TrimEnd('/')}/{TenantId}/v2.0";
}

internal sealed class EntraOptionsValidator : IValidateOptions<EntraOptions>
{
    private static readonly string[] MultiTenantValues = ["common", "organizations", "consumers"];

    public ValidateOptionsResult Validate(string? name, EntraOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.TenantId))
        {
            errors.Add("Entra:TenantId is required when Entra:ClientId is set.");
        }
        else if (MultiTenantValues.Contains(options.TenantId.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            errors.Add("Entra:TenantId must be your organisation's tenant, not a multi-tenant value such as 'common'.");
        }

        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            errors.Add("Entra:ClientSecret is required when Entra:ClientId is set.");
        }

        OptionsUrls.RequireHttpsOrLoopback(errors, "Entra:Instance", options.Instance);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
