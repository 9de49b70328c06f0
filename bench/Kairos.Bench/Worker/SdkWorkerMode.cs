using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Kairos.Client;
using Kairos.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kairos.Bench.Worker;

/// <summary>The payload of the bench's no-op jobs: <c>t</c> is the enqueuer's monotonic timestamp, when it gave one.</summary>
public sealed record NoopPayload(long? T);

/// <summary>The no-op handler of the SDK worker host: notes enqueue-to-start latency when the payload carries it.</summary>
public sealed class NoopHandler : IJobHandler<NoopPayload>
{
    public Task HandleAsync(NoopPayload payload, JobContext context)
    {
        if (payload.T is { } ts) SdkWorkerMode.Samples.Enqueue((Stopwatch.GetTimestamp() - ts) * 1_000_000 / Stopwatch.Frequency);
        return Task.CompletedTask;
    }
}

/// <summary>
/// <c>Kairos.Bench sdk-worker ...</c>: a worker process built the way a user builds one with the .NET SDK
/// (<c>AddKairosClient</c> + <c>AddKairosWorker(...).AddHandler&lt;NoopHandler, NoopPayload&gt;("noop")</c> on
/// Microsoft.Extensions.Hosting), so the burndown can compare the SDK's worker host with the raw protocol workers of
/// <see cref="WorkerMode"/>. Same line protocol with the harness: <c>ready</c> once the host is built, the host starts
/// (registers and fetches) on <c>go</c>, <c>done N</c> as the server accepts acks, and on <c>stop</c> a graceful host
/// stop, the latency samples, <c>final N</c>.
/// </summary>
/// <remarks>
/// Settings that match the raw batch workers: one queue with <c>capacity</c> concurrency, fetches of up to <c>max</c>
/// jobs (the SDK fetches once it has room for a batch: <c>capacity</c> slots plus a prefetch buffer of up to <c>max</c>
/// jobs, sized from the handlers' pace), batch acks of up to <c>max</c>,
/// leases of 120 s, long polls of <c>wait-ms</c>. "Done" counts the items the server answered <c>ok</c> to in
/// <c>POST /api/v1/ack</c>, seen by a <see cref="DelegatingHandler"/> on the SDK's HttpClient, so that it means what
/// the raw workers' count means: acknowledged, not merely handled.
/// </remarks>
public static class SdkWorkerMode
{
    internal static readonly ConcurrentQueue<long> Samples = new();
    private static long _done;
    private static long _fetches;
    private static long _fetched;
    private static long _ackCalls;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var d = new Dictionary<string, string>();
        for (var i = 1; i + 1 < args.Count; i += 2) d[args[i].TrimStart('-')] = args[i + 1];
        int Int(string k, int def) => d.TryGetValue(k, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : def;
        var url = new Uri(d["url"]);
        var key = d["key"];
        var queues = d.GetValueOrDefault("queue", "bench").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var capacity = Int("capacity", 50);
        var max = Int("max", 100);
        var waitMs = Int("wait-ms", 5000);
        var latencyOut = d.GetValueOrDefault("latency-out");

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // stdout carries the line protocol: warnings and errors only, on stderr.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddKairosClient(o =>
            {
                o.BaseAddress = url;
                o.ApiKey = key;
            })
            .AddHttpMessageHandler(() => new AckCounter());
        builder.Services.AddKairosWorker(o =>
            {
                o.Name = d.GetValueOrDefault("name", "bench-sdk-worker");
                foreach (var q in queues) o.AddQueue(q, capacity);
                o.FetchBatchSize = max;
                o.AckBatchSize = max;
                o.FetchWait = TimeSpan.FromMilliseconds(waitMs);
                o.LeaseDuration = TimeSpan.FromSeconds(120);
                o.HeartbeatInterval = TimeSpan.FromSeconds(10);
                o.ShutdownTimeout = TimeSpan.FromSeconds(5);
                o.StopApplicationOnTerminate = false;
            })
            .AddHandler<NoopHandler, NoopPayload>("noop");
        using var host = builder.Build();
        Console.WriteLine("ready");

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is { } line)
            {
                if (line == "go") go.TrySetResult();
                if (line == "stop") break;
            }
            go.TrySetResult();
            stop.TrySetResult();
        });
        await go.Task;
        if (stop.Task.IsCompleted)
        {
            Console.WriteLine("final 0");
            return 0;
        }

        await host.StartAsync();
        using var reporting = new CancellationTokenSource();
        var reporter = Report(reporting.Token);
        await stop.Task;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            try
            {
                await host.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await reporting.CancelAsync();
        await reporter;
        if (latencyOut is not null) await File.WriteAllLinesAsync(latencyOut, Samples.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        Console.WriteLine(WorkerMode.StatsLine(Interlocked.Read(ref _fetches), Interlocked.Read(ref _fetched), Interlocked.Read(ref _ackCalls)));
        Console.WriteLine($"final {Interlocked.Read(ref _done)}");
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

    /// <summary>
    /// Counts what the SDK does on the wire: the acks the server accepted (the <c>"status":"ok"</c> items of each
    /// <c>POST /api/v1/ack</c> answer), and fetches with the jobs they brought (<c>"lease_token"</c> items). The SDK
    /// buffers every answer before reading it; buffering here first costs nothing more.
    /// </summary>
    private sealed class AckCounter : DelegatingHandler
    {
        private static readonly byte[] Ok = """
            "status":"ok"
            """u8.ToArray();

        private static readonly byte[] LeaseToken = """
            "lease_token"
            """u8.ToArray();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode || request.Method != HttpMethod.Post || request.RequestUri is not { } uri) return response;
            if (uri.AbsolutePath.EndsWith("/api/v1/ack", StringComparison.Ordinal))
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                Interlocked.Add(ref _done, Count(await response.Content.ReadAsByteArrayAsync(cancellationToken), Ok));
                Interlocked.Increment(ref _ackCalls);
            }
            else if (uri.AbsolutePath.EndsWith("/api/v1/fetch", StringComparison.Ordinal))
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                Interlocked.Add(ref _fetched, Count(await response.Content.ReadAsByteArrayAsync(cancellationToken), LeaseToken));
                Interlocked.Increment(ref _fetches);
            }
            return response;
        }

        private static int Count(ReadOnlySpan<byte> body, ReadOnlySpan<byte> what)
        {
            var n = 0;
            for (var i = body.IndexOf(what); i >= 0; i = body.IndexOf(what))
            {
                n++;
                body = body[(i + what.Length)..];
            }
            return n;
        }
    }
}
