using System.Text.RegularExpressions;

namespace ChatBot.AdminPortal.Tests;

/// <summary>Posts portal forms the way a browser does: the page first (for its antiforgery token), then the form.</summary>
internal static partial class PortalForms
{
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string page, string? handler, IDictionary<string, string>? fields = null, string? tokenFrom = null)
    {
        var html = await client.GetStringAsync(new Uri(tokenFrom ?? page, UriKind.Relative));
        var token = Token().Match(html);
        if (!token.Success)
        {
            throw new InvalidOperationException($"{tokenFrom ?? page} has no antiforgery token.");
        }

        var form = new Dictionary<string, string>(fields ?? new Dictionary<string, string>()) { ["__RequestVerificationToken"] = token.Groups[1].Value };
        using var content = new FormUrlEncodedContent(form);
        return await client.PostAsync(new Uri(handler is null ? page : $"{page}?handler={handler}", UriKind.Relative), content);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
