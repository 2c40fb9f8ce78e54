using System.Security.Cryptography;
using System.Text;
using ChatBot.ChatData.Knowledge;

namespace ChatBot.KnowledgeIngest.Index;

/// <summary>
/// The access tokens stored with every chunk and matched inside the search query, so a passage the asker may not see
/// is never even ranked. A token is a hash ("k" + 24 hex + "0"): one word to every full-text tokenizer, untouched
/// by stemming (it ends in a digit), and never equal to a word a question could contain.
/// </summary>
public static class AccessKeys
{
    public static string Organisation => Key("org");

    public static string Channel(string channelId) => Key("channel:" + channelId);

    public static string Conversation(string conversationId) => Key("conv:" + conversationId);

    public static string User(string email) => Key("user:" + email.Trim().ToLowerInvariant());

    public static string Group(string groupId) => Key("group:" + groupId.Trim().ToLowerInvariant());

    /// <summary>The keys a document's chunks carry.</summary>
    public static IReadOnlyList<string> ForDocument(Document document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return document.Scope switch
        {
            DocumentScope.Organisation => [Organisation],
            DocumentScope.Channel => [Channel(document.ScopeKey ?? throw new InvalidOperationException("A channel document needs a scope key."))],
            DocumentScope.Conversation => [Conversation(document.ScopeKey ?? throw new InvalidOperationException("A conversation document needs a scope key."))],
            DocumentScope.Restricted => [.. document.Principals.Select(p => ForPrincipal(p.Principal)).Distinct(StringComparer.Ordinal)],
            _ => throw new InvalidOperationException($"Unknown scope {document.Scope}."),
        };
    }

    /// <summary>"user:ada@contoso.com" or "group:&lt;id&gt;".</summary>
    public static string ForPrincipal(string principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.StartsWith("user:", StringComparison.OrdinalIgnoreCase))
        {
            return User(principal[5..]);
        }

        if (principal.StartsWith("group:", StringComparison.OrdinalIgnoreCase))
        {
            return Group(principal[6..]);
        }

        throw new ArgumentException($"A principal is 'user:<email>' or 'group:<id>', not '{principal}'.", nameof(principal));
    }

    public static string Join(IEnumerable<string> keys) => string.Join(' ', keys);

    private static string Key(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        return "k" + Convert.ToHexStringLower(hash[..12]) + "0";
    }
}
