using ChatBot.KnowledgeIngest.SharePoint;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest.Tests;

public sealed class KnowledgeOptionsTests
{
    [Fact]
    public void Graph_ClientIdWithoutSecretAndTenant_FailsNamingBothKeys()
    {
        var result = new GraphOptionsValidator().Validate(null, new GraphOptions { ClientId = "c" });

        Assert.Contains("Graph:TenantId", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Graph:ClientSecret", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Graph_TokenEndpoint_DefaultsToTheTenantsEntraEndpoint()
    {
        var options = new GraphOptions { ClientId = "c", TenantId = "contoso.onmicrosoft.com", ClientSecret = "s" };

        Assert.True(new GraphOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token", options.ResolvedTokenEndpoint);
    }

    [Fact]
    public void SharePoint_SitesWithoutGraph_Fail()
    {
        var validator = new SharePointOptionsValidator(Options.Create(new GraphOptions()));

        var result = validator.Validate(null, new SharePointOptions { Sites = [new SharePointSiteOptions { SiteUrl = "https://contoso.sharepoint.com/sites/hr" }] });

        Assert.Contains("Graph:ClientId", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void SharePoint_SiteUrlNotHttps_FailsNamingTheEntry()
    {
        var graph = Options.Create(new GraphOptions { ClientId = "c", TenantId = "t", ClientSecret = "s" });

        var result = new SharePointOptionsValidator(graph).Validate(null, new SharePointOptions
        {
            Sites = [new SharePointSiteOptions { SiteUrl = "https://contoso.sharepoint.com/sites/hr" }, new SharePointSiteOptions { SiteUrl = "hr" }],
        });

        Assert.Contains("SharePoint:Sites:1:SiteUrl", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("SharePoint:Sites:0", result.FailureMessage, StringComparison.Ordinal);
    }
}
