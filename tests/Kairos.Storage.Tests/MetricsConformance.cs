using Kairos.Core.Metrics;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>The metrics rollup: upsert-add per minute, samples, series by minute/hour/day, queues, organizations, retention.</summary>
public abstract partial class StoreConformance
{
    private static MetricRow Row(string queue, DateTimeOffset minute, long succeeded = 0, long failed = 0, Guid? org = null, params double[] runTimes)
    {
        var row = new MetricRow { OrganizationId = org ?? OrgA, Queue = queue, Minute = minute, Succeeded = succeeded, Failed = failed, Enqueued = succeeded + failed };
        foreach (var ms in runTimes) row.RunTimes.Add(ms);
        return row;
    }

    private Task<IReadOnlyList<MetricPoint>> SeriesAsync(DateTimeOffset from, DateTimeOffset to, TimeSpan step, string? queue = null, Guid? org = null) =>
        Store.Metrics.SeriesAsync(new MetricSeriesParams(org ?? OrgA, queue, from, to, (long)step.TotalMilliseconds), None);

    [SkippableFact]
    public async Task Metric_rows_add_up_per_minute_and_merge_their_run_times()
    {
        var m0 = Start;
        await Store.Metrics.AddAsync(new AddMetricsParams([Row("emails", m0, succeeded: 3, runTimes: [10, 20, 30]), Row("emails", m0.AddMinutes(1), failed: 1)]), None);
        // A second node adds to the same minute.
        await Store.Metrics.AddAsync(new AddMetricsParams([Row("emails", m0, succeeded: 2, failed: 1, runTimes: [30, 4000])]), None);
        var other = Row("emails", m0, succeeded: 100, org: OrgB);
        await Store.Metrics.AddAsync(new AddMetricsParams([other]), None);

        var points = await SeriesAsync(m0, m0.AddMinutes(5), TimeSpan.FromMinutes(1));
        Assert.Equal([m0, m0.AddMinutes(1)], points.Select(p => p.Start));
        Assert.Equal(5, points[0].Succeeded);
        Assert.Equal(1, points[0].Failed);
        Assert.Equal(6, points[0].Enqueued);
        Assert.Equal(5, points[0].RunTimes.Count);
        Assert.InRange(points[0].RunTimes.Percentile(50)!.Value, 28, 32);
        Assert.InRange(points[0].RunTimes.Percentile(100)!.Value, 3800, 4200);
        Assert.Equal(1, points[1].Failed);
        Assert.True(points[1].RunTimes.IsEmpty);
        Assert.Null(points[0].Depth);
        Assert.Equal(100, Assert.Single(await SeriesAsync(m0, m0.AddMinutes(5), TimeSpan.FromMinutes(1), org: OrgB)).Succeeded);
    }

    [SkippableFact]
    public async Task Series_aggregate_minutes_into_hours_and_days_and_queues()
    {
        var day = new DateTimeOffset(2030, 1, 15, 0, 0, 0, TimeSpan.Zero);
        await Store.Metrics.AddAsync(new AddMetricsParams(
        [
            Row("a", day.AddMinutes(5), succeeded: 1, runTimes: [100]),
            Row("a", day.AddMinutes(59), succeeded: 2, runTimes: [200]),
            Row("b", day.AddMinutes(59), failed: 4, runTimes: [5000]),
            Row("a", day.AddHours(1), succeeded: 8),
            Row("a", day.AddDays(1).AddHours(3), succeeded: 16),
        ]), None);
        // Samples of depth: summed over the queues of a minute, the largest minute of the step kept.
        await Store.Metrics.AddAsync(new AddMetricsParams(
        [
            new MetricRow { OrganizationId = OrgA, Queue = "a", Minute = day.AddMinutes(5), Depth = 7, OldestAgeMs = 1_000 },
            new MetricRow { OrganizationId = OrgA, Queue = "b", Minute = day.AddMinutes(5), Depth = 5, OldestAgeMs = 9_000 },
            new MetricRow { OrganizationId = OrgA, Queue = "a", Minute = day.AddMinutes(6), Depth = 10, OldestAgeMs = 2_000 },
        ]), None);

        var hours = await SeriesAsync(day, day.AddDays(2), TimeSpan.FromHours(1));
        Assert.Equal([day, day.AddHours(1), day.AddDays(1).AddHours(3)], hours.Select(p => p.Start));
        Assert.Equal(3, hours[0].Succeeded);
        Assert.Equal(4, hours[0].Failed);
        Assert.Equal(12, hours[0].Depth);
        Assert.Equal(9_000, hours[0].OldestAgeMs);
        Assert.Equal(3, hours[0].RunTimes.Count);
        Assert.Equal(8, hours[1].Succeeded);

        var days = await SeriesAsync(day, day.AddDays(2), TimeSpan.FromDays(1));
        Assert.Equal([11L, 16L], days.Select(p => p.Succeeded));
        Assert.Equal(3, days[0].RunTimes.Count);

        var onlyA = await SeriesAsync(day, day.AddDays(1), TimeSpan.FromDays(1), queue: "a");
        Assert.Equal(11, Assert.Single(onlyA).Succeeded);
        Assert.Equal(0, onlyA[0].Failed);
        Assert.Equal(10, onlyA[0].Depth);
        Assert.Equal(2, onlyA[0].RunTimes.Count);

        // The range is [from, to): the minute at "to" is not in it; a from inside the day starts the steps there.
        Assert.Equal(1, Assert.Single(await SeriesAsync(day, day.AddMinutes(59), TimeSpan.FromHours(1))).Succeeded);
        var shifted = await SeriesAsync(day.AddMinutes(30), day.AddHours(2), TimeSpan.FromHours(1));
        Assert.Equal(day.AddMinutes(30), Assert.Single(shifted).Start);
        Assert.Equal(10, shifted[0].Succeeded); // minute 59 (2) and 01:00 (8)
    }

    [SkippableFact]
    public async Task Series_by_queue_give_each_queue_its_own_points()
    {
        var day = new DateTimeOffset(2030, 1, 15, 0, 0, 0, TimeSpan.Zero);
        await Store.Metrics.AddAsync(new AddMetricsParams(
        [
            Row("a", day.AddMinutes(5), succeeded: 1, runTimes: [100]),
            Row("a", day.AddMinutes(59), succeeded: 2, runTimes: [200, 300]),
            Row("b", day.AddMinutes(59), failed: 4, runTimes: [5000]),
            Row("a", day.AddHours(1), succeeded: 8),
            Row("c", day.AddHours(1), succeeded: 32, org: OrgB),
            new MetricRow { OrganizationId = OrgA, Queue = "a", Minute = day.AddMinutes(5), Depth = 7, OldestAgeMs = 1_000 },
            new MetricRow { OrganizationId = OrgA, Queue = "b", Minute = day.AddMinutes(5), Depth = 5, OldestAgeMs = 9_000 },
            new MetricRow { OrganizationId = OrgA, Queue = "a", Minute = day.AddMinutes(6), Depth = 10, OldestAgeMs = 2_000 },
        ]), None);

        var points = await Store.Metrics.SeriesAsync(new MetricSeriesParams(OrgA, null, day, day.AddDays(1), (long)TimeSpan.FromHours(1).TotalMilliseconds, ByQueue: true), None);
        Assert.Equal([("a", day), ("a", day.AddHours(1)), ("b", day)], points.Select(p => (p.Queue, p.Start)));
        var (a0, a1, b0) = (points[0], points[1], points[2]);
        Assert.Equal(3, a0.Succeeded);
        Assert.Equal(0, a0.Failed);
        Assert.Equal(10, a0.Depth); // the largest minute of the hour, not the sum over the queues (12)
        Assert.Equal(2_000, a0.OldestAgeMs);
        Assert.Equal(3, a0.RunTimes.Count);
        Assert.Equal(8, a1.Succeeded);
        Assert.True(a1.RunTimes.IsEmpty);
        Assert.Null(a1.Depth);
        Assert.Equal(4, b0.Failed);
        Assert.Equal(5, b0.Depth);
        Assert.Equal(9_000, b0.OldestAgeMs);
        Assert.Equal(1, b0.RunTimes.Count);

        // One queue by queue is that queue's points; summed series name no queue.
        var onlyB = await Store.Metrics.SeriesAsync(new MetricSeriesParams(OrgA, "b", day, day.AddDays(1), (long)TimeSpan.FromDays(1).TotalMilliseconds, ByQueue: true), None);
        Assert.Equal("b", Assert.Single(onlyB).Queue);
        Assert.All(await SeriesAsync(day, day.AddDays(1), TimeSpan.FromHours(1)), p => Assert.Null(p.Queue));
    }

    [SkippableFact]
    public async Task Queue_samples_count_queued_jobs_of_every_known_queue()
    {
        await EnqueueAsync(MakeJob("busy"));
        Time.Advance(TimeSpan.FromSeconds(5));
        await EnqueueAsync(MakeJob("busy"));
        await EnqueueAsync(MakeJob("busy") with { RunAt = Start.AddHours(1) });
        await EnqueueAsync(MakeJob("idle") with { RunAt = Start.AddHours(1) });
        await EnqueueAsync(MakeJob("busy"), OrgB);

        var samples = await Store.Metrics.SampleQueuesAsync(None);
        var busy = samples.Single(s => s.OrganizationId == OrgA && s.Queue == "busy");
        Assert.Equal(2, busy.Depth);
        Assert.Equal(Start, busy.OldestReadySince);
        var idle = samples.Single(s => s.OrganizationId == OrgA && s.Queue == "idle");
        Assert.Equal(0, idle.Depth);
        Assert.Null(idle.OldestReadySince);
        Assert.Equal(1, samples.Single(s => s.OrganizationId == OrgB && s.Queue == "busy").Depth);
    }

    [SkippableFact]
    public async Task Pruning_deletes_minutes_before_the_cutoff_in_batches()
    {
        var rows = Enumerable.Range(0, 25).Select(i => Row("q", Start.AddMinutes(i), succeeded: 1)).ToList();
        await Store.Metrics.AddAsync(new AddMetricsParams(rows), None);
        Assert.Equal(10, await Store.Metrics.PruneAsync(new PruneMetricsParams(Start.AddMinutes(20), Limit: 10), None));
        Assert.Equal(10, await Store.Metrics.PruneAsync(new PruneMetricsParams(Start.AddMinutes(20), Limit: 10), None));
        Assert.Equal(0, await Store.Metrics.PruneAsync(new PruneMetricsParams(Start.AddMinutes(20), Limit: 10), None));
        var left = await SeriesAsync(Start, Start.AddHours(1), TimeSpan.FromMinutes(1));
        Assert.Equal(Enumerable.Range(20, 5).Select(i => Start.AddMinutes(i)), left.Select(p => p.Start));
    }
}
