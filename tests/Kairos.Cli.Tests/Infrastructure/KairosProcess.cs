using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// One run of the published <c>kairos</c> CLI as a child process: its output lines, the address it says it listens
/// on, a client for it, and the ways to end it (SIGKILL, SIGTERM). Disposing kills it if it is still running.
/// </summary>
public sealed partial class KairosProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<string> _listeningLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _exited;
    private HttpClient? _client;
    private bool _disposed;
    private string? _finalState;

    private KairosProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _stdout.Enqueue(e.Data);
            if (ListeningPattern().IsMatch(e.Data)) _listeningLine.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) _stderr.Enqueue(e.Data);
        };
        process.Start();
        Id = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Completes once the process has exited and both output streams are read to the end.
        _exited = process.WaitForExitAsync();
    }

    /// <summary>The line the server prints when it has started: <c>Kairos 0.1.0 listening on http://127.0.0.1:PORT (store: sqlite, data: /path)</c>.</summary>
    [GeneratedRegex(@"^Kairos (?<version>\S+) listening on (?<urls>.+) \(store: (?<store>[^,]+), data: (?<data>.+)\)$")]
    public static partial Regex ListeningPattern();

    public string Name { get; }
    public int Id { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public IReadOnlyList<string> Stdout => [.. _stdout];
    public IReadOnlyList<string> Stderr => [.. _stderr];

    /// <summary>Where the server said it listens (set by <see cref="WaitUntilReadyAsync"/>).</summary>
    public Uri BaseAddress { get; private set; } = new("http://invalid/");

    /// <summary>A client for the server with the admin key (set by <see cref="WaitUntilReadyAsync"/>).</summary>
    public HttpClient Client => _client ?? throw new InvalidOperationException("The server is not ready yet: call WaitUntilReadyAsync.");

    /// <summary>Starts <c>dotnet kairos.dll args...</c> with only the given <c>KAIROS_*</c> variables.</summary>
    public static KairosProcess Start(
        PublishedKairos kairos, string name, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(PublishedKairos.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(kairos.EntryAssembly);
        foreach (var a in args) start.ArgumentList.Add(a);
        // The test run's own settings must not leak into the server under test.
        foreach (var key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("KAIROS_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) ||
                key.Equals("DOTNET_URLS", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return new KairosProcess(new Process { StartInfo = start, EnableRaisingEvents = true }, name);
    }

    /// <summary>Waits for the "listening on" line, then polls <c>/readyz</c> until the store is open and migrated.</summary>
    public async Task<KairosProcess> WaitUntilReadyAsync(string apiKey, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var line = await WaitForListeningLineAsync(timeout);
        var urls = ListeningPattern().Match(line).Groups["urls"].Value;
        BaseAddress = new Uri(urls.Split(", ")[0].TrimEnd('/') + "/");
        _client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        while (true)
        {
            try
            {
                using var ready = await _client.GetAsync("readyz");
                if (ready.StatusCode == HttpStatusCode.OK) return this;
            }
            catch (HttpRequestException)
            {
                // Not accepting connections yet.
            }
            if (_process.HasExited) throw Failure($"{Name} exited with {_process.ExitCode} before it was ready");
            if (deadline.Elapsed > timeout) throw Failure($"{Name} was not ready within {timeout}");
            await Task.Delay(25);
        }
    }

    /// <summary>Waits for the line saying where the server listens; fails at once if the process exits first.</summary>
    public async Task<string> WaitForListeningLineAsync(TimeSpan timeout)
    {
        var first = await Task.WhenAny(_listeningLine.Task, _exited, Task.Delay(timeout));
        if (first == _listeningLine.Task) return await _listeningLine.Task;
        if (first == _exited) throw Failure($"{Name} exited with {_process.ExitCode} before saying where it listens");
        throw Failure($"{Name} did not say where it listens within {timeout}");
    }

    /// <summary>Waits until the process has exited and its output is read; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(_exited, Task.Delay(timeout)) != _exited) throw Failure($"{Name} did not exit within {timeout}");
        return _process.ExitCode;
    }

    /// <summary>SIGKILL on Unix (TerminateProcess on Windows): no chance to flush or close anything.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Sends SIGTERM, as a service manager or <c>docker stop</c> does.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })
            ?? throw new InvalidOperationException("could not run kill");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw Failure($"kill -TERM {Id} failed with {kill.ExitCode}");
    }

    /// <summary>The process's output, for failure messages and the test log.</summary>
    public string Describe(int lastLines = 40)
    {
        static string Tail(IReadOnlyList<string> lines, int n) =>
            lines.Count == 0 ? "  (nothing)" : string.Join('\n', lines.Skip(Math.Max(0, lines.Count - n)).Select(l => "  " + l));
        var state = _finalState ?? State();
        return $"{Name} (pid {Id}, {state})\n stdout:\n{Tail(Stdout, lastLines)}\n stderr:\n{Tail(Stderr, lastLines)}";
    }

    private InvalidOperationException Failure(string message) => new($"{message}.\n{Describe()}");

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        _client?.Dispose();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await Task.WhenAny(_exited, Task.Delay(TimeSpan.FromSeconds(10)));
        }
        catch (InvalidOperationException)
        {
            // It ended on its own in between.
        }
        _finalState = State();
        _process.Dispose();
    }

    private string State()
    {
        try
        {
            return _process.HasExited ? $"exited with {_process.ExitCode}" : "running";
        }
        catch (InvalidOperationException)
        {
            return "not running";
        }
    }
}
