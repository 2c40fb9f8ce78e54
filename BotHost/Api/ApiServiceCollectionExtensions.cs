using ChatBot.ChatData.Users;
using Microsoft.AspNetCore.Authorization;
using Scalar.AspNetCore;

namespace ChatBot.BotHost.Api;

/// <summary>The policies of the public API: the key's scope, and for documents and admin the owner's role at each request.</summary>
internal static class ApiPolicies
{
    public const string Chat = "api-chat";
    public const string Documents = "api-documents";
    public const string Admin = "api-admin";
}

internal static class ApiServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPublicApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthentication().AddApiAuthentication();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Chat, p => Key(p).RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, ApiScopes.Chat))
            .AddPolicy(ApiPolicies.Documents, p => Key(p).RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, ApiScopes.Documents).RequireRole("Admin", "KnowledgeOwner"))
            .AddPolicy(ApiPolicies.Admin, p => Key(p).RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, ApiScopes.Admin).RequireRole("Admin"));
        builder.Services.AddOpenApi("v1", o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/v1", StringComparison.Ordinal) == true || d.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new() { Title = "ChatBot API", Version = "v1", Description = "Company knowledge with citations, over HTTP. Authenticate with a personal API key (Authorization: Bearer cbk_…) or, where ChatBot uses Entra ID, an Entra access token for its app registration." };
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and the interactive reference (Scalar) at <c>/api/reference</c>.</summary>
    public static WebApplication MapPublicApi(this WebApplication app)
    {
        app.MapApiV1();
        app.MapApiDocuments();
        app.MapApiAdmin();
        app.MapOpenAiCompatible();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/api/reference", o => o.WithTitle("ChatBot API").WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();
        return app;
    }

    private static AuthorizationPolicyBuilder Key(AuthorizationPolicyBuilder policy) =>
        policy.AddAuthenticationSchemes(EntraBearer.ApiSchemeName).RequireAuthenticatedUser();
}
