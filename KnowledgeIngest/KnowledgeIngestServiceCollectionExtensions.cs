using ChatBot.KnowledgeIngest.Retrieval;
using ChatBot.KnowledgeIngest.SharePoint;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatBot.KnowledgeIngest;

public static class KnowledgeIngestServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddKnowledgeIngest(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<GraphOptions>().BindConfiguration(GraphOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GraphOptions>, GraphOptionsValidator>();
        builder.Services.AddOptions<SharePointOptions>().BindConfiguration(SharePointOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SharePointOptions>, SharePointOptionsValidator>();
        builder.Services.TryAddSingleton<IKnowledgeRetriever, EmptyKnowledgeRetriever>();
        return builder;
    }
}
