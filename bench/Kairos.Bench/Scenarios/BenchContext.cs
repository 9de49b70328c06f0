using Kairos.Bench.Infrastructure;
using Kairos.Bench.Peers;

namespace Kairos.Bench.Scenarios;

/// <summary>What the scenarios share: options, the published server, the results, and figures later scenarios reuse.</summary>
public sealed class BenchContext(BenchOptions options, string serverDll, string repositoryRoot, ResultSet results) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Task<PostgresServer>? _postgres;

    public BenchOptions Options => options;
    public string ServerDll => serverDll;
    public string RepositoryRoot => repositoryRoot;
    public ResultSet Results => results;

    /// <summary>Figures measured so far (e.g. "burndown.batch" in jobs/s), for ratios and for the half-load rate.</summary>
    public Dictionary<string, double> Figures { get; } = [];

    /// <summary>The run's throwaway PostgreSQL cluster (Kairos with <c>--store postgres</c>, and Hangfire.PostgreSql), or null when it is not running.</summary>
    public PostgresServer? Postgres => _postgres is { IsCompletedSuccessfully: true } t ? t.Result : null;

    /// <summary>
    /// Starts the run's PostgreSQL cluster once (in the background when called early) and returns it. Throws when
    /// PostgreSQL is not installed; check <see cref="PostgresServer.FindBin"/> first to skip instead.
    /// </summary>
    public Task<PostgresServer> PostgresAsync()
    {
        lock (_gate)
        {
            return _postgres ??= Task.Run(async () =>
            {
                var bin = PostgresServer.FindBin() ?? throw new InvalidOperationException("PostgreSQL is not installed: run `apt-get install postgresql`");
                return await PostgresServer.StartAsync(bin);
            });
        }
    }

    /// <summary>
    /// A fresh server for one scenario: a fresh data folder with SQLite; with <c>--store postgres</c> a fresh schema
    /// of the run's cluster, dropped once the server has exited.
    /// </summary>
    public async Task<KairosServer> StartServerAsync(string name)
    {
        if (options.Store != "postgres") return await KairosServer.StartAsync(serverDll, name);
        var pg = await PostgresAsync();
        var schema = "bench_" + new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray()) + "_" +
                     Guid.NewGuid().ToString("N")[..8];
        return await KairosServer.StartAsync(serverDll, name, pg.KairosConnectionString(schema), () => pg.DropSchemaAsync(schema));
    }

    /// <summary>CPU seconds of the PostgreSQL cluster so far, when Kairos runs on it.</summary>
    public double? DatabaseCpuSeconds() => options.Store == "postgres" ? Postgres?.CpuSeconds() : null;

    public static void Say(string text) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {text}");

    /// <summary>Runs <paramref name="measure"/> unless <paramref name="figure"/> is already known; returns the figure.</summary>
    public async Task<double?> EnsureAsync(string figure, Func<Task> measure)
    {
        if (!Figures.ContainsKey(figure)) await measure();
        return Figures.TryGetValue(figure, out var v) ? v : null;
    }

    public async ValueTask DisposeAsync()
    {
        Task<PostgresServer>? pg;
        lock (_gate) pg = _postgres;
        if (pg is null) return;
        try
        {
            await (await pg).DisposeAsync();
        }
        catch (InvalidOperationException)
        {
            // It never started; the scenario that needed it said why.
        }
    }
}
