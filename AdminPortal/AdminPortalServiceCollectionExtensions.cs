using ChatBot.AdminPortal.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBot.AdminPortal;

public static class AdminPortalServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddAdminPortal(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(PortalPolicies.Admin, p => p.RequireAuthenticatedUser().RequireRole(PortalPolicies.AdminRole))
            .AddPolicy(PortalPolicies.Knowledge, p => p.RequireAuthenticatedUser().RequireRole(PortalPolicies.AdminRole, PortalPolicies.KnowledgeOwnerRole));
        // The portal's pages live in this library; the host serves them under /admin.
        builder.Services.AddRazorPages().AddApplicationPart(typeof(AdminPortalServiceCollectionExtensions).Assembly);
        return builder;
    }
}
