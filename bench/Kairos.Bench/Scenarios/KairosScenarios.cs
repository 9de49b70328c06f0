using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kairos.Bench.Infrastructure;
using Kairos.Bench.Worker;

namespace Kairos.Bench.Scenarios;

/// <summary>The Kairos scenarios of the issue, each on a freshly started server with a fresh data folder.</summary>
public static class KairosScenarios
{
    private const string Queue = "bench";

    /// <summary>1. Single-job <c>POST /api/v1/jobs</c> from 64 concurrent clients for a fixed time.</summary>
    public static async Task EnqueueAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        BenchContext.Say($"enqueue: {o.EnqueueClients} concurrent clients, single POST /api/v1/jobs, warm-up {o.Warmup.TotalSeconds:0.#} s, measured {o.EnqueueDuration.TotalSeconds:0.#} s");
        await using var server = await ctx.StartServerAsync("enqueue");
        using var client = server.Client(o.EnqueueClients);
        var body = Load.JobBody(Queue);
        var lat = new Latencies();
        var (count, window) = await Load.ClosedLoopAsync(o.EnqueueClients, o.Warmup, o.EnqueueDuration, async ct =>
        {
            using var content = Load.Body(body);
            using var r = await client.PostAsync("api/v1/jobs", content, ct);
            if ((int)r.StatusCode != 201) await Http.EnsureOkAsync(r, "enqueue");
        }, lat);
        var rate = count / window.TotalSeconds;
        ctx.Figures["enqueue.single"] = rate;
        ctx.Results.Add(Row.Measure("enqueue", "single POST /jobs, 64 clients", rate, "jobs/s", Targets.EnqueueSingle));
        ctx.Results.Add(Row.Measure("enqueue", "request latency p50", lat.Ms(50), "ms"));
        ctx.Results.Add(Row.Measure("enqueue", "request latency p99", lat.Ms(99), "ms"));
    }

    /// <summary>2. <c>POST /api/v1/jobs/bulk</c> with 1,000 jobs per request.</summary>
    public static async Task BulkAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        const int perRequest = 1000;
        const int concurrency = 4;
        BenchContext.Say($"bulk: {o.BulkJobs:N0} jobs in requests of {perRequest:N0}, {concurrency} concurrent clients, after a warm-up of {o.BulkWarmupRequests} requests");
        await using var server = await ctx.StartServerAsync("bulk");
        using var client = server.Client(concurrency);
        await Load.SeedAsync(client, "warmup", o.BulkWarmupRequests * perRequest, perRequest, concurrency);
        var lat = new Latencies();
        var body = Load.BulkBody(Queue, perRequest);
        long remaining = o.BulkJobs / perRequest;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                var start = Stopwatch.GetTimestamp();
                using var content = Load.Body(body);
                using var r = await client.PostAsync("api/v1/jobs/bulk", content);
                await Http.EnsureOkAsync(r, "bulk enqueue");
                lat.RecordSince(start);
            }
        })));
        var rate = o.BulkJobs / perRequest * perRequest / clock.Elapsed.TotalSeconds;
        ctx.Figures["bulk"] = rate;
        ctx.Results.Add(Row.Measure("bulk", "POST /jobs/bulk, 1,000 jobs per request", rate, "jobs/s", Targets.Bulk));
        ctx.Results.Add(Row.Measure("bulk", "request latency p50", lat.Ms(50), "ms"));
    }

    /// <summary>
    /// 3. N no-op jobs queued, then W worker processes drain them: raw protocol workers in batch mode, the .NET SDK's
    /// worker host right after (compared with the batch rate of this run), then raw workers one job per call.
    /// </summary>
    public static async Task BurndownAsync(BenchContext ctx)
    {
        await BurndownModeAsync(ctx, "batch");
        await BurndownModeAsync(ctx, "sdk");
        await BurndownModeAsync(ctx, "single");
    }

    public static async Task BurndownModeAsync(BenchContext ctx, string mode)
    {
        var o = ctx.Options;
        var n = mode == "single" ? o.SingleBurndownJobs : o.BurndownJobs;
        BenchContext.Say($"burndown ({mode}): {n:N0} jobs queued, then {o.WorkerProcesses} worker processes × capacity {o.WorkerCapacity}" + mode switch
        {
            "batch" => $", fetch max {o.BatchMax}, batch ack",
            "sdk" => $", the .NET SDK's worker host (AddKairosWorker, IJobHandler<T>), FetchBatchSize {o.BatchMax}, AckBatchSize {o.BatchMax}",
            _ => ", one job per fetch and per ack",
        });
        await using var server = await ctx.StartServerAsync("burndown-" + mode);
        if (mode == "batch")
        {
            await Task.Delay(o.MemoryIdleDelay);
            if (server.RssMiB() is { } idle) ctx.Figures["memory.idle"] = idle;
        }
        using var client = server.Client(4);
        var seed = Stopwatch.StartNew();
        await Load.SeedAsync(client, Queue, n);
        BenchContext.Say($"  seeded {n:N0} jobs in {seed.Elapsed.TotalSeconds:0.0} s");
        var rate = await DrainAsync(ctx, server, Queue, n, mode, o.WorkerProcesses, note: true);
        var key = "burndown." + mode;
        ctx.Figures[key] = rate;
        switch (mode)
        {
            case "batch":
                ctx.Results.Add(Row.Measure("burndown", $"batch fetch/ack (max {o.BatchMax}), {o.WorkerProcesses}×{o.WorkerCapacity}", rate, "jobs/s",
                    Targets.BurndownBatchFor(o.Store), $"{n:N0} jobs"));
                break;
            case "sdk":
                const string sdk = "burndown, SDK worker host";
                ctx.Results.Add(Row.Measure(sdk, $"AddKairosWorker + IJobHandler, {o.WorkerProcesses}×{o.WorkerCapacity}, batch fetch/ack", rate, "jobs/s", note: $"{n:N0} jobs"));
                if (ctx.Figures.TryGetValue("burndown.batch", out var raw) && raw > 0)
                {
                    ctx.Results.Add(Row.Measure(sdk, $"SDK host / raw batch workers ({raw:N0} jobs/s) of this run", rate / raw, "x", Targets.SdkWorkerVsRaw));
                }
                else
                {
                    ctx.Results.Add(Row.Skip(sdk, "SDK host / raw batch workers", "no raw batch burndown in this run", Targets.SdkWorkerVsRaw));
                }
                ctx.Results.Note($"burndown, SDK worker host: {o.WorkerProcesses} processes (`Kairos.Bench sdk-worker`) built like a user's worker service: " +
                                 $"AddKairosClient + AddKairosWorker(queue concurrency {o.WorkerCapacity}, FetchBatchSize {o.BatchMax}, AckBatchSize {o.BatchMax}, lease 120 s) " +
                                 "+ AddHandler<NoopHandler, NoopPayload>; a DI scope, a handler instance and a typed payload per job; the host fetches once it has room " +
                                 $"for a batch and holds up to {o.WorkerCapacity} running + a prefetch buffer of up to {o.BatchMax} per process (the raw batch workers " +
                                 $"lease up to {2 * o.BatchMax}); done = acks the server answered ok to");
                break;
            default:
                ctx.Results.Add(Row.Measure("burndown", $"one job per fetch/ack, {o.WorkerProcesses}×{o.WorkerCapacity}", rate, "jobs/s", Targets.BurndownSingle, $"{n:N0} jobs"));
                break;
        }
        if (mode == "batch" && server.RssMiB() is { } after) ctx.Figures["memory.after_burndown"] = after;
    }

    /// <summary>
    /// Starts the worker processes, lets them drain <paramref name="n"/> queued jobs, and returns the rate measured
    /// from the moment 5% were done (start-up and JIT warm-up excluded) to the last one; checks the server's counts.
    /// </summary>
    public static async Task<double> DrainAsync(BenchContext ctx, KairosServer server, string queue, long n, string mode, int processes, bool note = false)
    {
        var o = ctx.Options;
        await using var pool = await WorkerPool.StartAsync(server.BaseAddress, KairosServer.ApiKey, queue, mode, processes, o.WorkerCapacity, o.BatchMax);
        var cpu0 = server.CpuSeconds();
        var db0 = ctx.DatabaseCpuSeconds();
        var workers0 = WorkersCpuSeconds(pool);
        var clock = Stopwatch.StartNew();
        await pool.GoAsync();
        var warm = (long)(n * 0.05);
        var t0 = await pool.WaitForDoneAsync(warm, clock, TimeSpan.FromMinutes(30));
        var t1 = await pool.WaitForDoneAsync(n, clock, TimeSpan.FromMinutes(30));
        var cpu1 = server.CpuSeconds();
        var db1 = ctx.DatabaseCpuSeconds();
        var workers1 = WorkersCpuSeconds(pool);
        await pool.StopAsync();
        var rate = (n - warm) / (t1 - t0).TotalSeconds;
        var cpu = cpu1 - cpu0;
        var db = db1 - db0;
        var (fetches, fetched, acks) = pool.Calls();
        var how = $"server CPU {cpu / t1.TotalSeconds * 100:0} % of a core" +
                  (db is { } d ? $", PostgreSQL CPU {d / t1.TotalSeconds * 100:0} % of a core" : "") +
                  $", worker processes {(workers1 - workers0) / t1.TotalSeconds * 100:0} % of a core" +
                  (fetches > 0 ? $"; {fetches:N0} fetches ({(double)fetched / fetches:0.0} jobs each), {acks:N0} ack calls ({(double)n / Math.Max(1, acks):0.0} jobs each)" : "");
        BenchContext.Say($"  drained {n:N0} in {t1.TotalSeconds:0.00} s; {rate:N0} jobs/s after the first 5%; {how}");
        if (note) ctx.Results.Note($"burndown ({mode}): {how}");
        using var client = server.Client(1);
        long succeeded = 0;
        foreach (var q in queue.Split(',')) succeeded += (await QueueCountsAsync(client, q)).GetValueOrDefault("succeeded");
        if (succeeded < n)
        {
            ctx.Results.Note($"{queue}: the server counts {succeeded:N0} succeeded of {n:N0} after the {mode} burndown");
        }
        return rate;
    }

    /// <summary>The CPU time the pool's worker processes have used (utime + stime), in seconds.</summary>
    private static double WorkersCpuSeconds(WorkerPool pool) => pool.Pids.Sum(pid => ProcStats.CpuSeconds(pid) ?? 0);

    public static async Task<Dictionary<string, long>> QueueCountsAsync(HttpClient client, string queue)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync($"api/v1/queues/{queue}"));
        var counts = new Dictionary<string, long>();
        if (doc.RootElement.TryGetProperty("counts", out var c))
        {
            foreach (var p in c.EnumerateObject()) counts[p.Name] = p.Value.GetInt64();
        }
        return counts;
    }

    /// <summary>4. Enqueue-to-handler-start latency: idle (one long-polling worker, 20 jobs/s) and at half load.</summary>
    public static async Task LatencyAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var idle = await MeasureLatencyAsync(ctx, "latency-idle", 20, mode: "single", processes: 1, capacity: 1);
        ctx.Figures["latency.idle.p50"] = idle.Ms(50);
        AddLatencyRows(ctx, "latency idle", "enqueue → handler start, 20 jobs/s, 1 worker", idle, Targets.LatencyIdleP50, Targets.LatencyIdleP99);

        var burndown = await ctx.EnsureAsync("burndown.batch", () => BurndownModeAsync(ctx, "batch"));
        var enqueue = await ctx.EnsureAsync("enqueue.single", () => EnqueueAsync(ctx));
        // At least 20 jobs/s (the idle rate), should a scaled-down run have measured next to nothing.
        var half = Math.Max(20, 0.5 * Math.Min(burndown ?? 1000, enqueue ?? 1000));
        var rate = Math.Min(half, o.LoadedLatencyRateCap);
        ctx.Results.Note($"latency at half load: {rate:N0} jobs/s = half of min(burndown batch {burndown:N0}, single enqueue {enqueue:N0}) jobs/s" +
                         (rate < half ? $", capped at {o.LoadedLatencyRateCap:N0} jobs/s in --quick" : "") +
                         $", each job its own POST /jobs, drained by {o.WorkerProcesses} batch workers × {o.WorkerCapacity}");
        var loaded = await MeasureLatencyAsync(ctx, "latency-loaded", rate, mode: "batch", processes: o.WorkerProcesses, capacity: o.WorkerCapacity);
        AddLatencyRows(ctx, "latency at half load", $"enqueue → handler start, {rate:N0} jobs/s", loaded, Targets.LatencyLoadedP50, Targets.LatencyLoadedP99);
    }

    private static void AddLatencyRows(BenchContext ctx, string scenario, string what, Latencies l, Target p50, Target p99)
    {
        ctx.Results.Add(Row.Measure(scenario, what + ": p50", l.Ms(50), "ms", p50, $"n={l.Count:N0}"));
        ctx.Results.Add(Row.Measure(scenario, "p90", l.Ms(90), "ms"));
        ctx.Results.Add(Row.Measure(scenario, "p99", l.Ms(99), "ms", p99));
        ctx.Results.Add(Row.Measure(scenario, "max", l.MaxMs, "ms"));
    }

    /// <summary>
    /// Enqueues at a steady rate (open loop) while worker processes long-poll; each job's payload carries its intended
    /// enqueue time; the workers note handler start minus that.
    /// </summary>
    public static async Task<Latencies> MeasureLatencyAsync(
        BenchContext ctx, string name, double rate, string mode, int processes, int capacity, int registrations = 1, int? cpuPid = null,
        Action<double>? cpuPercent = null)
    {
        var o = ctx.Options;
        var duration = name == "workers" ? o.WorkersDuration : o.LatencyDuration;
        BenchContext.Say($"{name}: {rate:N0} jobs/s for {duration.TotalSeconds:0.#} s, single POST /jobs each, {processes} process(es) × {registrations} worker(s), {mode} mode");
        await using var server = await ctx.StartServerAsync(name);
        using var client = server.Client(Math.Max(8, (int)Math.Min(256, rate / 50)));
        await using var pool = await WorkerPool.StartAsync(server.BaseAddress, KairosServer.ApiKey, Queue, mode, processes, capacity, mode == "batch" ? o.BatchMax : 1,
            registrations, waitMs: 30_000);
        await pool.GoAsync();
        await Task.Delay(o.Quick ? 200 : 1000); // let every long poll land
        var plain = Load.JobBody(Queue);
        // Warm-up: jobs without a timestamp, not measured.
        var (warmSent, warmFailed) = await Load.SteadyRateAsync(rate, o.Warmup, async _ =>
        {
            using var content = Load.Body(plain);
            using var r = await client.PostAsync("api/v1/jobs", content);
            await Http.EnsureOkAsync(r, "enqueue");
        });
        var cpu0 = server.CpuSeconds();
        var wall = Stopwatch.StartNew();
        var (sent, failed) = await Load.SteadyRateAsync(rate, duration, async intended =>
        {
            using var content = Load.Body(Encoding.UTF8.GetBytes($"{{\"queue\":\"{Queue}\",\"type\":\"noop\",\"payload\":{{\"t\":{intended.ToString(CultureInfo.InvariantCulture)}}}}}"));
            using var r = await client.PostAsync("api/v1/jobs", content);
            await Http.EnsureOkAsync(r, "enqueue");
        });
        var cpu1 = server.CpuSeconds();
        var seconds = wall.Elapsed.TotalSeconds;
        if (cpu0 is { } a && cpu1 is { } b) cpuPercent?.Invoke((b - a) / seconds * 100);
        // Let the last jobs reach their handlers.
        var drainClock = Stopwatch.StartNew();
        var expected = warmSent - warmFailed + sent - failed;
        while (pool.Done < expected && drainClock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
        var lat = await pool.StopAsync();
        BenchContext.Say($"  sent {sent:N0} in {seconds:0.0} s ({sent / seconds:N0}/s), {failed} failed; {lat.Summary()}");
        if (failed > 0) ctx.Results.Note($"{name}: {failed:N0} of {sent:N0} enqueues failed");
        if (lat.Count < sent - failed) ctx.Results.Note($"{name}: {sent - failed - lat.Count:N0} jobs had not reached a handler 30 s after the last enqueue");
        return lat;
    }

    /// <summary>5. 100 workers long-polling one queue; 200 jobs/s; assignment latency and server CPU.</summary>
    public static async Task WorkersAsync(BenchContext ctx)
    {
        double cpu = double.NaN;
        var lat = await MeasureLatencyAsync(ctx, "workers", 200, mode: "single", processes: 4, capacity: 1, registrations: 25, cpuPercent: c => cpu = c);
        ctx.Results.Add(Row.Measure("workers", "100 long-polling, 200 jobs/s: assignment p50", lat.Ms(50), "ms", note: $"n={lat.Count:N0}"));
        ctx.Results.Add(Row.Measure("workers", "assignment p99", lat.Ms(99), "ms", Targets.WorkersAssignmentP99));
        if (!double.IsNaN(cpu)) ctx.Results.Add(Row.Measure("workers", "server CPU (/proc/PID/stat)", cpu, "%"));
    }

    /// <summary>6. RSS of the idle server after start, and after the batch burndown.</summary>
    public static async Task MemoryAsync(BenchContext ctx)
    {
        await ctx.EnsureAsync("memory.after_burndown", () => BurndownModeAsync(ctx, "batch"));
        if (ctx.Options.Store == "postgres") ctx.Results.Note("memory: RSS of the Kairos server process alone; PostgreSQL's own processes are not counted");
        if (ctx.Figures.TryGetValue("memory.idle", out var idle)) ctx.Results.Add(Row.Measure("memory", "RSS idle after start", idle, "MiB", Targets.MemoryIdle));
        else ctx.Results.Add(Row.Skip("memory", "RSS idle after start", "no /proc here", Targets.MemoryIdle));
        if (ctx.Figures.TryGetValue("memory.after_burndown", out var after))
        {
            ctx.Results.Add(Row.Measure("memory", $"RSS after the batch burndown of {ctx.Options.BurndownJobs:N0} jobs", after, "MiB"));
        }
    }

    /// <summary>7. <c>GET /api/v1/jobs</c> with 1,000,000 finished jobs: first page, filtered by state and queue, and searched (<c>q</c>).</summary>
    public static async Task ListingAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var n = o.ListingJobs;
        const int queues = 4;
        BenchContext.Say($"listing: seeding {n:N0} finished jobs in {queues} queues (bulk enqueue + batch burndown)");
        await using var server = await ctx.StartServerAsync("listing");
        using var client = server.Client(4);
        var seed = Stopwatch.StartNew();
        var names = Enumerable.Range(0, queues).Select(i => $"list-{i}").ToArray();
        await Task.WhenAll(names.Select(q => Load.SeedAsync(client, q, n / queues, 5000, 1)));
        BenchContext.Say($"  enqueued in {seed.Elapsed.TotalSeconds:0} s");
        await DrainAsync(ctx, server, string.Join(',', names), n / queues * queues, "batch", o.WorkerProcesses);
        BenchContext.Say($"  {n:N0} finished jobs ready after {seed.Elapsed.TotalSeconds:0} s");

        async Task<Latencies> Measure(string url)
        {
            for (var i = 0; i < 20; i++) await client.GetStringAsync(url);
            var l = new Latencies();
            for (var i = 0; i < o.ListingRequests; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using var r = await client.GetAsync(url);
                await r.Content.ReadAsByteArrayAsync();
                await Http.EnsureOkAsync(r, url);
                l.RecordSince(start);
            }
            return l;
        }

        var first = await Measure("api/v1/jobs");
        var filtered = await Measure("api/v1/jobs?state=succeeded&queue=list-2");
        using (var doc = JsonDocument.Parse(await client.GetStringAsync("api/v1/jobs?state=succeeded&queue=list-2")))
        {
            if (doc.RootElement.GetProperty("items").GetArrayLength() == 0) ctx.Results.Note("listing: the filtered page came back empty");
        }
        // Full-text search (q): a word every job has (the type), a word 1 job in 5,000 has (each bulk request numbers its
        // payloads n = 0..4999), the rare word within a queue, and the common word with a filter nothing matches (walking
        // the hits, a million of them, to find that out took 665 ms; a store now walks the few jobs the filter keeps).
        var common = await Measure("api/v1/jobs?q=noop");
        var rare = await Measure("api/v1/jobs?q=4242");
        var rareInQueue = await Measure("api/v1/jobs?q=4242&queue=list-2");
        var nothing = await Measure("api/v1/jobs?q=noop&state=failed");
        // The jobs page sorted by a column other than creation (the console's Sort): by finished_at through jobs_finished,
        // by priority, run_at and attempt through their own indexes (migration 016); within a queue, and with a state
        // filter that keeps every job (walking the sort's index and checking each job). And a page far into one long run
        // of ties (every job has priority 0): the 100th page of 50, reached through the cursors.
        var byFinished = await Measure("api/v1/jobs?sort=-finished_at");
        var byPriority = await Measure("api/v1/jobs?sort=-priority");
        var byRunAt = await Measure("api/v1/jobs?sort=run_at&queue=list-1");
        var byAttempt = await Measure("api/v1/jobs?sort=-attempt&state=succeeded");
        // (--quick seeds fewer jobs: then the page before the last.)
        var deepPage = Math.Clamp(n / 50 - 1, 2, 100);
        string? cursor = null;
        for (var page = 1; page < deepPage; page++)
        {
            using var doc = JsonDocument.Parse(await client.GetStringAsync("api/v1/jobs?sort=-priority" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")));
            cursor = doc.RootElement.GetProperty("next_cursor").GetString() ?? throw new InvalidOperationException("listing: the -priority pages ended early");
        }
        var deep = await Measure($"api/v1/jobs?sort=-priority&cursor={Uri.EscapeDataString(cursor!)}");
        // Sorted with a filter that keeps no job (walking the sort's index would read every job to find that out), and a
        // search sorted: a word of every job, and a word of 1 job in 5,000.
        var sortedNothing = await Measure("api/v1/jobs?sort=-finished_at&state=failed");
        var commonSorted = await Measure("api/v1/jobs?q=noop&sort=-priority");
        var rareSorted = await Measure("api/v1/jobs?q=4242&sort=run_at");
        var note = $"{n:N0} finished jobs, {o.ListingRequests} requests";
        ctx.Results.Add(Row.Measure("listing", "GET /jobs first page: p50", first.Ms(50), "ms", note: note));
        ctx.Results.Add(Row.Measure("listing", "GET /jobs first page: p95", first.Ms(95), "ms", Targets.ListingP95));
        ctx.Results.Add(Row.Measure("listing", "GET /jobs?state=succeeded&queue=…: p50", filtered.Ms(50), "ms"));
        ctx.Results.Add(Row.Measure("listing", "GET /jobs?state=succeeded&queue=…: p95", filtered.Ms(95), "ms", Targets.ListingP95));
        (string Request, Latencies Measured)[] p95s =
        [
            ("q=<word of every job>", common),
            ("q=<word of 1 job in 5,000>", rare),
            ("q=<rare word>&queue=…", rareInQueue),
            ("q=<common word>&state=failed (no match)", nothing),
            ("sort=-finished_at", byFinished),
            ("sort=-priority", byPriority),
            ("sort=run_at&queue=…", byRunAt),
            ("sort=-attempt&state=succeeded", byAttempt),
            ($"sort=-priority, page {deepPage} (cursor among ties)", deep),
            ("sort=-finished_at&state=failed (no match)", sortedNothing),
            ("q=<word of every job>&sort=-priority", commonSorted),
            ("q=<word of 1 job in 5,000>&sort=run_at", rareSorted),
        ];
        foreach (var (request, measured) in p95s) ctx.Results.Add(Row.Measure("listing", $"GET /jobs?{request}: p95", measured.Ms(95), "ms", Targets.ListingP95));
    }
}
