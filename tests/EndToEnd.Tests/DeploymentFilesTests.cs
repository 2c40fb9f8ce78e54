using System.Diagnostics;
using System.Text.RegularExpressions;
using ChatBot.TestSupport;

namespace ChatBot.EndToEnd.Tests;

/// <summary>No container engine runs here, so the compose file is validated offline by docker-compose itself.</summary>
public sealed class DeploymentFilesTests
{
    [Fact]
    public async Task DockerCompose_ConfigQuiet_Validates()
    {
        var (exitCode, output) = await RunAsync("docker-compose", "-f", "docker-compose.yml", "config", "-q");

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task DockerCompose_SqlServerProfile_Validates()
    {
        var (exitCode, output) = await RunAsync("docker-compose", "-f", "docker-compose.yml", "--profile", "sqlserver", "config", "--services");

        Assert.True(exitCode == 0, output);
        Assert.Contains("sqlserver", output, StringComparison.Ordinal);
        Assert.Contains("worker", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerCompose_RolesHaveHealthChecks_AndTheMonitoringProfileValidates()
    {
        var (exitCode, output) = await RunAsync("docker-compose", "-f", "docker-compose.yml", "--profile", "monitoring", "config");

        Assert.True(exitCode == 0, output);
        var services = new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<string, object>>(output)["services"] as Dictionary<object, object>;
        foreach (var role in new[] { "web", "worker" })
        {
            var service = (Dictionary<object, object>)services![role];
            var health = (Dictionary<object, object>)service["healthcheck"];
            Assert.Equal(new object[] { "CMD", "dotnet", "ChatBot.BotHost.dll", "healthcheck" }, (List<object>)health["test"]);
            Assert.Equal(new object[] { "--role", role }, (List<object>)service["command"]);
        }

        Assert.True(services!.ContainsKey("prometheus"));
        Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, "deploy", "prometheus.yml")));
    }

    [Fact]
    public async Task Kubernetes_Manifests_PassTheKubernetesSchemas_AndFitTogether()
    {
        var documents = (await NodeScripts.KubernetesManifestsAsync(Path.Combine(RepositoryPaths.Root, "deploy", "k8s"))).EnumerateArray().ToList();

        foreach (var document in documents)
        {
            Assert.True(document.GetProperty("errors").GetArrayLength() == 0, document.ToString());
        }

        string Kinds(string kind) => string.Join(",", documents.Where(d => d.GetProperty("kind").GetString() == kind).Select(d => d.GetProperty("name").GetString()).Order());
        Assert.Equal("chatbot-web,chatbot-worker", Kinds("Deployment"));
        Assert.Equal("chatbot-web,chatbot-worker", Kinds("HorizontalPodAutoscaler"));
        Assert.Equal("chatbot-web", Kinds("Service"));
        Assert.Equal("chatbot-secrets", Kinds("Secret"));

        // Every Secret key a Deployment reads exists in the Secret template; the kustomization lists every resource but the template.
        var folder = Path.Combine(RepositoryPaths.Root, "deploy", "k8s");
        var secretKeys = Regex.Matches(await File.ReadAllTextAsync(Path.Combine(folder, "secret.example.yaml")), @"^  (\w+):", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        foreach (var role in new[] { "web", "worker" })
        {
            var text = await File.ReadAllTextAsync(Path.Combine(folder, $"{role}-deployment.yaml"));
            Assert.Contains($"args: [\"--role\", \"{role}\"]", text, StringComparison.Ordinal);
            Assert.Contains("path: /healthz", text, StringComparison.Ordinal);
            Assert.Contains("path: /readyz", text, StringComparison.Ordinal);
            foreach (Match key in Regex.Matches(text, @"key: (\w+)"))
            {
                Assert.Contains(key.Groups[1].Value, secretKeys);
            }
        }

        var kustomization = documents.Single(d => d.GetProperty("kind").GetString() == "Kustomization");
        var listed = kustomization.GetProperty("resources").EnumerateArray().Select(r => r.GetString()).Order().ToList();
        var files = Directory.GetFiles(folder, "*.yaml").Select(Path.GetFileName).Where(f => f is not "kustomization.yaml" and not "secret.example.yaml").Order().ToList();
        Assert.Equal(files, listed);
    }

    [Fact]
    public async Task Kubernetes_SchemaCheck_CatchesAWrongType()
    {
        using var directory = new TempDirectory();
        var text = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "k8s", "web-deployment.yaml"));
        await File.WriteAllTextAsync(directory.File("web.yaml"), text.Replace("replicas: 2", "replicas: two", StringComparison.Ordinal));

        var document = Assert.Single((await NodeScripts.KubernetesManifestsAsync(directory.Path)).EnumerateArray());

        Assert.Contains("spec/replicas must be integer", document.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerCompose_BrokenFile_IsRejected()
    {
        using var directory = new TempDirectory();
        var broken = directory.File("broken.yml");
        await File.WriteAllTextAsync(broken, "version: '3.8'\nservices:\n  web:\n    image: x\n    restartt: always\n");

        var (exitCode, output) = await RunAsync("docker-compose", "-f", broken, "config", "-q");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("restartt", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
