using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatBot.TestSupport.Fakes;

/// <summary>A file or folder of the fake library, with its permissions as Graph returns them.</summary>
public sealed class FakeDriveItem
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    public string ParentId { get; set; } = FakeGraph.RootId;

    public bool IsFolder { get; init; }

    public byte[] Content { get; set; } = [];

    /// <summary>Overrides the size Graph reports (to test the size limit without a large file).</summary>
    public long? ReportedSize { get; set; }

    public int ContentVersion { get; set; } = 1;

    public JsonArray Permissions { get; set; } = [];

    public string CTag => $"\"c:{{{Id}}},{ContentVersion}\"";
}

/// <summary>
/// Microsoft Graph on 127.0.0.1, as much of it as SharePoint sync uses: the client-credentials token endpoint, sites by
/// path, a site's drives, a drive's root delta (full enumeration and changes since a token, paged, with absolute
/// next/delta links on this host), item content (a 302 to a pre-authenticated download URL), item permissions, users
/// and their transitive groups. Every Graph call needs the bearer token. Tests change the library between syncs, and
/// can make a page answer 429 (with Retry-After), 500, or 410 for an expired token.
/// </summary>
public sealed class FakeGraph : IAsyncDisposable
{
    public const string TenantId = "tenant-1";
    public const string ClientId = "graph-client";
    public const string ClientSecret = "graph-secret";
    public const string SiteUrl = "https://contoso.sharepoint.com/sites/hr";
    public const string SiteId = "contoso.sharepoint.com,site-guid,web-guid";
    public const string DriveId = "b!drive-1";
    public const string RootId = "root-id";
    private const string Token = "graph-access-token";

    private readonly WebApplication _app;
    private readonly List<(long Sequence, string ItemId)> _changes = [];
    private readonly ConcurrentQueue<(int Status, int? RetryAfter)> _pageFaults = new();
    private readonly ConcurrentDictionary<string, int> _downloads = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly object _gate = new();
    private long _sequence;
    private bool _tokensExpired;
    private int _tokensIssued;

    private FakeGraph(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Items per delta page (small, so a few files make several pages).</summary>
    public int PageSize { get; set; } = 2;

    /// <summary>The library: id → item (deleted items are removed, with a change recorded).</summary>
    public ConcurrentDictionary<string, FakeDriveItem> Items { get; } = new(StringComparer.Ordinal);

    /// <summary>Users Graph knows: email → (object id, group ids).</summary>
    public ConcurrentDictionary<string, (string Id, string[] Groups)> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<string> Requests => [.. _requests];

    public int TokensIssued => _tokensIssued;

    public int DownloadsOf(string itemId) => _downloads.GetValueOrDefault(itemId);

    public static async Task<FakeGraph> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var graph = new FakeGraph(app);
        app.MapPost("/{tenant}/oauth2/v2.0/token", graph.TokenAsync);
        app.MapGet("/download/{itemId}", graph.Download);
        app.MapGet("/v1.0/{**path}", graph.GraphAsync);
        await app.StartAsync();
        graph.BaseUrl = app.Urls.First().TrimEnd('/');
        return graph;
    }

    /// <summary>The host settings that point ChatBot at this fake Graph.</summary>
    public Dictionary<string, string?> HostSettings() => new()
    {
        ["Graph:TenantId"] = TenantId,
        ["Graph:ClientId"] = ClientId,
        ["Graph:ClientSecret"] = ClientSecret,
        ["Graph:BaseUrl"] = BaseUrl + "/v1.0",
        ["Graph:TokenEndpoint"] = $"{BaseUrl}/{TenantId}/oauth2/v2.0/token",
    };

    public FakeDriveItem AddFolder(string id, string name, string parentId = RootId) => Put(new FakeDriveItem { Id = id, Name = name, ParentId = parentId, IsFolder = true });

    public FakeDriveItem AddFile(string id, string name, string text, JsonArray permissions, string parentId = RootId) =>
        Put(new FakeDriveItem { Id = id, Name = name, ParentId = parentId, Content = Encoding.UTF8.GetBytes(text), Permissions = permissions });

    /// <summary>New content: a new content tag and a change in the feed.</summary>
    public void Edit(string id, string text) => Change(id, item =>
    {
        item.Content = Encoding.UTF8.GetBytes(text);
        item.ContentVersion++;
    });

    /// <summary>A rename keeps the content tag.</summary>
    public void Rename(string id, string name) => Change(id, item => item.Name = name);

    public void SetPermissions(string id, JsonArray permissions) => Change(id, item => item.Permissions = permissions);

    public void Delete(string id)
    {
        lock (_gate)
        {
            Items.TryRemove(id, out _);
            _changes.Add((++_sequence, id));
        }
    }

    /// <summary>Removes an item without recording the change (as if it went while the sync's token was out of date).</summary>
    public void DeleteSilently(string id) => Items.TryRemove(id, out _);

    /// <summary>Every delta link handed out so far stops working (410 Gone).</summary>
    public void ExpireTokens()
    {
        lock (_gate)
        {
            _tokensExpired = true;
        }
    }

    /// <summary>The next delta page request answers <paramref name="status"/> (429 with Retry-After, 500, 503…).</summary>
    public void FailNextPage(int status, int? retryAfterSeconds = null) => _pageFaults.Enqueue((status, retryAfterSeconds));

    /// <summary>The <paramref name="number"/>-th delta request from now (1 = the next) answers <paramref name="status"/>, once.</summary>
    public void FailDeltaRequest(int number, int status, int? retryAfterSeconds = null)
    {
        for (var i = 1; i < number; i++)
        {
            _pageFaults.Enqueue((0, null));
        }

        _pageFaults.Enqueue((status, retryAfterSeconds));
    }

    /// <summary>Delta requests served (faults included).</summary>
    public int DeltaRequests => _deltaRequests;

    private int _deltaRequests;

    public static JsonArray OrganisationLink() => [new JsonObject { ["id"] = "p-org", ["roles"] = new JsonArray("read"), ["link"] = new JsonObject { ["scope"] = "organization", ["type"] = "view" } }];

    public static JsonArray Group(string groupId) =>
        [new JsonObject { ["id"] = "p-" + groupId, ["roles"] = new JsonArray("read"), ["grantedToV2"] = new JsonObject { ["group"] = new JsonObject { ["id"] = groupId, ["displayName"] = "Group " + groupId } } }];

    public static JsonArray User(string email) =>
        [new JsonObject { ["id"] = "p-" + email, ["roles"] = new JsonArray("write"), ["grantedToV2"] = new JsonObject { ["user"] = new JsonObject { ["id"] = "oid-" + email, ["displayName"] = email, ["email"] = email } } }];

    public static JsonArray SiteGroupOnly() =>
        [new JsonObject { ["id"] = "p-members", ["roles"] = new JsonArray("read"), ["grantedToV2"] = new JsonObject { ["siteGroup"] = new JsonObject { ["id"] = "3", ["displayName"] = "HR Members", ["loginName"] = "HR Members" } } }];

    private FakeDriveItem Put(FakeDriveItem item)
    {
        lock (_gate)
        {
            Items[item.Id] = item;
            _changes.Add((++_sequence, item.Id));
        }

        return item;
    }

    private void Change(string id, Action<FakeDriveItem> change)
    {
        lock (_gate)
        {
            change(Items[id]);
            _changes.Add((++_sequence, id));
        }
    }

    private async Task<IResult> TokenAsync(string tenant, HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (tenant != TenantId || form["grant_type"] != "client_credentials" || form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
        {
            return Results.Json(new { error = "invalid_client", error_description = "AADSTS7000215: Invalid client secret provided." }, statusCode: 401);
        }

        Interlocked.Increment(ref _tokensIssued);
        return Results.Json(new { token_type = "Bearer", expires_in = 3599, access_token = Token });
    }

    private IResult Download(string itemId, HttpRequest request)
    {
        _downloads.AddOrUpdate(itemId, 1, (_, n) => n + 1);
        return Items.TryGetValue(itemId, out var item) ? Results.Bytes(item.Content, "application/octet-stream") : Results.NotFound();
    }

    private IResult GraphAsync(string path, HttpRequest request)
    {
        _requests.Enqueue("GET /" + path + request.QueryString);
        if (request.Headers.Authorization != "Bearer " + Token)
        {
            return Error(401, "InvalidAuthenticationToken", "Access token is empty.");
        }

        if (path.StartsWith("sites/contoso.sharepoint.com:", StringComparison.Ordinal))
        {
            // A site by host and path: /sites/{hostname}:/{server-relative path}
            return path == "sites/contoso.sharepoint.com:/sites/hr"
                ? Json(new JsonObject { ["id"] = SiteId, ["webUrl"] = SiteUrl, ["displayName"] = "HR" })
                : Error(404, "itemNotFound", "The site was not found.");
        }

        var segments = path.Split('/');
        return segments switch
        {
            ["sites", SiteId, "drives"] => Json(new JsonObject { ["value"] = new JsonArray(DriveJson()) }),
            ["sites", SiteId, "drive"] => Json(DriveJson()),
            ["drives", DriveId, "items", "root", "delta()"] => Delta(request),
            ["drives", DriveId, "items", var id, "content"] => Items.ContainsKey(id) ? Results.Redirect($"{BaseUrl}/download/{id}?sig=abc") : Error(404, "itemNotFound", "Not found."),
            ["drives", DriveId, "items", var id, "permissions"] => Items.TryGetValue(id, out var item)
                ? Json(new JsonObject { ["value"] = item.Permissions.DeepClone() })
                : Error(404, "itemNotFound", "Not found."),
            ["users", var user, "transitiveMemberOf", "graph.group"] => Users.TryGetValue(user, out var known)
                ? Json(new JsonObject { ["value"] = new JsonArray([.. known.Groups.Select(g => (JsonNode)new JsonObject { ["id"] = g })]) })
                : Error(404, "Request_ResourceNotFound", "User not found."),
            ["users", var user] => Users.FirstOrDefault(u => u.Value.Id == user || string.Equals(u.Key, user, StringComparison.OrdinalIgnoreCase)) is { Key: { } email } found
                ? Json(new JsonObject { ["id"] = found.Value.Id, ["mail"] = email, ["userPrincipalName"] = email })
                : Error(404, "Request_ResourceNotFound", "User not found."),
            _ => Error(400, "BadRequest", "The fake Graph does not serve /" + path),
        };
    }

    /// <summary>
    /// Tokens: none or "full" (the whole library in its current state) or "seq-{n}" (every item changed after change n,
    /// in its current state; deleted ones with the deleted facet); "skip" pages through either. The last page's delta
    /// link is "seq-{the latest change}".
    /// </summary>
    private IResult Delta(HttpRequest request)
    {
        Interlocked.Increment(ref _deltaRequests);
        if (_pageFaults.TryDequeue(out var fault) && fault.Status != 0)
        {
            if (fault.RetryAfter is { } seconds)
            {
                request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            return Error(fault.Status, fault.Status == 429 ? "activityLimitReached" : "generalException", "Injected fault.");
        }

        var token = request.Query["token"].ToString();
        var skip = int.TryParse(request.Query["skip"], CultureInfo.InvariantCulture, out var s) ? s : 0;
        lock (_gate)
        {
            var changes = token.StartsWith("seq-", StringComparison.Ordinal);
            if (changes && _tokensExpired)
            {
                _tokensExpired = false;
                return Error(410, "resyncChangesApplyDifferences", "The delta token has expired; enumerate again.");
            }

            List<JsonObject> all = changes
                ? [.. _changes.Where(c => c.Sequence > long.Parse(token[4..], CultureInfo.InvariantCulture)).Select(c => c.ItemId).Distinct().Select(ItemJson)]
                : [ItemJson(RootId), .. Items.Values.OrderBy(i => i.IsFolder ? 0 : 1).ThenBy(i => i.Id, StringComparer.Ordinal).Select(i => ItemJson(i.Id))];
            var body = new JsonObject
            {
                ["@odata.context"] = BaseUrl + "/v1.0/$metadata#Collection(driveItem)",
                ["value"] = new JsonArray([.. all.Skip(skip).Take(PageSize)]),
            };
            var link = $"{BaseUrl}/v1.0/drives/{DriveId}/items/root/delta()?token=";
            if (skip + PageSize < all.Count)
            {
                body["@odata.nextLink"] = $"{link}{(changes ? token : "full")}&skip={skip + PageSize}";
            }
            else
            {
                body["@odata.deltaLink"] = link + "seq-" + _sequence.ToString(CultureInfo.InvariantCulture);
            }

            return Json(body);
        }
    }

    private JsonObject ItemJson(string id)
    {
        if (id == RootId)
        {
            return new JsonObject { ["id"] = RootId, ["name"] = "root", ["root"] = new JsonObject(), ["folder"] = new JsonObject { ["childCount"] = 1 } };
        }

        if (!Items.TryGetValue(id, out var item))
        {
            return new JsonObject { ["id"] = id, ["deleted"] = new JsonObject { ["state"] = "deleted" }, ["parentReference"] = new JsonObject { ["driveId"] = DriveId } };
        }

        var json = new JsonObject
        {
            ["id"] = item.Id,
            ["name"] = item.Name,
            ["parentReference"] = new JsonObject { ["driveId"] = DriveId, ["id"] = item.ParentId },
            ["webUrl"] = $"{SiteUrl}/Shared%20Documents/{Uri.EscapeDataString(item.Name)}",
            ["eTag"] = $"\"{{{item.Id}}},{item.ContentVersion}\"",
        };
        if (item.IsFolder)
        {
            json["folder"] = new JsonObject { ["childCount"] = Items.Values.Count(i => i.ParentId == item.Id) };
        }
        else
        {
            json["cTag"] = item.CTag;
            json["size"] = item.ReportedSize ?? item.Content.Length;
            json["file"] = new JsonObject { ["mimeType"] = "application/octet-stream" };
        }

        return json;
    }

    private static JsonObject DriveJson() => new() { ["id"] = DriveId, ["name"] = "Documents", ["driveType"] = "documentLibrary" };

    private static IResult Json(JsonObject body) => Results.Text(body.ToJsonString(), "application/json");

    private static IResult Error(int status, string code, string message) =>
        Results.Text(new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString(), "application/json", statusCode: status);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
