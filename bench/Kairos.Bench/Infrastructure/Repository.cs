using System.Diagnostics;

namespace Kairos.Bench.Infrastructure;

public static class Repository
{
    /// <summary>The folder holding Kairos.sln, searched upwards from the working directory and then from the binary.</summary>
    public static string Root()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Kairos.sln"))) return dir.FullName;
            }
        }
        throw new InvalidOperationException("Run the harness from inside the Kairos repository (no Kairos.sln found above here).");
    }

    /// <summary>The short SHA of HEAD (with "-dirty" when src/ has uncommitted changes), or "unknown".</summary>
    public static string ShortSha(string root)
    {
        var sha = Git(root, "rev-parse", "--short", "HEAD")?.Trim();
        if (string.IsNullOrEmpty(sha)) return "unknown";
        var dirty = Git(root, "status", "--porcelain", "--", "src");
        return string.IsNullOrWhiteSpace(dirty) ? sha : sha + "-dirty";
    }

    private static string? Git(string root, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var p = Process.Start(start);
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
