using System.Diagnostics;
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
