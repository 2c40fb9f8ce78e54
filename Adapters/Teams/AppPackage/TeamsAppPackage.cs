using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ChatBot.Adapters.Teams.AppPackage;

/// <param name="AppId">The bot's Entra application id (the Azure Bot's Microsoft App ID).</param>
/// <param name="Host">The host's public name, such as <c>chatbot.contoso.com</c> (no scheme, no path).</param>
public sealed record TeamsAppSettings(string AppId, string Host, string Company = "Contoso", string? PrivacyUrl = null, string? TermsUrl = null);

/// <summary>
/// The Teams app package: <c>appPackage/teams/manifest.json</c> (schema 1.22) with the app id and host filled in,
/// plus its two icons, zipped flat (the files at the top of the zip, as Teams requires). The sources are embedded in
/// this assembly, so the host binary can build the package anywhere.
/// </summary>
public static partial class TeamsAppPackage
{
    private static readonly string[] Files = ["manifest.json", "color.png", "outline.png"];

    public static string Manifest(TeamsAppSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!Guid.TryParse(settings.AppId, out var appId))
        {
            throw new ArgumentException("The app id must be the bot's Microsoft App ID (a GUID).", nameof(settings));
        }

        if (!HostName().IsMatch(settings.Host))
        {
            throw new ArgumentException("The host must be a DNS name such as chatbot.contoso.com, without https:// or a path.", nameof(settings));
        }

        var site = $"https://{settings.Host}/";
        var values = new Dictionary<string, string>
        {
            ["APP_ID"] = appId.ToString(),
            ["HOST"] = settings.Host.ToLowerInvariant(),
            ["COMPANY"] = settings.Company,
            ["PRIVACY_URL"] = settings.PrivacyUrl ?? site,
            ["TERMS_URL"] = settings.TermsUrl ?? site,
        };
        var template = ReadText("manifest.json");
        // Each value is JSON-escaped, so a company name with quotes cannot break the manifest.
        return Placeholder().Replace(template, m => values.TryGetValue(m.Groups[1].Value, out var value)
            ? JsonEncodedText.Encode(value).ToString()
            : throw new InvalidOperationException($"The manifest template names an unknown value {m.Value}."));
    }

    public static void Write(TeamsAppSettings settings, Stream destination)
    {
        var manifest = Manifest(settings);
        using var zip = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var name in Files)
        {
            using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
            if (name == "manifest.json")
            {
                using var writer = new StreamWriter(entry);
                writer.Write(manifest);
            }
            else
            {
                using var source = Open(name);
                source.CopyTo(entry);
            }
        }
    }

    private static string ReadText(string name)
    {
        using var reader = new StreamReader(Open(name));
        return reader.ReadToEnd();
    }

    private static Stream Open(string name) =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream("TeamsAppPackage." + name)
        ?? throw new InvalidOperationException($"The Teams app package file {name} is not embedded.");

    [GeneratedRegex(@"\$\{([A-Z_]+)\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$")]
    private static partial Regex HostName();
}
