using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Kairos.Cli.Agent;

/// <summary>Ends a process and all its descendants: SIGTERM to each, then SIGKILL to what is left after a grace period.</summary>
internal static partial class ProcessTree
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    public static async Task TerminateAsync(Process process, TimeSpan grace)
    {
        if (!OperatingSystem.IsLinux())
        {
            KillQuietly(process);
            await process.WaitForExitAsync();
            return;
        }
        var tree = Descendants(process.Id);
        tree.Insert(0, process.Id);
        foreach (var pid in tree) _ = kill(pid, SigTerm);
        using (var wait = new CancellationTokenSource(grace))
        {
            try
            {
                await process.WaitForExitAsync(wait.Token);
                // The main process ended; give the rest of the tree the same grace.
                while (tree.Any(IsAlive) && !wait.IsCancellationRequested) await Task.Delay(20, wait.Token);
            }
            catch (OperationCanceledException)
            {
                // grace over
            }
        }
        // Descendants started since the snapshot, and those that ignored SIGTERM.
        foreach (var pid in Descendants(process.Id).Concat(tree).Distinct())
        {
            if (IsAlive(pid)) _ = kill(pid, SigKill);
        }
        KillQuietly(process);
        // Bounded: a descendant that escaped the tree (double fork) may hold the output pipes open.
        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(last.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    /// <summary>The process's descendants, from /proc (parents before children).</summary>
    public static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (Stat(pid) is not { } stat) continue;
            if (!children.TryGetValue(stat.Parent, out var list)) children[stat.Parent] = list = [];
            list.Add(pid);
        }
        var result = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.Count > 0)
        {
            if (!children.TryGetValue(queue.Dequeue(), out var kids)) continue;
            foreach (var k in kids)
            {
                result.Add(k);
                queue.Enqueue(k);
            }
        }
        return result;
    }

    /// <summary>Running or sleeping: not gone and not a zombie.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } s && s.State is not ('Z' or 'X');

    private static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
            var rest = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (rest[0][0], int.Parse(rest[1], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
