using ChatBot.Adapters;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>The <c>Graph</c> section: app-only access to Microsoft Graph. Enabled when <see cref="ClientId"/> is set.</summary>
public sealed class GraphOptions
{
    public const string SectionName = "Graph";

    public string BaseUrl { get; set; } = "https://graph.microsoft.com/v1.0";

    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>Defaults to the tenant's Entra ID v2 token endpoint.</summary>
    public string? TokenEndpoint { get; set; }

    /// <summary>The app-only scope asked for (the Graph resource's <c>.default</c>).</summary>
    public string Scope { get; set; } = "https://graph.microsoft.com/.default";

    /// <summary>Minutes between delta syncs of each SharePoint source.</summary>
    public int SyncIntervalMinutes { get; set; } = 15;

    /// <summary>How long a person's (transitive) group memberships are kept before Graph is asked again.</summary>
    public int GroupCacheMinutes { get; set; } = 10;

    public bool Enabled => !string.IsNullOrWhiteSpace(ClientId);

    public string ResolvedTokenEndpoint =>
        TokenEndpoint ?? $"https://login.microsoftonline.com/{TenantId}/oauth2/v2.0/token";
}

/// <summary>The <c>SharePoint</c> section: document libraries to keep indexed.</summary>
public sealed class SharePointOptions
{
    public const string SectionName = "SharePoint";

    public List<SharePointSiteOptions> Sites { get; set; } = [];
}

public sealed class SharePointSiteOptions
{
    /// <summary>For example <c>https://contoso.sharepoint.com/sites/hr</c>.</summary>
    public string? SiteUrl { get; set; }

    /// <summary>The library's name; the site's default document library when absent.</summary>
    public string? Library { get; set; }

    public string? Folder { get; set; }

    public List<string> Include { get; set; } = [];

    public List<string> Exclude { get; set; } = [];
}

internal sealed class GraphOptionsValidator : IValidateOptions<GraphOptions>
{
    public ValidateOptionsResult Validate(string? name, GraphOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.TenantId))
        {
            errors.Add("Graph:TenantId is required when Graph:ClientId is set.");
        }

        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            errors.Add("Graph:ClientSecret is required when Graph:ClientId is set.");
        }

        OptionsUrls.RequireHttpsOrLoopback(errors, "Graph:BaseUrl", options.BaseUrl);
        if (options.SyncIntervalMinutes is < 1 or > 1440)
        {
            errors.Add("Graph:SyncIntervalMinutes must be between 1 and 1440.");
        }

        if (options.GroupCacheMinutes is < 0 or > 1440)
        {
            errors.Add("Graph:GroupCacheMinutes must be between 0 and 1440.");
        }

        if (options.TokenEndpoint is not null)
        {
            OptionsUrls.RequireHttpsOrLoopback(errors, "Graph:TokenEndpoint", options.TokenEndpoint);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class SharePointOptionsValidator(IOptions<GraphOptions> graph) : IValidateOptions<SharePointOptions>
{
    public ValidateOptionsResult Validate(string? name, SharePointOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.Sites.Count; i++)
        {
            var site = options.Sites[i];
            if (!Uri.TryCreate(site.SiteUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"SharePoint:Sites:{i}:SiteUrl must be an https URL such as https://contoso.sharepoint.com/sites/hr.");
            }
        }

        if (options.Sites.Count > 0 && !graph.Value.Enabled)
        {
            errors.Add("Graph:ClientId, Graph:TenantId and Graph:ClientSecret are required when SharePoint:Sites is set.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
