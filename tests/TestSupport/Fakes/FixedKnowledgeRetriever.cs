using ChatBot.KnowledgeIngest.Retrieval;

namespace ChatBot.TestSupport.Fakes;

/// <summary>
/// Returns the same passages for every question and remembers the requests — the seam the pipeline tests use
/// until they run against the real index.
/// </summary>
public sealed class FixedKnowledgeRetriever(params RetrievedPassage[] passages) : IKnowledgeRetriever
{
    private readonly List<RetrievalRequest> _requests = [];

    public IReadOnlyList<RetrievalRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public Task<IReadOnlyList<RetrievedPassage>> RetrieveAsync(RetrievalRequest request, CancellationToken cancellationToken)
    {
        lock (_requests)
        {
            _requests.Add(request);
        }

        return Task.FromResult<IReadOnlyList<RetrievedPassage>>(passages);
    }

    public static FixedKnowledgeRetriever VpnGuide() => new(
        new RetrievedPassage("doc-vpn", "VPN setup guide", "Install the Contoso VPN client from the Software Center. Sign in with your work account. Choose the Europe gateway when you travel. The client reconnects by itself after sleep.", 12.5, "https://intranet.example.com/vpn", Page: 2),
        new RetrievedPassage("doc-travel", "Travel policy", "Employees travelling abroad must use the VPN on public networks. Hotel Wi-Fi counts as public.", 8.1, "https://intranet.example.com/travel"));
}
