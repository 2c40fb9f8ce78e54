using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using ChatBot.Adapters.Teams.AppPackage;
using ChatBot.TestSupport;

namespace ChatBot.EndToEnd.Tests;

/// <summary>
/// The Teams app package built by the host's <c>teams-package</c> verb: a flat zip whose manifest passes the official
/// schema (validated offline by @microsoft/app-manifest) and whose icons have the sizes and colours Teams requires.
/// </summary>
public sealed class TeamsAppPackageTests : IDisposable
{
    private const string AppId = "3f6a1c2e-8b4d-4e7a-9c1f-2d5b7e9a0c14";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory = new();

    [Fact]
    public async Task TeamsPackage_BuildsAValidFlatZipWithTheAppIdAndHost()
    {
        var zipPath = _directory.File("app.zip");

        var (exit, output, error) = await RunAsync("teams-package", "--host", "chatbot.contoso.com", "--app-id", AppId, "--company", "Contoso \"Ltd\"", "--out", zipPath);

        Assert.True(exit == 0, error);
        Assert.Equal(zipPath, output.Trim());
        using var zip = ZipFile.OpenRead(zipPath);
        Assert.Equal(["color.png", "manifest.json", "outline.png"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));

        var manifestPath = _directory.File("manifest.json");
        zip.GetEntry("manifest.json")!.ExtractToFile(manifestPath);
        Assert.Empty(await NodeScripts.TeamsManifestErrorsAsync(manifestPath));
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(manifestPath));
        var root = manifest.RootElement;
        Assert.Equal("1.22", root.GetProperty("manifestVersion").GetString());
        Assert.Equal(AppId, root.GetProperty("id").GetString());
        var bot = root.GetProperty("bots")[0];
        Assert.Equal(AppId, bot.GetProperty("botId").GetString());
        Assert.Equal(["personal", "team", "groupChat"], bot.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.True(bot.GetProperty("supportsFiles").GetBoolean());
        Assert.Equal(["help", "new", "usage", "sources"], bot.GetProperty("commandLists")[0].GetProperty("commands").EnumerateArray().Select(c => c.GetProperty("title").GetString()));
        Assert.Contains("chatbot.contoso.com", root.GetProperty("validDomains").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal($"api://botid-{AppId}", root.GetProperty("webApplicationInfo").GetProperty("resource").GetString());
        Assert.Equal("Contoso \"Ltd\"", root.GetProperty("developer").GetProperty("name").GetString());

        var color = ReadPng(zip.GetEntry("color.png")!);
        Assert.Equal((192, 192), (color.Width, color.Height));
        var outline = ReadPng(zip.GetEntry("outline.png")!);
        Assert.Equal((32, 32), (outline.Width, outline.Height));
        Assert.All(outline.Pixels, p => Assert.True(p is { R: 255, G: 255, B: 255 }, "outline pixels are white"));
        Assert.Contains(outline.Pixels, p => p.A == 0);
        Assert.Contains(outline.Pixels, p => p.A == 255);
    }

    [Theory]
    [InlineData("not-a-guid", "chatbot.contoso.com", "GUID")]
    [InlineData(AppId, "https://chatbot.contoso.com/", "without https://")]
    [InlineData(AppId, "chatbot", "DNS name")]
    public async Task TeamsPackage_BadValues_AreRefusedAndNoFileIsWritten(string appId, string host, string message)
    {
        var zipPath = _directory.File("bad.zip");

        var (exit, _, error) = await RunAsync("teams-package", "--host", host, "--app-id", appId, "--out", zipPath);

        Assert.Equal(1, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.False(File.Exists(zipPath));
    }

    [Fact]
    public void Manifest_TemplateHasNoUnfilledValues()
    {
        var manifest = TeamsAppPackage.Manifest(new TeamsAppSettings(AppId, "chatbot.contoso.com", PrivacyUrl: "https://contoso.com/privacy"));

        Assert.DoesNotContain("${", manifest, StringComparison.Ordinal);
        Assert.Contains("\"privacyUrl\": \"https://contoso.com/privacy\"", manifest, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var environment = new Dictionary<string, string> { ["ConnectionStrings__ChatBot"] = $"Data Source={_directory.File("chatbot.db")}" };
        await using var process = HostProcess.Start(environment, args);
        var exit = await process.WaitForExitAsync(Timeout);
        return (exit, process.StandardOutput, process.StandardError);
    }

    private readonly record struct Pixel(byte R, byte G, byte B, byte A);

    private sealed record Png(int Width, int Height, IReadOnlyList<Pixel> Pixels);

    /// <summary>Decodes an 8-bit RGBA PNG (the format of our icons): chunks, zlib, and the five row filters.</summary>
    private static Png ReadPng(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        int width = 0, height = 0;
        using var data = new MemoryStream();
        for (var at = 8; at < bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var body = bytes.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                Assert.Equal(8, body[8]); // bit depth
                Assert.Equal(6, body[9]); // RGBA
            }
            else if (type == "IDAT")
            {
                data.Write(body);
            }

            at += 12 + length;
        }

        data.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(data, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var raw = inflated.ToArray();
        var stride = width * 4;
        var previous = new byte[stride];
        var pixels = new List<Pixel>(width * height);
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var row = raw.AsSpan((y * (stride + 1)) + 1, stride).ToArray();
            for (var i = 0; i < stride; i++)
            {
                int left = i >= 4 ? row[i - 4] : 0, up = previous[i], upLeft = i >= 4 ? previous[i - 4] : 0;
                row[i] = (byte)(row[i] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException("Unknown PNG filter " + filter),
                });
            }

            for (var x = 0; x < width; x++)
            {
                pixels.Add(new Pixel(row[x * 4], row[(x * 4) + 1], row[(x * 4) + 2], row[(x * 4) + 3]));
            }

            previous = row;
        }

        return new Png(width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    public void Dispose() => _directory.Dispose();
}
