using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Kairos.Bench;
using Kairos.Bench.Infrastructure;
using Kairos.Bench.Peers;
using Kairos.Bench.Scenarios;
using Kairos.Bench.Worker;

// Child-process modes of this same executable.
if (args.Length > 0 && args[0] == "worker") return await WorkerMode.RunAsync(args);
if (args.Length > 0 && args[0] == "sdk-worker") return await SdkWorkerMode.RunAsync(args);
if (args.Length > 0 && args[0] == "hangfire") return await HangfireMode.RunAsync(args);

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"Kairos.Bench: {ex.Message}");
    return 2;
}
if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
if (options.Store == "postgres" && PostgresServer.FindBin() is null)
{
    Console.Error.WriteLine("Kairos.Bench: --store postgres needs PostgreSQL's initdb and pg_ctl: run `apt-get install postgresql` (the harness starts a throwaway cluster itself).");
    return 2;
}

var total = Stopwatch.StartNew();
var root = Repository.Root();
var results = new ResultSet();
var cores = Environment.ProcessorCount;
Console.WriteLine($"Kairos.Bench: scenarios {string.Join(", ", options.Scenarios)}{(options.Quick ? " (--quick: scaled down, a smoke check, not a measurement)" : "")}");
Console.WriteLine($"Machine: {cores} cores ({ProcStats.CpuModel()}), {ProcStats.MemoryGiB()} GiB, {RuntimeInformation.OSDescription}.");
Console.WriteLine($"The server, the load generator, the worker processes and the peers all share these {cores} cores: every figure below is for the whole system on this one machine.");
Console.WriteLine();
Console.WriteLine("Targets (2-core machine):");
foreach (var (scenario, target) in Targets.TableFor(options.Store)) Console.WriteLine($"  {scenario,-36} {target}");
Console.WriteLine();

string serverDll;
if (options.ServerDir is { } dir)
{
    serverDll = Path.Combine(Path.GetFullPath(dir), "kairos.dll");
    if (!File.Exists(serverDll))
    {
        Console.Error.WriteLine($"Kairos.Bench: no kairos.dll in {dir}");
        return 2;
    }
}
else
{
    // Published once and reused while it is newer than every source: a --quick run should not pay for a publish.
    var cacheDir = Path.Combine(Path.GetTempPath(), "kairos-bench",
        "server-cache-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(root)))[..8]);
    BenchContext.Say("checking the published server against src/ ...");
    var publish = Stopwatch.StartNew();
    var (dll, what) = await KairosServer.PublishCachedAsync(root, cacheDir, options.Republish);
    serverDll = dll;
    BenchContext.Say($"{what} ({publish.Elapsed.TotalSeconds:0.0} s)");
}
var scenarioClock = Stopwatch.StartNew();

// Disposed when the program ends: stops the PostgreSQL cluster if one was started.
await using var ctx = new BenchContext(options, serverDll, root, results);
if (options.Store == "postgres" || options.Scenarios.Contains("peers") && options.Peers.Contains("hangfire-postgres") && PostgresServer.FindBin() is not null)
{
    // initdb and the first start take seconds: they run while the first scenarios do.
    _ = ctx.PostgresAsync();
}
if (options.Store == "postgres")
{
    PostgresServer pg;
    try
    {
        pg = await ctx.PostgresAsync();
    }
    catch (InvalidOperationException ex)
    {
        Console.Error.WriteLine($"Kairos.Bench: could not start PostgreSQL for --store postgres: {ex.Message}");
        return 1;
    }
    results.Note($"Kairos store: postgres, PostgreSQL {pg.Version} started by the harness on the same machine ({PostgresServer.Settings}); " +
                 "one fresh schema per scenario (Search Path=bench_<scenario>_<id>), Npgsql's defaults otherwise; server CPU and RSS are the Kairos process's " +
                 "alone, PostgreSQL's CPU is printed beside them");
}
var failed = false;
foreach (var name in options.Scenarios)
{
    try
    {
        switch (name)
        {
            case "enqueue": await KairosScenarios.EnqueueAsync(ctx); break;
            case "bulk": await KairosScenarios.BulkAsync(ctx); break;
            case "burndown": await KairosScenarios.BurndownAsync(ctx); break;
            case "latency": await KairosScenarios.LatencyAsync(ctx); break;
            case "workers": await KairosScenarios.WorkersAsync(ctx); break;
            case "memory": await KairosScenarios.MemoryAsync(ctx); break;
            case "listing": await KairosScenarios.ListingAsync(ctx); break;
            case "peers": await PeerScenarios.RunAsync(ctx); break;
        }
    }
    catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TimeoutException or IOException or TaskCanceledException)
    {
        failed = true;
        Console.Error.WriteLine($"scenario {name} failed: {ex}");
        results.Add(Row.Skip(name, "scenario did not complete", ex.GetType().Name + ": " + ex.Message.Split('\n')[0]));
    }
}
BenchContext.Say($"scenarios took {scenarioClock.Elapsed.TotalSeconds:0} s (the build and the publish check before them excluded)");

var commit = Repository.ShortSha(root);
var date = DateTime.Now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
var info = new RunInfo(date, commit, options.Quick, cores, ProcStats.CpuModel(), ProcStats.MemoryGiB(), RuntimeInformation.FrameworkDescription,
    options.Store, string.Join(' ', args), Math.Round(total.Elapsed.TotalSeconds, 1));
if (results.Rows.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine($"Results ({cores} cores shared by the server, the load generator, the workers and the peers; {total.Elapsed.TotalSeconds:0} s in all):");
    Console.WriteLine(results.Table());
    var outDir = options.OutputDir ?? Path.Combine(root, "bench", "results");
    Directory.CreateDirectory(outDir);
    var stem = Path.Combine(outDir, $"{date}-{commit}{(options.Store == "sqlite" ? "" : "-" + options.Store)}{(options.Quick ? "-quick" : "")}");
    await File.WriteAllTextAsync(stem + ".json", results.Json(info));
    await File.WriteAllTextAsync(stem + ".md", results.Markdown(info));
    Console.WriteLine($"Written: {stem}.json and {stem}.md");
}
return failed ? 1 : 0;
