using System.Net.Http.Headers;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// A published <c>kairos server</c> on a free port in its own folder, and a way to run other <c>kairos</c> commands
/// against it as processes (with <c>KAIROS_URL</c>, <c>KAIROS_API_KEY</c> and a private <c>KAIROS_CONFIG</c>). Disposing
/// kills every process it started and deletes the folder.
/// </summary>
public sealed class CliServer : IAsyncDisposable
{
    public const string AdminKey = "kx_cli_commands_admin_key_0123456789";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly PublishedKairos _kairos;
    private readonly List<KairosProcess> _processes = [];

    private CliServer(PublishedKairos kairos, string root)
    {
        _kairos = kairos;
        Root = root;
    }

    public string Root { get; }
    public KairosProcess Server { get; private set; } = null!;
    public Uri BaseAddress => Server.BaseAddress;
    public HttpClient Api => Server.Client;

    /// <summary>The profile file the commands read and <c>kairos login</c> writes.</summary>
    public string ConfigPath => Path.Combine(Root, "config", "kairos.json");

    public IReadOnlyList<KairosProcess> Processes => _processes;

    public static async Task<CliServer> StartAsync(PublishedKairos kairos, IReadOnlyDictionary<string, string>? serverEnvironment = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "kairos-cli-tests", "cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var server = new CliServer(kairos, root);
        var env = new Dictionary<string, string>(serverEnvironment ?? new Dictionary<string, string>()) { ["KAIROS_ADMIN_API_KEY"] = AdminKey };
        var process = KairosProcess.Start(kairos, "server", root, env, "server", "--port", "0", "--data", Path.Combine(root, "data"));
        server._processes.Add(process);
        server.Server = await process.WaitUntilReadyAsync(AdminKey, TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>The environment a command gets: this server, the admin key, the private profile; entries of <paramref name="overrides"/> win (an empty value drops the variable).</summary>
    public Dictionary<string, string> Environment(IReadOnlyDictionary<string, string>? overrides = null)
    {
        var env = new Dictionary<string, string>
        {
            ["KAIROS_URL"] = BaseAddress.ToString().TrimEnd('/'),
            ["KAIROS_API_KEY"] = AdminKey,
            ["KAIROS_CONFIG"] = ConfigPath,
        };
        foreach (var (k, v) in overrides ?? new Dictionary<string, string>())
        {
            if (v.Length == 0) env.Remove(k);
            else env[k] = v;
        }
        return env;
    }

    /// <summary>Starts <c>kairos args...</c> without waiting for it.</summary>
    public KairosProcess Start(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = KairosProcess.Start(_kairos, "kairos " + string.Join(' ', args), Root, Environment(environment), args);
        _processes.Add(process);
        return process;
    }

    /// <summary>Runs <c>kairos args...</c> to its end.</summary>
    public async Task<CliResult> RunAsync(params string[] args) => await RunWithAsync(null, args);

    public async Task<CliResult> RunWithAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var process = Start(args, environment);
        var exit = await process.WaitForExitAsync(CommandTimeout);
        return new CliResult(exit, string.Join('\n', process.Stdout), process.Stderr.Where(l => !string.IsNullOrWhiteSpace(l)).ToList(), process.Describe());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes) await p.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a temporary folder left behind fails nothing
        }
    }

    /// <summary>A client with another key (e.g. for scoped keys).</summary>
    public HttpClient ClientWithKey(string key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}

/// <summary>How a command ended: exit code, stdout, the non-empty stderr lines.</summary>
public sealed record CliResult(int ExitCode, string Stdout, IReadOnlyList<string> Stderr, string Description)
{
    public System.Text.Json.JsonElement Json() => System.Text.Json.JsonDocument.Parse(Stdout).RootElement.Clone();

    public override string ToString() => Description;
}
