using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// An every-second schedule ("tick", catch-up all) for the exactly-once tests of servers that are killed: a worker that
/// acks its jobs as they come (so a finished job no longer holds its unique key, and a second firing of a fire time
/// would show as a second job), and the count of jobs per fire time. Beside it, optionally, an every-second schedule
/// whose template is a workflow ("flow-tick", one step on <see cref="FlowQueue"/>), counted by its instances.
/// </summary>
public static class TickSchedule
{
    public const string Queue = "ticks";
    public const string FlowQueue = "flow-ticks";
    public const string FlowTemplate = "tick-flow";

    public static async Task CreateAsync(HttpClient client)
    {
        using var created = await client.PostJsonAsync("api/v1/schedules",
            new { Name = "tick", EveryMs = 1_000, CatchUp = "all", CatchUpLimit = 1_000, Job = new { Queue, Type = "tick" } });
        await KairosApi.EnsureStatusAsync(created, HttpStatusCode.Created);
    }

    /// <summary>The workflow template "tick-flow" (one step) and the every-second schedule "flow-tick" that starts it.</summary>
    public static async Task CreateWorkflowAsync(HttpClient client)
    {
        using (var template = await client.PutAsync($"api/v1/workflow-templates/{FlowTemplate}", JsonContent(
                   new { Steps = new[] { new { Id = "tick", Job = new { Queue = FlowQueue, Type = "flow.tick" } } } })))
        {
            await KairosApi.EnsureStatusAsync(template, HttpStatusCode.Created);
        }
        using var created = await client.PostJsonAsync("api/v1/schedules",
            new { Name = "flow-tick", EveryMs = 1_000, CatchUp = "all", CatchUpLimit = 1_000, Workflow = FlowTemplate });
        await KairosApi.EnsureStatusAsync(created, HttpStatusCode.Created);
    }

    private static System.Net.Http.Json.JsonContent JsonContent(object body) => System.Net.Http.Json.JsonContent.Create(body, body.GetType(), options: KairosApi.Json);

    /// <summary>
    /// Pauses "flow-tick", reads its runs and the workflow instances of its template, and asserts that each fire time
    /// from the first to the last has exactly one run with an instance, and that every instance belongs to exactly one
    /// run (an instance made twice for a fire time would have no run, or share one); answers how many fire times ran.
    /// </summary>
    public static async Task<int> AssertEachWorkflowFireTimeOnceAsync(HttpClient client)
    {
        using (var paused = await client.PostJsonAsync("api/v1/schedules/flow-tick/pause", new { Reason = "counting" }))
        {
            await KairosApi.EnsureStatusAsync(paused, HttpStatusCode.OK);
        }
        var runs = new List<(long FireTime, Guid? Workflow, bool Skipped)>();
        await foreach (var run in PagesAsync(client, "api/v1/schedules/flow-tick/runs?limit=500"))
        {
            var workflow = run.GetProperty("workflow_id");
            runs.Add((run.GetProperty("fire_time").GetDateTimeOffset().ToUnixTimeMilliseconds(),
                workflow.ValueKind == JsonValueKind.String ? workflow.GetGuid() : null, run.GetProperty("skipped").GetBoolean()));
        }
        var instances = new List<Guid>();
        await foreach (var w in PagesAsync(client, $"api/v1/workflows?name={FlowTemplate}&limit=500")) instances.Add(w.GetProperty("id").GetGuid());

        Assert.DoesNotContain(runs, r => r.Skipped || r.Workflow is null);
        var doubled = runs.GroupBy(r => r.FireTime).Where(g => g.Count() > 1).Select(g => $"{g.Key} ×{g.Count()}").ToList();
        Assert.True(doubled.Count == 0, $"fire times with more than one run: {string.Join(", ", doubled.Take(10))}");
        var orphans = instances.Except(runs.Select(r => r.Workflow!.Value)).ToList();
        Assert.True(orphans.Count == 0, $"workflow instances no run made: {string.Join(", ", orphans.Take(10))}");
        Assert.Equal(runs.Count, instances.Count);
        var sorted = runs.Select(r => r.FireTime).Order().ToList();
        var gaps = sorted.Zip(sorted.Skip(1)).Where(p => p.Second - p.First != 1_000).Select(p => $"{p.First}→{p.Second}").ToList();
        Assert.True(gaps.Count == 0, $"fire times without a run between {string.Join(", ", gaps.Take(10))}");
        return sorted.Count;
    }

    private static async IAsyncEnumerable<JsonElement> PagesAsync(HttpClient client, string path)
    {
        string? cursor = null;
        do
        {
            using var response = await client.GetAsync(path + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
            var page = await response.ReadJsonAsync();
            foreach (var item in page.GetProperty("items").EnumerateArray()) yield return item;
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.String ? page.GetProperty("next_cursor").GetString() : null;
        }
        while (cursor is not null);
    }

    /// <summary>Waits until the schedule's latest fire time is at or after <paramref name="at"/>.</summary>
    public static async Task WaitForFireAsync(HttpClient client, DateTimeOffset at, TimeSpan timeout)
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

    /// <summary>A worker that acks every job of the queues until stopped or its server is gone.</summary>
    public static async Task AckUntilStoppedAsync(HttpClient client, CancellationToken stop)
    {
        try
        {
            var worker = await client.RegisterWorkerAsync("acker", Queue, FlowQueue);
            while (!stop.IsCancellationRequested)
            {
                using var fetched = await client.PostJsonAsync("api/v1/fetch",
                    new { WorkerId = worker, Queues = new[] { Queue, FlowQueue }, Max = 100, WaitMs = 500, LeaseMs = 60_000 }, stop);
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
            // The server was killed, or the test stopped the worker.
        }
    }

    /// <summary>
    /// Pauses the schedule, reads every job of the queue and asserts that each fire time from the first to the last has
    /// exactly one job; answers how many fire times ran.
    /// </summary>
    public static async Task<int> AssertEachFireTimeOnceAsync(HttpClient client)
    {
        using (var paused = await client.PostJsonAsync("api/v1/schedules/tick/pause", new { Reason = "counting" }))
        {
            await KairosApi.EnsureStatusAsync(paused, HttpStatusCode.OK);
        }
        var fireTimes = new List<long>();
        string? cursor = null;
        do
        {
            using var response = await client.GetAsync($"api/v1/jobs?queue={Queue}&limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
            var page = await response.ReadJsonAsync();
            foreach (var job in page.GetProperty("items").EnumerateArray())
            {
                // schedule:{id}:{fire time in unix ms}
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
        return sorted.Count;
    }
}
