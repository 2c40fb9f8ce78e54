using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace ChatBot.AdminPortal.Pages;

/// <summary>A page of a list: which one, how many in all, and links to the others that keep the current filters.</summary>
public sealed record Paging(int Page, int PageSize, int Total, string Path, IQueryCollection Query)
{
    public int PageCount => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public int Skip => (Page - 1) * PageSize;

    public string Href(int page)
    {
        var query = Query.Where(q => q.Key != "page").ToDictionary(q => q.Key, q => (string?)q.Value.ToString());
        query["page"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return QueryHelpers.AddQueryString(Path, query);
    }

    /// <summary>A page number from the query, kept within 1…<paramref name="pageCount"/>.</summary>
    public static int Clamp(int requested, int total, int pageSize) =>
        Math.Clamp(requested, 1, Math.Max(1, (total + pageSize - 1) / pageSize));
}
