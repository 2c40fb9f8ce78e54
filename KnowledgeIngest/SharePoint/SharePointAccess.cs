using System.Security.Cryptography;
using System.Text;
using Microsoft.Graph.Models;

namespace ChatBot.KnowledgeIngest.SharePoint;

/// <summary>Who may read a SharePoint item, as ChatBot's access model says it.</summary>
/// <param name="Organisation">Everyone in the organisation (an organisation-wide or anonymous link, "Everyone except external users").</param>
/// <param name="Principals">Otherwise: "user:&lt;email&gt;" and "group:&lt;Entra group id&gt;".</param>
/// <param name="UnresolvedUserIds">Users named only by their Entra object id: their emails are looked up.</param>
/// <param name="Unmapped">Grants ChatBot cannot follow (SharePoint site groups): they give no access here.</param>
public sealed record SharePointAccess(bool Organisation, IReadOnlyList<string> Principals, IReadOnlyList<string> UnresolvedUserIds, int Unmapped)
{
    /// <summary>Changes when the access changes (a changed hash re-indexes the document with the new keys).</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        Organisation ? "org" : string.Join('\n', Principals.Order(StringComparer.Ordinal)))));

    public bool IsReadable => Organisation || Principals.Count > 0;

    /// <summary>
    /// Maps an item's permissions (Graph's effective list, inherited ones included). Only read-capable grants count;
    /// every role SharePoint has (read, write, owner) can read.
    /// </summary>
    public static SharePointAccess From(IEnumerable<Permission> permissions)
    {
        ArgumentNullException.ThrowIfNull(permissions);
        var organisation = false;
        var principals = new SortedSet<string>(StringComparer.Ordinal);
        var unresolved = new SortedSet<string>(StringComparer.Ordinal);
        var unmapped = 0;
        foreach (var permission in permissions)
        {
            if (permission.ExpirationDateTime is { } expires && expires < DateTimeOffset.UtcNow)
            {
                continue;
            }

            if (permission.Link?.Scope is "organization" or "anonymous")
            {
                organisation = true;
                continue;
            }

            var identities = new List<SharePointIdentitySet>();
            if (permission.GrantedToV2 is { } grantedTo)
            {
                identities.Add(grantedTo);
            }

            identities.AddRange(permission.GrantedToIdentitiesV2?.OfType<SharePointIdentitySet>() ?? []);
            foreach (var identity in identities)
            {
                switch (Classify(identity))
                {
                    case (Kind.Everyone, _):
                        organisation = true;
                        break;
                    case (Kind.Group, var id):
                        principals.Add("group:" + id.ToLowerInvariant());
                        break;
                    case (Kind.User, var email):
                        principals.Add("user:" + email.ToLowerInvariant());
                        break;
                    case (Kind.UserId, var id):
                        unresolved.Add(id);
                        break;
                    default:
                        unmapped++;
                        break;
                }
            }
        }

        return new SharePointAccess(organisation, [.. principals], [.. unresolved], unmapped);
    }

    public SharePointAccess WithUsers(IEnumerable<string> emails) =>
        this with { Principals = [.. Principals.Concat(emails.Select(e => "user:" + e.ToLowerInvariant())).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], UnresolvedUserIds = [] };

    private enum Kind
    {
        None,
        Everyone,
        Group,
        User,
        UserId,
    }

    private static (Kind, string) Classify(SharePointIdentitySet identity)
    {
        // "Everyone except external users" (and "Everyone") are SharePoint claims, not Entra groups.
        foreach (var claim in new[] { identity.SiteUser, identity.SiteGroup, identity.User }.OfType<Identity>())
        {
            var login = (claim as SharePointIdentity)?.LoginName ?? "";
            if (login.Contains("spo-grid-all-users", StringComparison.OrdinalIgnoreCase) || login.StartsWith("c:0(.s|true", StringComparison.OrdinalIgnoreCase)
                || claim.DisplayName is "Everyone except external users" or "Everyone")
            {
                return (Kind.Everyone, "");
            }
        }

        if (identity.Group?.Id is { Length: > 0 } groupId)
        {
            return (Kind.Group, groupId);
        }

        if ((EmailOf(identity.User) ?? EmailOf(identity.SiteUser)) is { } email)
        {
            return (Kind.User, email);
        }

        if (identity.User?.Id is { Length: > 0 } userId)
        {
            return (Kind.UserId, userId);
        }

        // A security group or M365 group granted through a SharePoint claim: "c:0o.c|federateddirectoryclaimprovider|<group id>".
        if ((identity.SiteUser?.LoginName ?? identity.SiteGroup?.LoginName) is { } claimLogin
            && claimLogin.StartsWith("c:0o.c|federateddirectoryclaimprovider|", StringComparison.OrdinalIgnoreCase)
            && claimLogin.Split('|')[^1] is { Length: > 0 } claimed)
        {
            return (Kind.Group, claimed.Split('_')[0]);
        }

        return (Kind.None, "");
    }

    /// <summary>The email of a user identity: Graph's <c>email</c>, or the UPN inside a SharePoint login name ("i:0#.f|membership|ada@contoso.com").</summary>
    private static string? EmailOf(Identity? identity)
    {
        if (identity is null)
        {
            return null;
        }

        if (identity.AdditionalData.TryGetValue("email", out var value) && value is string email && email.Contains('@', StringComparison.Ordinal))
        {
            return email;
        }

        if (identity is SharePointIdentity { LoginName: { } login } && login.StartsWith("i:0#.f|membership|", StringComparison.OrdinalIgnoreCase))
        {
            var upn = login.Split('|')[^1];
            return upn.Contains('@', StringComparison.Ordinal) ? upn : null;
        }

        return null;
    }
}
