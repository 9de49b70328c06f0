using System.Diagnostics;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>Starting <c>kairos server --store postgres</c> nodes and watching what they print.</summary>
public static class KairosNodes
{
    /// <summary>What a node prints (in a log line on stdout) when it becomes the leader.</summary>
    public const string LeadsLine = "leads the maintenance loop";

    /// <summary>
    /// Starts <c>kairos server --port 0 --store postgres --database-url <paramref name="connectionString"/></c> in
    /// <paramref name="workingDirectory"/> with the admin key and <paramref name="environment"/>, without waiting for it.
    /// </summary>
    public static KairosProcess StartPostgresNode(
        PublishedKairos kairos, string name, string workingDirectory, string connectionString, string adminKey,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["KAIROS_ADMIN_API_KEY"] = adminKey };
        Directory.CreateDirectory(workingDirectory);
        return KairosProcess.Start(kairos, name, workingDirectory, env,
            "server", "--port", "0", "--store", "postgres", "--database-url", connectionString);
    }

    /// <summary>
    /// Polls the process's stdout until a line contains <paramref name="text"/>; returns that line. Fails when the
    /// process exits first or after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string> WaitForStdoutAsync(this KairosProcess process, string text, TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            var line = process.Stdout.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null) return line;
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} exited before printing \"{text}\".\n{process.Describe()}");
            }
            if (started.Elapsed > timeout)
            {
                throw new TimeoutException($"{process.Name} did not print \"{text}\" within {timeout}.\n{process.Describe()}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Polls <paramref name="condition"/> every <paramref name="every"/> until it holds; false after <paramref name="timeout"/>.</summary>
    public static async Task<bool> PollAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? every = null)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return true;
            if (started.Elapsed > timeout) return false;
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(50));
        }
    }
}
