using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kairos.Bench.Infrastructure;
using Kairos.Bench.Scenarios;

namespace Kairos.Bench.Peers;

/// <summary>
/// 8. The same enqueue, burndown and latency work done in the same run by BullMQ 5 (on redis-server) and Hangfire 1.8
/// (InMemory, and PostgreSql when PostgreSQL is installed); each reported with a ratio Kairos/peer.
/// </summary>
public static class PeerScenarios
{
    private sealed record Measured(double EnqueueRate, double BurndownRate, Latencies? Latency, double? LatencyP50, int BurndownJobs, string? LatencyNote = null);

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var enqueue = await ctx.EnsureAsync("enqueue.single", () => KairosScenarios.EnqueueAsync(ctx));
        var burndown = await ctx.EnsureAsync("burndown.batch", () => KairosScenarios.BurndownModeAsync(ctx, "batch"));
        var latency = await ctx.EnsureAsync("latency.idle.p50", async () =>
        {
            var l = await KairosScenarios.MeasureLatencyAsync(ctx, "latency-idle", 20, "single", 1, 1);
            ctx.Figures["latency.idle.p50"] = l.Ms(50);
        });
        var concurrency = o.WorkerProcesses * o.WorkerCapacity;
        ctx.Results.Note($"peers: equal total worker concurrency {concurrency} ({o.WorkerProcesses} × {o.WorkerCapacity}); enqueue with {o.EnqueueClients} concurrent callers; " +
                         "idle latency with one worker of concurrency 1 at 20 jobs/s; the same warm-up and durations as Kairos");

        if (o.Peers.Contains("bullmq")) await BullMqAsync(ctx, enqueue, burndown, latency);
        if (o.Peers.Contains("hangfire-inmemory")) await HangfireAsync(ctx, "inmemory", "Hangfire.InMemory", enqueue, burndown, latency);
        if (o.Peers.Contains("hangfire-postgres"))
        {
            if (PostgresServer.FindBin() is null)
            {
                const string why = "PostgreSQL is not installed: run `apt-get install postgresql`";
                Console.WriteLine($"  Hangfire.PostgreSql skipped: {why}");
                ctx.Results.Add(Row.Skip("peers", "Hangfire.PostgreSql", why, Targets.VsHangfirePostgresThroughput));
            }
            else
            {
                // The run's cluster (Kairos with --store postgres uses it too, in schemas of its own).
                var pg = await ctx.PostgresAsync();
                ctx.Results.Note($"Hangfire.PostgreSql on PostgreSQL {pg.Version}: " + PostgresServer.Settings);
                await HangfireAsync(ctx, "postgres", "Hangfire.PostgreSql", enqueue, burndown, latency, pg.ConnectionString);
            }
        }
        ctx.Results.Note("Hangfire: " + HangfireMode.Settings);
    }

    private static void AddRows(BenchContext ctx, string peer, Measured m, double? enqueue, double? burndown, double? latency, bool durableTarget)
    {
        var o = ctx.Options;
        var r = ctx.Results;
        r.Add(Row.Measure("peers", $"{peer}: enqueue, 64 concurrent", m.EnqueueRate, "jobs/s"));
        r.Add(Row.Measure("peers", $"{peer}: burndown, {o.WorkerProcesses * o.WorkerCapacity} concurrent", m.BurndownRate, "jobs/s", note: $"{m.BurndownJobs:N0} jobs"));
        if (m.Latency is { } l)
        {
            r.Add(Row.Measure("peers", $"{peer}: latency idle p50", l.Ms(50), "ms", note: $"p99 {l.Ms(99):0.00} ms, max {l.MaxMs:0.00} ms, n={l.Count:N0}"));
        }
        else if (m.LatencyP50 is { } lp)
        {
            r.Add(Row.Measure("peers", $"{peer}: latency idle p50", lp, "ms", note: m.LatencyNote));
        }
        var isBull = peer == "BullMQ";
        var isInMemory = peer == "Hangfire.InMemory";
        if (enqueue is { } e && m.EnqueueRate > 0)
        {
            r.Add(Row.Measure("peers", $"Kairos/{peer} enqueue", e / m.EnqueueRate, "x", isBull ? Targets.EnqueueVsBullMq : null));
        }
        if (burndown is { } b && m.BurndownRate > 0)
        {
            var target = isBull || isInMemory ? Targets.BurndownBatchVsPeer : durableTarget ? Targets.VsHangfirePostgresThroughput : null;
            r.Add(Row.Measure("peers", $"Kairos/{peer} burndown (Kairos batch)", b / m.BurndownRate, "x", target));
        }
        if (latency is { } k && k > 0 && m.LatencyP50 is { } p)
        {
            r.Add(Row.Measure("peers", $"{peer}/Kairos idle latency p50 (× lower)", p / k, "x", durableTarget ? Targets.VsHangfirePostgresLatency : null));
        }
    }

    private static async Task BullMqAsync(BenchContext ctx, double? enqueue, double? burndown, double? latency)
    {
        var o = ctx.Options;
        var folder = Path.Combine(ctx.RepositoryRoot, "bench", "peers", "bullmq");
        var redis = Which.Find("redis-server", "/usr/sbin", "/usr/bin");
        var node = Which.Find("node");
        var modules = Directory.Exists(Path.Combine(folder, "node_modules", "bullmq"));
        if (redis is null || node is null || !modules)
        {
            var what = new List<string>();
            if (redis is null) what.Add("`apt-get install redis-server`");
            if (node is null) what.Add("install Node.js (`apt-get install nodejs npm`)");
            if (!modules) what.Add("`npm ci --prefix bench/peers/bullmq`");
            var why = "BullMQ skipped: run " + string.Join(" and ", what);
            Console.WriteLine("  " + why);
            ctx.Results.Add(Row.Skip("peers", "BullMQ", why, Targets.EnqueueVsBullMq));
            return;
        }
        var script = Path.Combine(folder, "bench.mjs");
        ctx.Results.Note($"BullMQ {BullMqVersion(folder)} on Node {Environment.GetEnvironmentVariable("NODE_VERSION") ?? NodeVersion(node)}, {RedisServer.Settings}; " +
                         $"Worker({o.WorkerProcesses} processes × concurrency {o.WorkerCapacity}), blocking fetch (no poll interval); completed jobs kept");
        ProcessStartInfo Node(params string[] args)
        {
            var s = new ProcessStartInfo(node) { WorkingDirectory = folder };
            s.ArgumentList.Add(script);
            foreach (var a in args) s.ArgumentList.Add(a);
            return s;
        }
        string S(double v) => v.ToString(CultureInfo.InvariantCulture);
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);

        double enqueueRate;
        {
            BenchContext.Say($"peers/BullMQ: enqueue, {o.EnqueueClients} concurrent add()");
            await using var r = await RedisServer.StartAsync(redis);
            var port = I(r.Port);
            var res = await RunForResultAsync(Node("enqueue", "--port", port, "--clients", I(o.EnqueueClients), "--warmup", S(o.Warmup.TotalSeconds),
                "--duration", S(o.EnqueueDuration.TotalSeconds)), "bullmq enqueue");
            enqueueRate = res.GetProperty("rate").GetDouble();
        }
        double burndownRate;
        {
            BenchContext.Say($"peers/BullMQ: burndown of {o.BurndownJobs:N0} jobs, {o.WorkerProcesses} worker processes × concurrency {o.WorkerCapacity}");
            await using var r = await RedisServer.StartAsync(redis);
            var port = I(r.Port);
            await RunForResultAsync(Node("seed", "--port", port, "--jobs", I(o.BurndownJobs)), "bullmq seed");
            var workers = new List<ChildProcess>();
            try
            {
                for (var i = 0; i < o.WorkerProcesses; i++) workers.Add(new ChildProcess(Node("worker", "--port", port, "--concurrency", I(o.WorkerCapacity)), $"bullmq worker {i}"));
                foreach (var w in workers) await w.WaitReadyAsync(TimeSpan.FromSeconds(30));
                var clock = Stopwatch.StartNew();
                foreach (var w in workers) await w.SendAsync("go");
                var n = o.BurndownJobs;
                var warm = (long)(n * 0.05);
                var t0 = await WaitAsync(workers, warm, clock);
                var t1 = await WaitAsync(workers, n, clock);
                burndownRate = (n - warm) / (t1 - t0).TotalSeconds;
                BenchContext.Say($"  drained {n:N0} in {t1.TotalSeconds:0.00} s; {burndownRate:N0} jobs/s after the first 5%");
                await Task.WhenAll(workers.Select(w => w.StopAsync(TimeSpan.FromSeconds(20))));
            }
            finally
            {
                foreach (var w in workers) await w.DisposeAsync();
            }
        }
        Latencies lat;
        {
            BenchContext.Say("peers/BullMQ: latency idle, 20 jobs/s, one worker of concurrency 1");
            await using var r = await RedisServer.StartAsync(redis);
            var port = I(r.Port);
            var file = Path.Combine(Path.GetTempPath(), "kairos-bench", $"bull-lat-{Guid.NewGuid():N}.txt");
            await using var w = new ChildProcess(Node("worker", "--port", port, "--concurrency", "1", "--latency-out", file), "bullmq latency worker");
            await w.WaitReadyAsync(TimeSpan.FromSeconds(30));
            await w.SendAsync("go");
            await Task.Delay(500);
            await RunForResultAsync(Node("produce", "--port", port, "--rate", "20", "--warmup", S(o.Warmup.TotalSeconds), "--duration", S(o.LatencyDuration.TotalSeconds)), "bullmq produce");
            await Task.Delay(200);
            await w.StopAsync(TimeSpan.FromSeconds(20));
            lat = Latencies.FromFile(file);
            File.Delete(file);
        }
        AddRows(ctx, "BullMQ", new Measured(enqueueRate, burndownRate, lat, lat.Ms(50), o.BurndownJobs), enqueue, burndown, latency, durableTarget: false);
    }

    private static async Task<TimeSpan> WaitAsync(List<ChildProcess> workers, long count, Stopwatch clock)
    {
        while (workers.Sum(w => w.Done) < count)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(30)) throw new TimeoutException("peer burndown did not finish in 30 minutes");
            if (workers.FirstOrDefault(w => w.HasExited) is { } dead) throw new InvalidOperationException("a peer worker exited early\n" + dead.Describe());
            await Task.Delay(5);
        }
        return clock.Elapsed;
    }

    private static async Task HangfireAsync(BenchContext ctx, string storage, string peer, double? enqueue, double? burndown, double? latency, string? conn = null)
    {
        var o = ctx.Options;
        var jobs = storage == "postgres" ? o.PostgresBurndownJobs : o.BurndownJobs;
        string S(double v) => v.ToString(CultureInfo.InvariantCulture);
        string[] Common(string mode)
        {
            var a = new List<string>
            {
                "hangfire", "--storage", storage, "--mode", mode, "--workers", (o.WorkerProcesses * o.WorkerCapacity).ToString(CultureInfo.InvariantCulture),
                "--warmup", S(o.Warmup.TotalSeconds), "--clients", o.EnqueueClients.ToString(CultureInfo.InvariantCulture),
            };
            if (conn is not null) a.AddRange(["--conn", conn]);
            return [.. a];
        }

        // Each mode in a fresh process; PostgreSQL tables are reset between modes by a fresh schema.
        BenchContext.Say($"peers/{peer}: enqueue, {o.EnqueueClients} concurrent BackgroundJobClient.Enqueue");
        var e = await RunForResultAsync(ChildProcess.Self([.. Common("enqueue"), "--duration", S(o.EnqueueDuration.TotalSeconds)]), peer + " enqueue");
        if (conn is not null) await ResetAsync(conn);
        BenchContext.Say($"peers/{peer}: burndown of {jobs:N0} jobs, WorkerCount {o.WorkerProcesses * o.WorkerCapacity}");
        var b = await RunForResultAsync(ChildProcess.Self([.. Common("burndown"), "--jobs", jobs.ToString(CultureInfo.InvariantCulture)]), peer + " burndown");
        if (conn is not null) await ResetAsync(conn);
        BenchContext.Say($"peers/{peer}: latency idle, 20 jobs/s, WorkerCount 1");
        var l = await RunForResultAsync(ChildProcess.Self(
        [
            "hangfire", "--storage", storage, "--mode", "latency", "--workers", "1", "--rate", "20", "--warmup", S(o.Warmup.TotalSeconds),
            "--duration", S(o.LatencyDuration.TotalSeconds), .. conn is null ? Array.Empty<string>() : ["--conn", conn],
        ]), peer + " latency");
        if (b.TryGetProperty("stuck", out var stuck) && stuck.GetInt64() > 0)
        {
            ctx.Results.Note($"{peer}: {stuck.GetInt64():N0} of {jobs:N0} jobs were fetched and never ran (they come back after Hangfire's 30-minute InvisibilityTimeout); " +
                             "its burndown rate is measured up to the last job that did run");
        }
        var p50 = l.GetProperty("p50").GetDouble();
        var m = new Measured(e.GetProperty("rate").GetDouble(), b.GetProperty("rate").GetDouble(), null, p50, jobs,
            $"p99 {l.GetProperty("p99").GetDouble():0.00} ms, max {l.GetProperty("max").GetDouble():0.00} ms, n={l.GetProperty("n").GetInt64():N0}");
        AddRows(ctx, peer, m, enqueue, burndown, latency, durableTarget: storage == "postgres");
    }

    /// <summary>Drops Hangfire's schema so that the next mode starts from empty tables.</summary>
    private static async Task ResetAsync(string conn)
    {
        await using var c = new Npgsql.NpgsqlConnection(conn);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("DROP SCHEMA IF EXISTS hangfire CASCADE", c);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<JsonElement> RunForResultAsync(ProcessStartInfo start, string name)
    {
        await using var p = new ChildProcess(start, name);
        var line = await p.WaitForLineAsync(l => l.StartsWith("result ", StringComparison.Ordinal), TimeSpan.FromMinutes(30));
        await Task.WhenAny(p.Exited, Task.Delay(TimeSpan.FromSeconds(30)));
        using var doc = JsonDocument.Parse(line["result ".Length..]);
        return doc.RootElement.Clone();
    }

    private static string BullMqVersion(string folder)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "node_modules", "bullmq", "package.json")));
            return doc.RootElement.GetProperty("version").GetString() ?? "5";
        }
        catch (IOException)
        {
            return "5";
        }
    }

    private static string NodeVersion(string node)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(node, "--version") { RedirectStandardOutput = true, UseShellExecute = false });
            var v = p?.StandardOutput.ReadToEnd().Trim();
            p?.WaitForExit();
            return v ?? "?";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }
}
