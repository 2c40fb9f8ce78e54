using System.Net;

namespace ChatBot.Adapters;

/// <summary>Checks for URL settings: https everywhere, plain http only for loopback (tests and local fakes).</summary>
public static class OptionsUrls
{
    public static void RequireHttpsOrLoopback(List<string> errors, string key, string? value)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            errors.Add($"{key} must be an absolute URL.");
            return;
        }

        if (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri)))
        {
            return;
        }

        errors.Add($"{key} must use https (plain http is allowed only for loopback addresses).");
    }

    public static bool IsLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip));
    }
}
