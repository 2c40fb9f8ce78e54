using System.Globalization;
using System.Runtime.InteropServices;

namespace ChatBot.Bench;

/// <summary>What every benchmark prints first (the machine it ran on) and how it reads its <c>--name value</c> arguments.</summary>
internal static class BenchMachine
{
    public static void Print(string database)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Console.WriteLine($"machine: {RuntimeInformation.OSDescription}; {cpu}; {Environment.ProcessorCount} cores; {long.Parse(memory, CultureInfo.InvariantCulture) / 1024 / 1024} GiB; .NET {Environment.Version}; database {database}");
    }

    public static string Arg(string name, string fallback)
    {
        var args = Environment.GetCommandLineArgs();
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    public static bool Flag(string name) => Environment.GetCommandLineArgs().Contains(name);

    /// <summary>The value below which <paramref name="percentile"/> % of the values fall (nearest rank).</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }

    /// <summary>VmHWM: a process's peak resident set since it started, in MB (Linux).</summary>
    public static double PeakRssMb(int processId)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    /// <summary>
    /// CPU time a process has used so far (user + system, all its threads), in seconds (Linux: /proc/pid/stat, in
    /// clock ticks of 1/100 s).
    /// </summary>
    public static double CpuSeconds(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After the command name: state is field 3, utime field 14 and stime field 15 (man 5 proc).
        var ticks = long.Parse(fields[14 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[15 - 3], CultureInfo.InvariantCulture);
        return ticks / 100.0;
    }
}
