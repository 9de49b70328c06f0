using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Kairos.Bench.Infrastructure;

namespace Kairos.Bench.Peers;

/// <summary>The Hangfire peer's job: a no-op that notes its enqueue-to-start latency when given a timestamp.</summary>
public static class HangfireJobs
{
    private static long _done;

    public static Latencies Latency { get; } = new();

    public static long Done => Interlocked.Read(ref _done);

    public static void Noop(long enqueuedAt)
    {
        if (enqueuedAt > 0) Latency.RecordSince(enqueuedAt);
        Interlocked.Increment(ref _done);
    }
}

/// <summary>
/// <c>Kairos.Bench hangfire --storage inmemory|postgres --mode enqueue|burndown|latency ...</c>: Hangfire 1.8 in this
/// process (a separate process from the harness), doing the same work as the Kairos scenarios. Prints one line
/// <c>result {json}</c>.
/// </summary>
/// <remarks>
/// Settings (the fastest documented ones): <c>SchedulePollingInterval</c> 100 ms (only matters for delayed jobs);
/// InMemory dequeues without polling (it signals waiting workers); PostgreSql with <c>EnableLongPolling</c>
/// (LISTEN/NOTIFY wake-ups) and <c>QueuePollInterval</c> 50 ms as the fallback poll.
/// </remarks>
public static class HangfireMode
{
    public const string Settings =
        "Hangfire 1.8.25 in its own process; BackgroundJobServer WorkerCount = total worker concurrency; SchedulePollingInterval 100 ms; " +
        "InMemory 1.0.0 (no polling: dequeue is signalled); PostgreSql 1.21.1 with EnableLongPolling (LISTEN/NOTIFY) and QueuePollInterval 50 ms, " +
        "PostgreSQL with synchronous_commit=off (commits survive a crash of the job process, like Kairos' default and Redis' appendfsync everysec)";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var d = new Dictionary<string, string>();
        for (var i = 1; i + 1 < args.Count; i += 2) d[args[i].TrimStart('-')] = args[i + 1];
        int Int(string k, int def) => d.TryGetValue(k, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : def;
        double Dbl(string k, double def) => d.TryGetValue(k, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : def;
        var storage = d.GetValueOrDefault("storage", "inmemory");
        var mode = d.GetValueOrDefault("mode", "enqueue");
        ThreadPool.SetMinThreads(256, 256);

        var config = GlobalConfiguration.Configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();
        if (storage == "postgres")
        {
            config.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(d["conn"]), new PostgreSqlStorageOptions
            {
                PrepareSchemaIfNecessary = true,
                EnableLongPolling = true,
                QueuePollInterval = TimeSpan.FromMilliseconds(50),
            });
        }
        else
        {
            config.UseInMemoryStorage(new InMemoryStorageOptions());
        }
        var client = new BackgroundJobClient();
        var serverOptions = new BackgroundJobServerOptions
        {
            WorkerCount = Int("workers", 200),
            SchedulePollingInterval = TimeSpan.FromMilliseconds(100),
            Queues = ["default"],
        };
        var warmup = TimeSpan.FromSeconds(Dbl("warmup", 1));
        var duration = TimeSpan.FromSeconds(Dbl("duration", 5));
        object result;
        switch (mode)
        {
            case "enqueue":
            {
                var lat = new Latencies();
                var (count, window) = await Load.ClosedLoopAsync(Int("clients", 64), warmup, duration, _ =>
                {
                    client.Enqueue(() => HangfireJobs.Noop(0));
                    return Task.CompletedTask;
                }, lat);
                result = new { rate = count / window.TotalSeconds, p50 = lat.Ms(50), p99 = lat.Ms(99), n = count };
                break;
            }
            case "burndown":
            {
                var n = Int("jobs", 10_000);
                var seeded = 0;
                await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
                {
                    while (Interlocked.Increment(ref seeded) <= n) client.Enqueue(() => HangfireJobs.Noop(0));
                })));
                var warm = (long)(n * 0.05);
                var clock = Stopwatch.StartNew();
                using var server = new BackgroundJobServer(serverOptions);
                TimeSpan t0 = default;
                var lastDone = 0L;
                var lastProgress = TimeSpan.Zero;
                while (HangfireJobs.Done < n)
                {
                    var done = HangfireJobs.Done;
                    if (t0 == default && done >= warm) t0 = clock.Elapsed;
                    if (done != lastDone)
                    {
                        lastDone = done;
                        lastProgress = clock.Elapsed;
                    }
                    // A job fetched by a worker that then never ran it comes back only after InvisibilityTimeout
                    // (30 min): stop when nothing has moved for 15 s and report the jobs left behind.
                    if (t0 != default && clock.Elapsed - lastProgress > TimeSpan.FromSeconds(15)) break;
                    if (clock.Elapsed > TimeSpan.FromMinutes(30)) throw new TimeoutException("Hangfire burndown did not finish in 30 minutes");
                    await Task.Delay(5);
                }
                var finished = HangfireJobs.Done;
                var t1 = finished >= n ? clock.Elapsed : lastProgress;
                result = new { rate = (finished - warm) / (t1 - t0).TotalSeconds, n, seconds = t1.TotalSeconds, stuck = n - finished };
                break;
            }
            case "latency":
            {
                var rate = Dbl("rate", 20);
                using var server = new BackgroundJobServer(serverOptions);
                await Task.Delay(500); // the server's workers start
                await Load.SteadyRateAsync(rate, warmup, _ =>
                {
                    client.Enqueue(() => HangfireJobs.Noop(0));
                    return Task.CompletedTask;
                });
                var (sent, failed) = await Load.SteadyRateAsync(rate, duration, intended =>
                {
                    client.Enqueue(() => HangfireJobs.Noop(intended));
                    return Task.CompletedTask;
                });
                var wait = Stopwatch.StartNew();
                while (HangfireJobs.Latency.Count < sent - failed && wait.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
                var l = HangfireJobs.Latency;
                result = new { p50 = l.Ms(50), p90 = l.Ms(90), p99 = l.Ms(99), max = l.MaxMs, n = l.Count, sent };
                break;
            }
            default:
                await Console.Error.WriteLineAsync($"unknown hangfire mode {mode}");
                return 2;
        }
        Console.WriteLine("result " + JsonSerializer.Serialize(result));
        return 0;
    }
}
