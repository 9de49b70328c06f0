using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kairos.Bench.Infrastructure;

/// <summary>
/// A child process of the harness (the server, a worker, a peer) with its output kept and read line by line.
/// Worker-like children speak a tiny line protocol: they print <c>ready</c>, wait for <c>go</c> on stdin, print
/// <c>done N</c> as they complete jobs, and on <c>stop</c> print <c>final N</c> and exit.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Tcs)> _waiters = [];
    private readonly Task _exited;
    private long _done;
    private long _final = -1;

    public ChildProcess(ProcessStartInfo start, string name)
    {
        Name = name;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) OnLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _errors.Enqueue(e.Data); };
        _process.Start();
        Pid = _process.Id;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _exited = _process.WaitForExitAsync();
    }

    public string Name { get; }
    public int Pid { get; }
    public bool HasExited => _process.HasExited;
    public Task Exited => _exited;

    /// <summary>Jobs the child reported done so far.</summary>
    public long Done => Interlocked.Read(ref _done);

    public IReadOnlyList<string> Lines => [.. _lines];
    public IReadOnlyList<string> Errors => [.. _errors];

    public static ProcessStartInfo Dotnet(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo(DotnetHost) { WorkingDirectory = Path.GetTempPath() };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("KAIROS_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase) && key.Contains("URLS", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        return start;
    }

    /// <summary>Runs this very executable in another mode (<c>worker</c>, <c>hangfire</c>).</summary>
    public static ProcessStartInfo Self(IEnumerable<string> args) => Dotnet(typeof(ChildProcess).Assembly.Location, args);

    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    private void OnLine(string line)
    {
        _lines.Enqueue(line);
        if (line.StartsWith("done ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(5), out var n)) Interlocked.Exchange(ref _done, n);
        if (line.StartsWith("final ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(6), out var f))
        {
            Interlocked.Exchange(ref _done, f);
            Interlocked.Exchange(ref _final, f);
        }
        lock (_waiters)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Match(line)) continue;
                _waiters[i].Tcs.TrySetResult(line);
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <summary>Waits for a line of output matching <paramref name="match"/> (also among lines already printed).</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            foreach (var l in _lines)
            {
                if (match(l)) return l;
            }
            _waiters.Add((match, tcs));
        }
        var first = await Task.WhenAny(tcs.Task, _exited, Task.Delay(timeout));
        if (first == tcs.Task) return await tcs.Task;
        if (tcs.Task.IsCompleted) return await tcs.Task;
        throw new InvalidOperationException(first == _exited
            ? $"{Name} exited with {_process.ExitCode} before printing what was expected.\n{Describe()}"
            : $"{Name} did not print what was expected within {timeout}.\n{Describe()}");
    }

    public Task WaitReadyAsync(TimeSpan timeout) => WaitForLineAsync(l => l == "ready", timeout);

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Asks a worker-like child to stop, waits for its final count and exit.</summary>
    public async Task<long> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            try
            {
                await SendAsync("stop");
            }
            catch (IOException)
            {
                // It is already going away.
            }
        }
        if (await Task.WhenAny(_exited, Task.Delay(timeout)) != _exited)
        {
            Kill();
            await Task.WhenAny(_exited, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        return Interlocked.Read(ref _final) is var f and >= 0 ? f : Done;
    }

    public int ExitCode => _process.ExitCode;

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public string Describe(int last = 30)
    {
        static string Tail(IReadOnlyList<string> l, int n) => l.Count == 0 ? "  (nothing)" : string.Join('\n', l.Skip(Math.Max(0, l.Count - n)).Select(x => "  " + x));
        return $"{Name} (pid {Pid})\n stdout:\n{Tail(Lines, last)}\n stderr:\n{Tail(Errors, last)}";
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.WhenAny(_exited, Task.Delay(TimeSpan.FromSeconds(10)));
        _process.Dispose();
    }
}
