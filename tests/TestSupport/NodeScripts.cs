using System.Diagnostics;
using System.Text.Json;

namespace ChatBot.TestSupport;

/// <summary>Runs the validators under <c>tests/node</c> (official npm packages, installed by ./test.sh) and reads their JSON output.</summary>
public static class NodeScripts
{
    /// <summary>Schema errors of a Teams manifest (empty when valid), from @microsoft/app-manifest.</summary>
    public static async Task<string[]> TeamsManifestErrorsAsync(string manifestPath) =>
        JsonSerializer.Deserialize<string[]>(await RunAsync("teams-manifest-check.mjs", manifestPath))!;

    /// <summary>The Slack manifest as JSON plus the schema-limit errors found in it (yaml from npm parses it).</summary>
    public static async Task<(string[] Errors, JsonElement Manifest)> SlackManifestAsync(string manifestPath)
    {
        using var result = JsonDocument.Parse(await RunAsync("slack-manifest-check.mjs", manifestPath));
        var root = result.RootElement.Clone();
        return (root.GetProperty("errors").Deserialize<string[]>()!, root.GetProperty("manifest"));
    }

    /// <summary>Every document of the YAML files in <paramref name="folder"/>, with its schema errors (kubernetes-models' Kubernetes schemas).</summary>
    public static async Task<JsonElement> KubernetesManifestsAsync(string folder)
    {
        using var result = JsonDocument.Parse(await RunAsync("k8s-manifest-check.mjs", folder));
        return result.RootElement.Clone();
    }

    /// <summary>Errors per card (empty arrays when valid), from Microsoft's adaptivecards library.</summary>
    public static async Task<string[][]> AdaptiveCardErrorsAsync(IEnumerable<JsonElement> cards)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cards-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(cards));
        try
        {
            return JsonSerializer.Deserialize<string[][]>(await RunAsync("adaptive-card-check.mjs", file))!;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> RunAsync(string script, string argument)
    {
        var folder = Path.Combine(RepositoryPaths.Root, "tests", "node");
        if (!Directory.Exists(Path.Combine(folder, "node_modules")))
        {
            throw new InvalidOperationException("tests/node has no node_modules: run the tests with ./test.sh, which runs npm ci there.");
        }

        var info = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {script} failed ({process.ExitCode}): {await error}");
        }

        return await output;
    }
}
