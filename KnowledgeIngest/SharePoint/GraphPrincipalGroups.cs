using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph.Models.ODataErrors;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>
/// A person's Entra groups, transitive (groups in groups), from Graph by their email, kept for
/// <c>Graph:GroupCacheMinutes</c>. Someone Graph does not know belongs to no groups. When Graph cannot be reached the
/// last known memberships are used if there are any, otherwise none (restricted documents stay out, never in).
/// </summary>
public sealed partial class GraphPrincipalGroups(GraphClients graph, IOptions<GraphOptions> options, TimeProvider clock, ILogger<GraphPrincipalGroups> logger)
    : Retrieval.IPrincipalGroups
{
    private readonly ConcurrentDictionary<string, (IReadOnlyList<string> Groups, DateTimeOffset Until)> _cache = new(StringComparer.OrdinalIgnoreCase);

    public async Task<IReadOnlyList<string>> GroupsOfAsync(string email, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(email, out var cached) && cached.Until > now)
        {
            return cached.Groups;
        }

        try
        {
            var groups = new List<string>();
            var members = graph.Client.Users[email].TransitiveMemberOf.GraphGroup;
            var page = await members.GetAsync(c => { c.QueryParameters.Select = ["id"]; c.QueryParameters.Top = 999; }, cancellationToken);
            while (page is not null)
            {
                groups.AddRange((page.Value ?? []).Select(g => g.Id).OfType<string>());
                page = page.OdataNextLink is { } next ? await members.WithUrl(next).GetAsync(cancellationToken: cancellationToken) : null;
            }

            _cache[email] = (groups, now + TimeSpan.FromMinutes(options.Value.GroupCacheMinutes));
            return groups;
        }
        catch (ODataError error) when (error.ResponseStatusCode == 404)
        {
            _cache[email] = ([], now + TimeSpan.FromMinutes(options.Value.GroupCacheMinutes));
            return [];
        }
        catch (Exception ex) when (ex is ODataError or HttpRequestException or GraphAuthenticationException)
        {
            Log.Unavailable(logger, ex.GetType().Name);
            return cached.Groups ?? [];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4620, Level = LogLevel.Warning, Message = "Could not read a person's groups from Graph ({Error}); using what was known")]
        public static partial void Unavailable(ILogger logger, string error);
    }
}
