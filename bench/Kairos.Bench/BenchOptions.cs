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

    /// <summary>Concurrent HTTP clients of the single-enqueue scenario (the issue says 64).</summary>
    public int EnqueueClients { get; init; } = 64;

    /// <summary>Capacity of each burndown worker process (the issue says 50).</summary>
    public int WorkerCapacity { get; init; } = 50;

    /// <summary>Jobs per fetch and per batch ack in batch mode (the issue says 100).</summary>
    public int BatchMax { get; init; } = 100;

    public int BurndownJobs => Jobs ?? (Quick ? 5_000 : 200_000);
    /// <summary>One job per call is several times slower: it drains at most 50,000 (2,000 in --quick) so the full run stays near 15 minutes.</summary>
    public int SingleBurndownJobs => Quick ? Math.Min(BurndownJobs, 2_000) : Math.Min(BurndownJobs, 50_000);
    public int WorkerProcesses => Workers ?? 4;
    public TimeSpan Warmup => Quick ? TimeSpan.FromSeconds(0.3) : TimeSpan.FromSeconds(3);
    public TimeSpan EnqueueDuration => Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(15);
    public int BulkJobs => Quick ? 10_000 : 300_000;
    public TimeSpan LatencyDuration => Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(20);
    public TimeSpan WorkersDuration => Quick ? TimeSpan.FromSeconds(1.5) : TimeSpan.FromSeconds(20);
    public int ListingJobs => Quick ? 4_000 : 1_000_000;
    public int ListingRequests => Quick ? 50 : 500;
    /// <summary>Hangfire.PostgreSql drains a few hundred jobs/s: it gets a smaller fixed count so the run stays bounded.</summary>
    public int PostgresBurndownJobs => Math.Min(BurndownJobs, Quick ? 200 : 10_000);

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
          --quick               every scenario scaled down: the whole run takes under a minute (a smoke check, not a measurement)
          --jobs N              jobs queued before the burndown (default 200000, one-job-per-call mode at most 50000; quick 5000 and 2000)
          --workers N           worker processes in the burndown (default 4, capacity 50 each)
          --store sqlite|postgres   the Kairos store to measure (postgres: not available yet)
          --server-dir DIR      use an already published server (kairos.dll in DIR) instead of publishing src/Kairos.Cli
          --out DIR             where the JSON and markdown results go (default bench/results)
        """;
}
