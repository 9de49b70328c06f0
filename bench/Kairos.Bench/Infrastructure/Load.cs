using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Kairos.Bench.Infrastructure;

/// <summary>Load generation helpers: request bodies built once, closed loops, open-loop steady rates, bulk seeding.</summary>
public static class Load
{
    public static readonly MediaTypeHeaderValue JsonType = new("application/json");

    public static ByteArrayContent Body(byte[] bytes)
    {
        var c = new ByteArrayContent(bytes);
        c.Headers.ContentType = JsonType;
        return c;
    }

    public static byte[] JobBody(string queue, string payload = "{}") =>
        Encoding.UTF8.GetBytes($"{{\"queue\":\"{queue}\",\"type\":\"noop\",\"payload\":{payload}}}");

    public static byte[] BulkBody(string queue, int count)
    {
        var sb = new StringBuilder("{\"jobs\":[");
        for (var i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(CultureInfo.InvariantCulture, $"{{\"queue\":\"{queue}\",\"type\":\"noop\",\"payload\":{{\"n\":{i}}}}}");
        }
        sb.Append("]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>
    /// <paramref name="concurrency"/> closed loops each sending <paramref name="send"/> back to back: first for the
    /// warm-up (not counted), then for <paramref name="duration"/>; latencies and completions are counted only in
    /// the measured window. Returns (operations in the window, window length).
    /// </summary>
    public static async Task<(long Count, TimeSpan Window)> ClosedLoopAsync(
        int concurrency, TimeSpan warmup, TimeSpan duration, Func<CancellationToken, Task> send, Latencies latencies)
    {
        var measuring = 0;
        long count = 0;
        using var stop = new CancellationTokenSource();
        var loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await send(stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                if (Volatile.Read(ref measuring) == 1 && !stop.IsCancellationRequested)
                {
                    latencies.RecordSince(start);
                    Interlocked.Increment(ref count);
                }
            }
        })).ToList();
        await Task.Delay(warmup);
        var window = Stopwatch.StartNew();
        Volatile.Write(ref measuring, 1);
        await Task.Delay(duration);
        Volatile.Write(ref measuring, 0);
        var elapsed = window.Elapsed;
        var counted = Interlocked.Read(ref count);
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException)
        {
        }
        catch (HttpRequestException)
        {
            // Requests cut short by the stop.
        }
        return (counted, elapsed);
    }

    /// <summary>
    /// Sends at a steady rate (open loop): each send gets its intended start time, whether or not earlier sends have
    /// answered, so a slow server shows as latency rather than as a lower rate (no coordinated omission).
    /// <paramref name="send"/> receives the intended <see cref="Stopwatch"/> timestamp. Returns sends made and failed.
    /// </summary>
    public static async Task<(long Sent, long Failed)> SteadyRateAsync(double perSecond, TimeSpan duration, Func<long, Task> send)
    {
        var interval = Stopwatch.Frequency / perSecond;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long sent = 0;
        long failed = 0;
        var inflight = new List<Task>();
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end) break;
            var due = (long)((now - start) / interval) + 1;
            while (sent < due)
            {
                var intended = start + (long)(sent * interval);
                sent++;
                inflight.Add(SendOne(intended));
            }
            if (inflight.Count > 4096) inflight.RemoveAll(t => t.IsCompleted);
            var next = start + (long)(sent * interval);
            var wait = (next - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
            if (wait > 2) await Task.Delay(TimeSpan.FromMilliseconds(wait - 1));
            else if (wait > 0) await Task.Yield();
        }
        await Task.WhenAll(inflight);
        return (sent, Interlocked.Read(ref failed));

        async Task SendOne(long intended)
        {
            try
            {
                await send(intended);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }

    /// <summary>Enqueues <paramref name="total"/> jobs through <c>POST /api/v1/jobs/bulk</c> in requests of <paramref name="perRequest"/>.</summary>
    public static async Task SeedAsync(HttpClient client, string queue, long total, int perRequest = 5000, int concurrency = 2)
    {
        var body = BulkBody(queue, perRequest);
        long remaining = total;
        var loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var take = (int)Math.Min(perRequest, Interlocked.Add(ref remaining, -perRequest) + perRequest);
                if (take <= 0) return;
                using var content = Body(take == perRequest ? body : BulkBody(queue, take));
                using var r = await client.PostAsync("api/v1/jobs/bulk", content);
                await Http.EnsureOkAsync(r, "bulk enqueue");
            }
        }));
        await Task.WhenAll(loops);
    }
}
