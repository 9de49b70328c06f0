using System.Globalization;

namespace Kairos.Bench.Infrastructure;

/// <summary>Reads a process's memory and CPU time from <c>/proc</c> (Linux).</summary>
public static class ProcStats
{
    /// <summary>Clock ticks per second of <c>/proc/PID/stat</c> (USER_HZ; 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Resident set size in MiB (<c>VmRSS</c> of <c>/proc/PID/status</c>), or null off Linux.</summary>
    public static double? RssMiB(int pid)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return double.Parse(parts[1], CultureInfo.InvariantCulture) / 1024.0; // kB
        }
        return null;
    }

    /// <summary>User + system CPU time the process used so far, in seconds (fields 14 and 15 of <c>/proc/PID/stat</c>).</summary>
    public static double? CpuSeconds(int pid)
    {
        var path = $"/proc/{pid}/stat";
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path);
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var rest = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // rest[0] is field 3 (state): utime is field 14, stime field 15.
        var utime = long.Parse(rest[14 - 3], CultureInfo.InvariantCulture);
        var stime = long.Parse(rest[15 - 3], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }

    /// <summary>
    /// CPU seconds of a process and its direct children: its own utime+stime, what its reaped children used
    /// (cutime+cstime), and the live children's utime+stime+cutime+cstime. For the PostgreSQL postmaster, that is the
    /// whole cluster: every backend is its child.
    /// </summary>
    public static double? TreeCpuSeconds(int pid)
    {
        if (Stat(pid) is not { } self) return null;
        var ticks = self.UTime + self.STime + self.CUTime + self.CSTime;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child) || child == pid) continue;
            if (Stat(child) is { } c && c.PPid == pid) ticks += c.UTime + c.STime + c.CUTime + c.CSTime;
        }
        return ticks / TicksPerSecond;
    }

    private readonly record struct StatFields(int PPid, long UTime, long STime, long CUTime, long CSTime);

    private static StatFields? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // gone meanwhile, or not Linux
        }
        var rest = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long F(int field) => long.Parse(rest[field - 3], CultureInfo.InvariantCulture);
        return new StatFields((int)F(4), F(14), F(15), F(16), F(17));
    }

    public static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        return "unknown CPU";
    }

    public static int MemoryGiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
                var kb = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                return (int)Math.Round(kb / 1024 / 1024);
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
