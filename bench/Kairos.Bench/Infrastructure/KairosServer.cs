using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Kairos.Bench.Infrastructure;

/// <summary>The published <c>kairos</c> server running as a child process on a fresh data folder.</summary>
public sealed partial class KairosServer : IAsyncDisposable
{
    public const string ApiKey = "kx_bench_admin_key_0123456789";

    private readonly ChildProcess _process;
    private readonly string _data;
    private readonly Func<Task>? _cleanup;

    private KairosServer(ChildProcess process, string data, Uri baseAddress, Func<Task>? cleanup)
    {
        _process = process;
        _data = data;
        BaseAddress = baseAddress;
        _cleanup = cleanup;
    }

    public Uri BaseAddress { get; }
    public int Pid => _process.Pid;
    public string DataFolder => _data;

    [GeneratedRegex(@"^Kairos (?<version>\S+) listening on (?<urls>.+) \(store: (?<store>[^,]+), data: (?<data>.+)\)$")]
    private static partial Regex ListeningPattern();

    /// <summary>Publishes <c>src/Kairos.Cli</c> in Release into <paramref name="output"/>; returns the path of kairos.dll.</summary>
    public static async Task<string> PublishAsync(string repositoryRoot, string output)
    {
        var project = Path.Combine(repositoryRoot, "src", "Kairos.Cli", "Kairos.Cli.csproj");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "publish", project, "-c", "Release", "-o", output, "-nologo", "-v", "q" }) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet publish");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var dll = Path.Combine(output, "kairos.dll");
        if (p.ExitCode != 0 || !File.Exists(dll))
        {
            throw new InvalidOperationException($"dotnet publish {project} failed ({p.ExitCode}):\n{await stdout}\n{await stderr}");
        }
        return dll;
    }

    /// <summary>
    /// The server published once and kept between runs: <paramref name="cacheDir"/> is reused when its stamp (the
    /// time the publish started) is newer than every source it was built from (<c>src/</c> without bin/obj, and the
    /// repository's build files); otherwise it is published again. Returns kairos.dll and what was done, in words.
    /// </summary>
    public static async Task<(string Dll, string What)> PublishCachedAsync(string repositoryRoot, string cacheDir, bool force)
    {
        var dll = Path.Combine(cacheDir, "kairos.dll");
        var stamp = Path.Combine(cacheDir, "published.stamp");
        var (newest, newestFile) = NewestSource(repositoryRoot);
        if (!force && File.Exists(dll) && File.Exists(stamp))
        {
            var published = File.GetLastWriteTimeUtc(stamp);
            if (published > newest)
            {
                return (dll, $"reusing the server published at {published.ToLocalTime():yyyy-MM-dd HH:mm:ss} in {cacheDir}: it is newer than every " +
                             $"source (newest: {Path.GetRelativePath(repositoryRoot, newestFile)}, {newest.ToLocalTime():yyyy-MM-dd HH:mm:ss}); --republish forces a publish");
            }
        }
        var why = force ? "--republish" : !File.Exists(dll) || !File.Exists(stamp) ? "nothing published yet" :
            $"{Path.GetRelativePath(repositoryRoot, newestFile)} changed after the last publish";
        var started = DateTime.UtcNow;
        var fresh = cacheDir + ".new-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await PublishAsync(repositoryRoot, fresh);
            var freshStamp = Path.Combine(fresh, "published.stamp");
            await File.WriteAllTextAsync(freshStamp, repositoryRoot + Environment.NewLine);
            File.SetLastWriteTimeUtc(freshStamp, started);
            if (Directory.Exists(cacheDir)) Directory.Delete(cacheDir, recursive: true);
            Directory.Move(fresh, cacheDir);
        }
        finally
        {
            if (Directory.Exists(fresh)) Directory.Delete(fresh, recursive: true);
        }
        return (dll, $"published src/Kairos.Cli (Release) into {cacheDir} ({why})");
    }

    /// <summary>The newest last-write time among the server's sources and the repository's build files.</summary>
    private static (DateTime Newest, string File) NewestSource(string root)
    {
        var newest = DateTime.MinValue;
        var file = "";
        void Consider(string path)
        {
            var t = File.GetLastWriteTimeUtc(path);
            if (t <= newest) return;
            newest = t;
            file = path;
        }
        foreach (var name in new[] { "Directory.Build.props", "Directory.Packages.props", "Directory.Build.targets", "global.json", "NuGet.config", "nuget.config" })
        {
            var path = Path.Combine(root, name);
            if (File.Exists(path)) Consider(path);
        }
        var pending = new Stack<string>([Path.Combine(root, "src")]);
        while (pending.TryPop(out var dir))
        {
            foreach (var f in Directory.EnumerateFiles(dir)) Consider(f);
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                var leaf = Path.GetFileName(sub);
                if (leaf is "bin" or "obj" || leaf.StartsWith('.')) continue;
                pending.Push(sub);
            }
        }
        return (newest, file);
    }

    /// <summary>
    /// Starts the server on a free port and a fresh data folder (SQLite), or with <c>--store postgres</c> on
    /// <paramref name="databaseUrl"/> (a fresh schema), and waits until <c>/readyz</c> answers. <paramref name="cleanup"/>
    /// runs after the server has exited (e.g. drops the schema).
    /// </summary>
    public static async Task<KairosServer> StartAsync(string dll, string name, string? databaseUrl = null, Func<Task>? cleanup = null)
    {
        var data = Path.Combine(Path.GetTempPath(), "kairos-bench", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(data);
        List<string> args = ["server", "--port", "0", "--data", data];
        if (databaseUrl is not null) args.AddRange(["--store", "postgres", "--database-url", databaseUrl]);
        var start = ChildProcess.Dotnet(dll, args, new Dictionary<string, string>
        {
            ["KAIROS_ADMIN_API_KEY"] = ApiKey,
        });
        var process = new ChildProcess(start, "kairos server (" + name + ")");
        try
        {
            var line = await process.WaitForLineAsync(l => ListeningPattern().IsMatch(l), TimeSpan.FromSeconds(60));
            var url = ListeningPattern().Match(line).Groups["urls"].Value.Split(", ")[0].TrimEnd('/') + "/";
            var server = new KairosServer(process, data, new Uri(url), cleanup);
            using var probe = new HttpClient { BaseAddress = server.BaseAddress };
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var r = await probe.GetAsync("readyz");
                    if (r.IsSuccessStatusCode) return server;
                }
                catch (HttpRequestException)
                {
                }
                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException("server not ready\n" + process.Describe());
                await Task.Delay(20);
            }
        }
        catch
        {
            await process.DisposeAsync();
            if (cleanup is not null) await cleanup();
            throw;
        }
    }

    public HttpClient Client(int connections) => Http.Client(BaseAddress, ApiKey, connections);

    public double? RssMiB() => ProcStats.RssMiB(Pid);

    public double? CpuSeconds() => ProcStats.CpuSeconds(Pid);

    public string Describe() => _process.Describe();

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        if (_cleanup is not null) await _cleanup();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
