using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Kairos.Bench.Infrastructure;

/// <summary>The published <c>kairos</c> server running as a child process on a fresh data folder.</summary>
public sealed partial class KairosServer : IAsyncDisposable
{
    public const string ApiKey = "kx_bench_admin_key_0123456789";

    private readonly ChildProcess _process;
    private readonly string _data;

    private KairosServer(ChildProcess process, string data, Uri baseAddress)
    {
        _process = process;
        _data = data;
        BaseAddress = baseAddress;
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

    /// <summary>Starts the server on a free port and a fresh data folder, and waits until <c>/readyz</c> answers.</summary>
    public static async Task<KairosServer> StartAsync(string dll, string name)
    {
        var data = Path.Combine(Path.GetTempPath(), "kairos-bench", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(data);
        var start = ChildProcess.Dotnet(dll, ["server", "--port", "0", "--data", data], new Dictionary<string, string>
        {
            ["KAIROS_ADMIN_API_KEY"] = ApiKey,
        });
        var process = new ChildProcess(start, "kairos server (" + name + ")");
        try
        {
            var line = await process.WaitForLineAsync(l => ListeningPattern().IsMatch(l), TimeSpan.FromSeconds(60));
            var url = ListeningPattern().Match(line).Groups["urls"].Value.Split(", ")[0].TrimEnd('/') + "/";
            var server = new KairosServer(process, data, new Uri(url));
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
