using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>
/// The one <see cref="GraphServiceClient"/> of this process: Graph's own HTTP pipeline (retries of 429, 503 and 504
/// that wait for Retry-After, redirects, compression), app-only tokens for the Graph host only, and
/// <c>Graph:BaseUrl</c> so tests can point it at a fake Graph.
/// </summary>
public sealed class GraphClients(GraphTokenProvider tokens, IOptions<GraphOptions> options) : IDisposable
{
    private readonly Lazy<(HttpClient Http, GraphServiceClient Client)> _client = new(() =>
    {
        var http = GraphClientFactory.Create();
        http.Timeout = TimeSpan.FromMinutes(5);
        var client = new GraphServiceClient(http, new BaseBearerTokenAuthenticationProvider(tokens), options.Value.BaseUrl.TrimEnd('/'));
        return (http, client);
    });

    public GraphServiceClient Client => _client.Value.Client;

    public string BaseUrl => options.Value.BaseUrl.TrimEnd('/');

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Client.Dispose();
            _client.Value.Http.Dispose();
        }
    }
}
