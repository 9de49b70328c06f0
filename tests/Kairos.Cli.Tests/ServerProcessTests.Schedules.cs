using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;

namespace Kairos.Cli.Tests;

public sealed partial class ServerProcessTests
{
    /// <summary>
    /// An every-second schedule on a server that is killed (SIGKILL) at a random moment of a second, again and again,
    /// and restarted on the same data: every fire time from the first to the last has exactly one job. A worker acks
    /// the jobs as they come, so a finished job no longer holds its unique key: a second firing of a fire time would
    /// show as a second job.
    /// </summary>
    [Fact]
    public async Task Each_fire_time_of_a_schedule_runs_exactly_once_across_kill_9_restarts()
    {
        const string Queue = "ticks";
        const int Kills = 4;
        var data = Folder("schedule-kill9");
        var server = await StartServerAsync("schedules (first start)", data);
        using (var created = await server.Client.PostJsonAsync("api/v1/schedules",
                   new { Name = "tick", EveryMs = 1_000, CatchUp = "all", CatchUpLimit = 1_000, Job = new { Queue, Type = "tick" } }))
        {
            await KairosApi.EnsureStatusAsync(created, HttpStatusCode.Created);
        }
        for (var kill = 0; kill <= Kills; kill++)
        {
            using var stop = new CancellationTokenSource();
            var acker = Task.Run(() => AckUntilStoppedAsync(server.Client, Queue, stop.Token));
            // A few fire times in this life, then the kill at a random moment of the second.
            var life = DateTimeOffset.UtcNow;
            await WaitForFireAsync(server.Client, life.AddSeconds(2), TimeSpan.FromSeconds(60));
            if (kill == Kills)
            {
                await stop.CancelAsync();
                await acker;
                break;
            }
            var delayMs = Random.Shared.Next(0, 1_000);
            await Task.Delay(delayMs); // the randomness of the kill, not a synchronisation
            server.Kill();
            await server.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await stop.CancelAsync();
            await acker;
            output.WriteLine($"kill {kill + 1}: {delayMs} ms into a second");
            server = await StartServerAsync($"schedules (restart {kill + 1})", data);
        }

        // Stop it firing, then count the jobs per fire time (from the unique key each scheduled job carries).
        using (var paused = await server.Client.PostJsonAsync("api/v1/schedules/tick/pause", new { Reason = "counting" }))
        {
            await KairosApi.EnsureStatusAsync(paused, HttpStatusCode.OK);
        }
        var fireTimes = new List<long>();
        string? cursor = null;
        do
        {
            using var response = await server.Client.GetAsync($"api/v1/jobs?queue={Queue}&limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
            var page = await response.ReadJsonAsync();
            foreach (var job in page.GetProperty("items").EnumerateArray())
            {
                var key = job.GetProperty("unique_key").GetString()!;
                fireTimes.Add(long.Parse(key[(key.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
            }
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.String ? page.GetProperty("next_cursor").GetString() : null;
        }
        while (cursor is not null);

        var doubled = fireTimes.GroupBy(t => t).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        Assert.True(doubled.Count == 0, $"fire times with more than one job: {string.Join(", ", doubled.Take(10))}");
        var sorted = fireTimes.Order().ToList();
        var gaps = sorted.Zip(sorted.Skip(1)).Where(p => p.Second - p.First != 1_000).Select(p => $"{p.First}→{p.Second}").ToList();
        Assert.True(gaps.Count == 0, $"fire times without a job between {string.Join(", ", gaps.Take(10))}");
        Assert.True(sorted.Count >= 3 * (Kills + 1), $"only {sorted.Count} fire times ran");
        output.WriteLine($"{sorted.Count} fire times over {Kills} kills, each with exactly one job");
    }

    /// <summary>Waits until the schedule's latest fire time is at or after <paramref name="at"/>.</summary>
    private static async Task WaitForFireAsync(HttpClient client, DateTimeOffset at, TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync("api/v1/schedules/tick");
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
            var last = (await response.ReadJsonAsync()).GetProperty("last_fire_at");
            if (last.ValueKind == JsonValueKind.String && last.GetDateTimeOffset() >= at) return;
            if (started.Elapsed > timeout) throw new TimeoutException($"the schedule did not fire at {at:O} within {timeout}");
            await Task.Delay(50);
        }
    }

    /// <summary>A worker that acks every job of the queue until stopped or the server is gone.</summary>
    private static async Task AckUntilStoppedAsync(HttpClient client, string queue, CancellationToken stop)
    {
        try
        {
            var worker = await client.RegisterWorkerAsync("acker", queue);
            while (!stop.IsCancellationRequested)
            {
                using var fetched = await client.PostJsonAsync("api/v1/fetch",
                    new { WorkerId = worker, Queues = new[] { queue }, Max = 100, WaitMs = 500, LeaseMs = 60_000 }, stop);
                await KairosApi.EnsureStatusAsync(fetched, HttpStatusCode.OK);
                foreach (var job in (await fetched.ReadJsonAsync(stop)).GetProperty("jobs").EnumerateArray())
                {
                    using var ack = await client.PostJsonAsync($"api/v1/jobs/{job.GetProperty("id").GetGuid()}/ack",
                        new { LeaseToken = job.GetProperty("lease_token").GetString() }, stop);
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or JsonException)
        {
            // The server was killed or the test stopped the worker.
        }
    }
}
