using System.Globalization;

namespace Kairos.Bench;

/// <summary>The harness's command line: <c>--scenario NAME|all</c>, <c>--quick</c>, <c>--jobs N</c>, <c>--workers N</c>, <c>--store</c>.</summary>
public sealed record BenchOptions
{
    public static readonly string[] ScenarioNames = ["enqueue", "bulk", "burndown", "latency", "workers", "memory", "listing", "peers"];
    public static readonly string[] PeerNames = ["bullmq", "hangfire-inmemory", "hangfire-postgres"];

    public IReadOnlyList<string> Scenarios { get; init; } = ScenarioNames;
    public IReadOnlyList<string> Peers { get; init; } = PeerNames;
    public bool Quick { get; init; }
    public int? Jobs { get; init; }
    public int? Workers { get; init; }
    public string Store { get; init; } = "sqlite";
    public string? ServerDir { get; init; }
    public string? OutputDir { get; init; }
    public bool Help { get; init; }
    /// <summary>Publish the server even when the cached one is newer than the sources.</summary>
    public bool Republish { get; init; }

    /// <summary>Concurrent HTTP clients of the single-enqueue scenario (the issue says 64).</summary>
    public int EnqueueClients { get; init; } = 64;

    /// <summary>Capacity of each burndown worker process (the issue says 50).</summary>
    public int WorkerCapacity { get; init; } = 50;

    /// <summary>Jobs per fetch and per batch ack in batch mode (the issue says 100).</summary>
    public int BatchMax { get; init; } = 100;

    // --quick: sizes cut so that every scenario together stays under a minute on a loaded 2-core machine (the build and
    // the one-time publish of the server aside). Each is a smoke check, not a measurement.
    public int BurndownJobs => Jobs ?? (Quick ? 3_000 : 200_000);
    /// <summary>One job per call is several times slower: it drains at most 50,000 (1,000 in --quick) so the full run stays near 15 minutes.</summary>
    public int SingleBurndownJobs => Quick ? Math.Min(BurndownJobs, 1_000) : Math.Min(BurndownJobs, 50_000);
    public int WorkerProcesses => Workers ?? 4;
    /// <summary>In --quick, 0.3 s; 1 s with PostgreSQL, whose first requests open the server's pooled connections.</summary>
    public TimeSpan Warmup => Quick ? TimeSpan.FromSeconds(Store == "postgres" ? 1 : 0.3) : TimeSpan.FromSeconds(3);
    public TimeSpan EnqueueDuration => Quick ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(15);
    public int BulkJobs => Quick ? 4_000 : 300_000;
    public int BulkWarmupRequests => Quick ? 2 : 20;
    public TimeSpan LatencyDuration => Quick ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(20);
    /// <summary>The half-load latency rate is capped in --quick: sending thousands of single POSTs is not a smoke check.</summary>
    public double LoadedLatencyRateCap => Quick ? 200 : double.MaxValue;
    public TimeSpan WorkersDuration => Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(20);
    public TimeSpan MemoryIdleDelay => Quick ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(3);
    public int ListingJobs => Quick ? 2_000 : 1_000_000;
    public int ListingRequests => Quick ? 20 : 500;
    /// <summary>Hangfire.PostgreSql drains a few hundred jobs/s: it gets a smaller fixed count so the run stays bounded.</summary>
    public int PostgresBurndownJobs => Math.Min(BurndownJobs, Quick ? 100 : 10_000);

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Value()
            {
                if (i + 1 >= args.Count) throw new ArgumentException($"{a} needs a value");
                return args[++i];
            }
            int Positive()
            {
                var v = Value();
                if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 1)
                {
                    throw new ArgumentException($"{a} must be a positive integer, not '{v}'");
                }
                return n;
            }
            switch (a)
            {
                case "--scenario":
                    var s = Value();
                    if (s == "all") o = o with { Scenarios = ScenarioNames };
                    else
                    {
                        var names = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                        foreach (var n in names)
                        {
                            if (!ScenarioNames.Contains(n)) throw new ArgumentException($"unknown scenario '{n}'; one of all, {string.Join(", ", ScenarioNames)}");
                        }
                        o = o with { Scenarios = names };
                    }
                    break;
                case "--peers":
                    var peers = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    foreach (var p in peers)
                    {
                        if (!PeerNames.Contains(p)) throw new ArgumentException($"unknown peer '{p}'; one of {string.Join(", ", PeerNames)}");
                    }
                    o = o with { Peers = peers };
                    break;
                case "--quick": o = o with { Quick = true }; break;
                case "--jobs": o = o with { Jobs = Positive() }; break;
                case "--workers": o = o with { Workers = Positive() }; break;
                case "--store":
                    var store = Value();
                    if (store is not ("sqlite" or "postgres")) throw new ArgumentException($"--store must be sqlite or postgres, not '{store}'");
                    o = o with { Store = store };
                    break;
                case "--server-dir": o = o with { ServerDir = Value() }; break;
                case "--out": o = o with { OutputDir = Value() }; break;
                case "--republish": o = o with { Republish = true }; break;
                case "-h" or "--help": o = o with { Help = true }; break;
                default: throw new ArgumentException($"unknown argument '{a}' (see --help)");
            }
        }
        return o;
    }

    public const string Usage = """
        Kairos.Bench: the Kairos server measured against its targets and against BullMQ and Hangfire, in one run.

        usage: dotnet run -c Release --project bench/Kairos.Bench -- [options]

          --scenario NAME|all   enqueue, bulk, burndown, latency, workers, memory, listing, peers (comma-separated), or all (default)
          --peers LIST          which peers the peers scenario runs: bullmq, hangfire-inmemory, hangfire-postgres (default all)
          --quick               every scenario scaled down: the scenarios take under a minute (a smoke check, not a measurement)
          --jobs N              jobs queued before the burndown (default 200000, one-job-per-call mode at most 50000; quick 3000 and 1000)
          --workers N           worker processes in the burndown (default 4, capacity 50 each)
          --store sqlite|postgres   the Kairos store to measure; postgres: a throwaway PostgreSQL cluster started by the
                                harness (Debian's postgresql), one fresh schema per scenario
          --server-dir DIR      use an already published server (kairos.dll in DIR) instead of the cached publish of src/Kairos.Cli
          --republish           publish src/Kairos.Cli even when the cached publish is newer than every source
          --out DIR             where the JSON and markdown results go (default bench/results)
        """;
}
