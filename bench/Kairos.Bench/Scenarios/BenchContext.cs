using Kairos.Bench.Infrastructure;

namespace Kairos.Bench.Scenarios;

/// <summary>What the scenarios share: options, the published server, the results, and figures later scenarios reuse.</summary>
public sealed class BenchContext(BenchOptions options, string serverDll, string repositoryRoot, ResultSet results)
{
    public BenchOptions Options => options;
    public string ServerDll => serverDll;
    public string RepositoryRoot => repositoryRoot;
    public ResultSet Results => results;

    /// <summary>Figures measured so far (e.g. "burndown.batch" in jobs/s), for ratios and for the half-load rate.</summary>
    public Dictionary<string, double> Figures { get; } = [];

    public Task<KairosServer> StartServerAsync(string name) => KairosServer.StartAsync(serverDll, name);

    public static void Say(string text) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {text}");

    /// <summary>Runs <paramref name="measure"/> unless <paramref name="figure"/> is already known; returns the figure.</summary>
    public async Task<double?> EnsureAsync(string figure, Func<Task> measure)
    {
        if (!Figures.ContainsKey(figure)) await measure();
        return Figures.TryGetValue(figure, out var v) ? v : null;
    }
}
