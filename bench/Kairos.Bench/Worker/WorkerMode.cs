using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Kairos.Bench.Infrastructure;

namespace Kairos.Bench.Worker;

/// <summary>
/// <c>Kairos.Bench worker ...</c>: a worker process speaking the real HTTP worker protocol (register, heartbeat,
/// long-poll fetch, ack), started by the harness as a child process. Line protocol with the harness: prints
/// <c>ready</c> once registered, starts on <c>go</c>, prints <c>done N</c> as jobs complete, and on <c>stop</c>
/// writes its latency samples, prints <c>final N</c> and exits.
/// </summary>
/// <remarks>
/// Modes: <c>single</c> runs <c>capacity</c> loops per registration, each fetching one job (<c>max</c> 1) and acking it
/// with <c>POST /jobs/{id}/ack</c>. <c>batch</c> runs a fetcher asking for up to <c>max</c> jobs at a time (at most
/// 2×<c>max</c> leased and not yet acked), <c>capacity</c> handler slots, and an acker sending what has completed
/// as one <c>POST /ack</c> of up to <c>max</c> items. Handlers do nothing but note, when the payload carries
/// <c>t</c> (the enqueuer's monotonic timestamp), how long the job took from enqueue to handler start.
/// </remarks>
public static class WorkerMode
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private sealed record Settings(Uri Url, string Key, string Queue, string Mode, int Capacity, int Registrations, int Max, int WaitMs, string? LatencyOut, string Name);

    internal sealed record RegisterResponse(Guid Id, int HeartbeatTimeoutMs);
    internal sealed record FetchedJob(Guid Id, string Queue, string Type, JsonElement Payload, string LeaseToken);
    internal sealed record FetchResponse(List<FetchedJob> Jobs);

    private static long _done;
    private static long _fetches;
    private static long _fetched;
    private static long _ackCalls;
    private static readonly ConcurrentQueue<long> Samples = new();

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var s = Parse(args);
        using var stop = new CancellationTokenSource();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clients = new List<HttpClient>();
        var ids = new List<Guid>();
        for (var r = 0; r < s.Registrations; r++)
        {
            // One client per registered worker, as separate worker programs would have.
            var client = Http.Client(s.Url, s.Key, s.Mode == "single" ? s.Capacity + 2 : 4);
            clients.Add(client);
            using var response = await client.PostAsJsonAsync("api/v1/workers", new
            {
                name = $"{s.Name}-{r}",
                host = Environment.MachineName,
                pid = Environment.ProcessId,
                queues = s.Queue.Split(','),
                capacity = s.Capacity,
                version = "kairos-bench",
            }, Json);
            await Http.EnsureOkAsync(response, "register worker");
            ids.Add((await response.Content.ReadFromJsonAsync<RegisterResponse>(Json))!.Id);
        }
        Console.WriteLine("ready");

        var stdin = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is { } line)
            {
                if (line == "go") go.TrySetResult();
                if (line == "stop") break;
            }
            go.TrySetResult();
            await stop.CancelAsync();
        });
        await go.Task;

        var loops = new List<Task>();
        for (var r = 0; r < s.Registrations; r++)
        {
            var client = clients[r];
            var id = ids[r];
            loops.Add(HeartbeatLoop(client, id, stop.Token));
            if (s.Mode == "single")
            {
                for (var c = 0; c < s.Capacity; c++) loops.Add(SingleLoop(client, id, s, stop.Token));
            }
            else
            {
                loops.Add(BatchWorker(client, id, s, stop.Token));
            }
        }
        var reporter = Report(stop.Token);
        await stdin;
        try
        {
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        await reporter;
        if (s.LatencyOut is not null)
        {
            await File.WriteAllLinesAsync(s.LatencyOut, Samples.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        }
        Console.WriteLine(StatsLine(Interlocked.Read(ref _fetches), Interlocked.Read(ref _fetched), Interlocked.Read(ref _ackCalls)));
        Console.WriteLine($"final {Interlocked.Read(ref _done)}");
        foreach (var c in clients) c.Dispose();
        return 0;
    }

    private static async Task Report(CancellationToken stop)
    {
        long last = -1;
        while (!stop.IsCancellationRequested)
        {
            var now = Interlocked.Read(ref _done);
            if (now != last)
            {
                Console.WriteLine($"done {now}");
                last = now;
            }
            try
            {
                await Task.Delay(20, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task HeartbeatLoop(HttpClient client, Guid id, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), stop);
                using var r = await client.PostAsync($"api/v1/workers/{id}/heartbeat", JsonContent.Create(new { }), stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (HttpRequestException)
        {
        }
    }

    private static void Handle(FetchedJob job)
    {
        // The handler: a no-op that notes how long ago the job was enqueued, when the enqueuer said.
        if (job.Payload.ValueKind == JsonValueKind.Object && job.Payload.TryGetProperty("t", out var t) && t.TryGetInt64(out var ts))
        {
            var micros = (Stopwatch.GetTimestamp() - ts) * 1_000_000 / Stopwatch.Frequency;
            Samples.Enqueue(micros);
        }
    }

    private static async Task<List<FetchedJob>> FetchAsync(HttpClient client, Guid id, Settings s, int max, CancellationToken stop)
    {
        using var response = await client.PostAsJsonAsync("api/v1/fetch", new
        {
            worker_id = id,
            queues = s.Queue.Split(','),
            max,
            wait_ms = s.WaitMs,
            lease_ms = 120_000,
        }, Json, stop);
        await Http.EnsureOkAsync(response, "fetch");
        var jobs = (await response.Content.ReadFromJsonAsync<FetchResponse>(Json, stop))!.Jobs;
        Interlocked.Increment(ref _fetches);
        Interlocked.Add(ref _fetched, jobs.Count);
        return jobs;
    }

    private static async Task SingleLoop(HttpClient client, Guid id, Settings s, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var job in await FetchAsync(client, id, s, 1, stop))
                {
                    Handle(job);
                    using var ack = await client.PostAsJsonAsync($"api/v1/jobs/{job.Id}/ack", new { lease_token = job.LeaseToken }, Json, stop);
                    await Http.EnsureOkAsync(ack, "ack");
                    Interlocked.Increment(ref _ackCalls);
                    Interlocked.Increment(ref _done);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (HttpRequestException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static async Task BatchWorker(HttpClient client, Guid id, Settings s, CancellationToken stop)
    {
        var leased = 0; // fetched and not yet acked
        var room = new SemaphoreSlim(0);
        var work = Channel.CreateUnbounded<FetchedJob>(new UnboundedChannelOptions { SingleWriter = true });
        var completed = Channel.CreateUnbounded<FetchedJob>(new UnboundedChannelOptions { SingleReader = true });

        async Task Fetcher()
        {
            while (!stop.IsCancellationRequested)
            {
                while (Volatile.Read(ref leased) + s.Max > 2 * s.Max) await room.WaitAsync(stop);
                var jobs = await FetchAsync(client, id, s, s.Max, stop);
                Interlocked.Add(ref leased, jobs.Count);
                foreach (var j in jobs) work.Writer.TryWrite(j);
            }
        }

        async Task Handler()
        {
            await foreach (var job in work.Reader.ReadAllAsync(stop))
            {
                Handle(job);
                completed.Writer.TryWrite(job);
            }
        }

        async Task Acker()
        {
            var batch = new List<object>(s.Max);
            while (await completed.Reader.WaitToReadAsync(stop))
            {
                batch.Clear();
                while (batch.Count < s.Max && completed.Reader.TryRead(out var j)) batch.Add(new { id = j.Id, lease_token = j.LeaseToken });
                using var response = await client.PostAsJsonAsync("api/v1/ack", new { acks = batch }, Json, stop);
                await Http.EnsureOkAsync(response, "batch ack");
                Interlocked.Add(ref leased, -batch.Count);
                Interlocked.Increment(ref _ackCalls);
                Interlocked.Add(ref _done, batch.Count);
                room.Release();
            }
        }

        var tasks = new List<Task> { Fetcher(), Acker() };
        for (var i = 0; i < s.Capacity; i++) tasks.Add(Handler());
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (HttpRequestException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>What a worker process tells the harness before <c>final N</c>: HTTP calls made, for the harness to sum.</summary>
    internal static string StatsLine(long fetches, long fetched, long acks) =>
        string.Create(CultureInfo.InvariantCulture, $"stats fetches={fetches} fetched={fetched} acks={acks}");

    private static Settings Parse(IReadOnlyList<string> args)
    {
        var d = new Dictionary<string, string>();
        for (var i = 1; i + 1 < args.Count; i += 2) d[args[i].TrimStart('-')] = args[i + 1];
        int Int(string k, int def) => d.TryGetValue(k, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : def;
        return new Settings(
            new Uri(d["url"]), d["key"], d.GetValueOrDefault("queue", "bench"), d.GetValueOrDefault("mode", "batch"),
            Int("capacity", 50), Int("registrations", 1), Int("max", 100), Int("wait-ms", 5000), d.GetValueOrDefault("latency-out"),
            d.GetValueOrDefault("name", "bench-worker"));
    }
}
