namespace ChatBot.KnowledgeIngest.Retrieval;

/// <summary>
/// The link a citation carries: the document's own URL (SharePoint, a channel file link) when it has one,
/// else the host's download route for the stored original, which checks the reader's access again.
/// </summary>
public sealed class DocumentLinks(string? publicBaseUrl)
{
    public const string DownloadRoute = "/knowledge/documents/{id:guid}/content";

    public string? For(Guid documentId, string? url)
    {
        if (!string.IsNullOrEmpty(url))
        {
            return url;
        }

        var path = $"/knowledge/documents/{documentId}/content";
        return string.IsNullOrEmpty(publicBaseUrl) ? path : publicBaseUrl.TrimEnd('/') + path;
    }
}
