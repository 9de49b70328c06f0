using System.Diagnostics;
using System.Globalization;
using Kairos.Bench.Infrastructure;

namespace Kairos.Bench.Worker;

/// <summary>
/// Worker processes started by the harness, driven together: <c>Kairos.Bench worker</c> (the raw HTTP protocol, modes
/// <c>batch</c> and <c>single</c>) or, for mode <c>sdk</c>, <c>Kairos.Bench sdk-worker</c> (the .NET SDK's worker host).
/// </summary>
public sealed class WorkerPool : IAsyncDisposable
{
    private readonly List<ChildProcess> _children;
    private readonly List<string> _latencyFiles;

    private WorkerPool(List<ChildProcess> children, List<string> latencyFiles)
    {
        _children = children;
        _latencyFiles = latencyFiles;
    }

    public long Done => _children.Sum(c => c.Done);

    public IReadOnlyList<int> Pids => _children.Select(c => c.Pid).ToList();

    /// <summary>Starts <paramref name="processes"/> worker processes and waits until each has registered.</summary>
    public static async Task<WorkerPool> StartAsync(
        Uri url, string key, string queue, string mode, int processes, int capacity, int max, int registrationsPerProcess = 1, int waitMs = 5000)
    {
        var children = new List<ChildProcess>();
        var files = new List<string>();
        try
        {
            for (var i = 0; i < processes; i++)
            {
                var file = Path.Combine(Path.GetTempPath(), "kairos-bench", $"lat-{Guid.NewGuid():N}.txt");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                files.Add(file);
                children.Add(new ChildProcess(ChildProcess.Self(
                [
                    mode == "sdk" ? "sdk-worker" : "worker", "--url", url.ToString(), "--key", key, "--queue", queue, "--mode", mode,
                    "--capacity", capacity.ToString(CultureInfo.InvariantCulture), "--max", max.ToString(CultureInfo.InvariantCulture),
                    "--registrations", registrationsPerProcess.ToString(CultureInfo.InvariantCulture),
                    "--wait-ms", waitMs.ToString(CultureInfo.InvariantCulture), "--latency-out", file, "--name", $"bench-{mode}-{i}",
                ]), $"worker {i}"));
            }
            foreach (var c in children) await c.WaitReadyAsync(TimeSpan.FromSeconds(60));
            return new WorkerPool(children, files);
        }
        catch
        {
            foreach (var c in children) await c.DisposeAsync();
            throw;
        }
    }

    public async Task GoAsync()
    {
        foreach (var c in _children) await c.SendAsync("go");
    }

    /// <summary>Waits until the workers together report <paramref name="count"/> jobs done; returns when that happened.</summary>
    public async Task<TimeSpan> WaitForDoneAsync(long count, Stopwatch clock, TimeSpan timeout)
    {
        while (Done < count)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"workers completed {Done:N0} of {count:N0} jobs within {timeout}");
            var dead = _children.FirstOrDefault(c => c.HasExited);
            if (dead is not null) throw new InvalidOperationException($"a worker process exited early.\n{dead.Describe()}");
            await Task.Delay(5);
        }
        return clock.Elapsed;
    }

    /// <summary>
    /// The HTTP calls the workers made, summed from their <c>stats</c> lines (printed on stop): fetches, jobs they
    /// brought, ack calls. Zeros before <see cref="StopAsync"/>.
    /// </summary>
    public (long Fetches, long Fetched, long Acks) Calls()
    {
        long f = 0, j = 0, a = 0;
        foreach (var line in _children.SelectMany(c => c.Lines).Where(l => l.StartsWith("stats ", StringComparison.Ordinal)))
        {
            foreach (var part in line["stats ".Length..].Split(' '))
            {
                var kv = part.Split('=');
                if (kv.Length != 2 || !long.TryParse(kv[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) continue;
                switch (kv[0])
                {
                    case "fetches": f += v; break;
                    case "fetched": j += v; break;
                    case "acks": a += v; break;
                }
            }
        }
        return (f, j, a);
    }

    /// <summary>Stops every worker and merges their latency samples.</summary>
    public async Task<Latencies> StopAsync()
    {
        await Task.WhenAll(_children.Select(c => c.StopAsync(TimeSpan.FromSeconds(20))));
        var all = new Latencies();
        foreach (var f in _latencyFiles)
        {
            all.Add(Latencies.FromFile(f));
            TryDelete(f);
        }
        return all;
    }

    private static void TryDelete(string f)
    {
        try
        {
            File.Delete(f);
        }
        catch (IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _children) await c.DisposeAsync();
        foreach (var f in _latencyFiles) TryDelete(f);
    }
}
