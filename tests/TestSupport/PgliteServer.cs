using System.Diagnostics;

namespace ChatBot.TestSupport;

/// <summary>
/// PGlite (PostgreSQL in WebAssembly, with pgvector) from tests/node, served on a loopback port by a node process:
/// the pgvector code path, which Debian 12's PostgreSQL cannot load. It serves one connection at a time, so the
/// connection string allows one. Stopped (stdin closed, then killed) on dispose.
/// </summary>
public sealed class PgliteServer : IAsyncDisposable
{
    private readonly Process _process;

    private PgliteServer(Process process, int port)
    {
        _process = process;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=1;Timeout=30;Command Timeout=60";
    }

    public string ConnectionString { get; }

    public static async Task<PgliteServer> StartAsync()
    {
        var script = Path.Combine(RepositoryPaths.Root, "tests", "node", "pglite-server.mjs");
        if (!Directory.Exists(Path.Combine(RepositoryPaths.Root, "tests", "node", "node_modules")))
        {
            throw new InvalidOperationException("tests/node has no node_modules: run the tests with ./test.sh, which runs npm ci there.");
        }

        var port = LoopbackPorts.Free();
        var info = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("ready", StringComparison.Ordinal))
            {
                return new PgliteServer(process, port);
            }
        }

        throw new InvalidOperationException("PGlite did not start: " + await process.StandardError.ReadToEndAsync(timeout.Token));
    }

    public async ValueTask DisposeAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        try
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
