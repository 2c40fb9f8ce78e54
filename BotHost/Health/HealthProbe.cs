namespace ChatBot.BotHost.Health;

/// <summary>
/// <c>healthcheck [url]</c>: asks this container's own <c>/healthz</c> and exits 0 when it answers 200, 1 otherwise —
/// for container health checks in images without curl. Runs before the host is built (no configuration, no database).
/// </summary>
internal static class HealthProbe
{
    public const string Verb = "healthcheck";

    public static async Task<int> RunAsync(string[] args)
    {
        var url = args.Length > 1 ? args[1] : DefaultUrl();
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
            using var response = await client.GetAsync(new Uri(new Uri(url), "/healthz"));
            await Console.Out.WriteLineAsync($"{(int)response.StatusCode} {response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            await Console.Error.WriteLineAsync($"Not healthy: {ex.Message}");
            return 1;
        }
    }

    /// <summary>The first address of ASPNETCORE_URLS with a wildcard host made loopback; the README's default otherwise.</summary>
    private static string DefaultUrl()
    {
        var urls = Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? Environment.GetEnvironmentVariable("URLS");
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (string.IsNullOrEmpty(first))
        {
            return Hosting.ChatBotHostExtensions.DefaultUrl;
        }

        return first.Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal);
    }
}
