using System.Globalization;
using Kairos.Core.Metrics;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <param name="Time">The start of the step (UTC).</param>
/// <param name="Value">The metric over the step; null where it has no value (no sample, no finished run).</param>
public sealed record MetricPointDto(DateTimeOffset Time, double? Value);

/// <param name="Queue">With <c>by=queue</c>: the queue of this series.</param>
public sealed record MetricSeriesDto(string Metric, IReadOnlyList<MetricPointDto> Points, string? Queue = null);

/// <param name="Queue">The queue asked for; null: all queues of the organization.</param>
public sealed record MetricSeriesResponse(string Step, DateTimeOffset From, DateTimeOffset To, string? Queue, IReadOnlyList<MetricSeriesDto> Series);

/// <summary>
/// <c>GET /api/v1/metrics/series</c>: the charts' data, read from the metrics rollup (per organization, queue and minute;
/// hours and days aggregate the minutes), one point per step from <c>from</c> to <c>to</c> (both aligned to the step in
/// UTC; by default the last 60 minutes, 24 hours or 30 days up to now, the current step included). With <c>by=queue</c>,
/// a series per queue and metric (each naming its queue) for the queues with data in the range: the <c>limit</c> (default
/// 20, at most 100) largest by the first metric's total over the range (ties by name), so <c>metric=depth&amp;by=queue</c>
/// gives the deepest queues of the last hour in one request.
/// </summary>
public static class MetricsApi
{
    public const int MaxPoints = 1_500;
    public const int DefaultQueues = 20;
    public const int MaxQueues = 100;

    /// <summary>The metrics a series may show, and how each is read from a point.</summary>
    private static readonly Dictionary<string, Func<MetricPoint?, double?>> Metrics = new(StringComparer.Ordinal)
    {
        ["enqueued"] = p => p?.Enqueued ?? 0,
        ["started"] = p => p?.Started ?? 0,
        ["succeeded"] = p => p?.Succeeded ?? 0,
        ["failed"] = p => p?.Failed ?? 0,
        ["retried"] = p => p?.Retried ?? 0,
        ["cancelled"] = p => p?.Cancelled ?? 0,
        // Jobs that finished: succeeded or failed for good.
        ["finished"] = p => (p?.Succeeded ?? 0) + (p?.Failed ?? 0),
        ["success_rate"] = p => p is { } x && x.Succeeded + x.Failed > 0 ? (double)x.Succeeded / (x.Succeeded + x.Failed) : null,
        ["depth"] = p => p?.Depth,
        ["oldest_age_ms"] = p => p?.OldestAgeMs,
        ["run_time_p50_ms"] = p => Round(p?.RunTimes.Percentile(50)),
        ["run_time_p90_ms"] = p => Round(p?.RunTimes.Percentile(90)),
        ["run_time_p95_ms"] = p => Round(p?.RunTimes.Percentile(95)),
        ["run_time_p99_ms"] = p => Round(p?.RunTimes.Percentile(99)),
        ["runs"] = p => p?.RunTimes.Count ?? 0,
    };

    private static readonly Dictionary<string, (TimeSpan Step, int DefaultPoints)> Steps = new(StringComparer.Ordinal)
    {
        ["minute"] = (TimeSpan.FromMinutes(1), 60),
        ["hour"] = (TimeSpan.FromHours(1), 24),
        ["day"] = (TimeSpan.FromDays(1), 30),
    };

    public static RouteGroupBuilder MapMetricsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/metrics/series", Series).WithTags("Metrics").WithName("GetMetricSeries").RequireAuthorization(Policies.Read)
            .WithSummary("Time series of job metrics per minute, hour or day (metric: " + string.Join(", ", Metrics.Keys) + "; comma-separated for several; " +
                "by=queue: one series per queue, the limit largest by the first metric)");
        return api;
    }

    public static async Task<Results<Ok<MetricSeriesResponse>, ValidationProblem>> Series(
        HttpContext http, IKairosStore store, TimeProvider time, string? metric, string? queue, string? from, string? to, string? step, string? by, string? limit)
    {
        var v = new Validation();
        var names = (metric ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count == 0) v.Add("metric", $"is required: one or more (comma-separated) of {string.Join(", ", Metrics.Keys)}");
        foreach (var unknown in names.Where(n => !Metrics.ContainsKey(n)))
        {
            v.Add("metric", $"'{unknown}' is not a metric: one of {string.Join(", ", Metrics.Keys)}");
        }
        var stepName = step ?? "minute";
        if (!Steps.TryGetValue(stepName, out var s)) v.Add("step", "must be minute, hour or day");
        v.Name("queue", queue);
        var fromTime = JobsApi.ParseTime(from, "from", v);
        var toTime = JobsApi.ParseTime(to, "to", v);
        var byQueue = by == "queue";
        if (by is not null && !byQueue) v.Add("by", "must be queue (a series per queue) or left out (one series summed over the queues)");
        var queues = DefaultQueues;
        if (limit is not null && (!byQueue || !int.TryParse(limit, NumberStyles.Integer, CultureInfo.InvariantCulture, out queues) || queues is < 1 or > MaxQueues))
        {
            v.Add("limit", byQueue ? $"must be an integer between 1 and {MaxQueues} (queues)" : "counts queues: only with by=queue");
        }
        if (!v.Ok) return Problems.Invalid(v);

        var stepMs = (long)s.Step.TotalMilliseconds;
        var end = Align(toTime ?? time.GetUtcNow(), stepMs, up: true);
        var start = fromTime is { } f ? Align(f, stepMs, up: false) : end.AddMilliseconds(-stepMs * s.DefaultPoints);
        if (start >= end) return Problems.Invalid("from", "must be before to");
        if ((end - start).TotalMilliseconds / stepMs > MaxPoints) return Problems.Invalid("from", $"the range holds more than {MaxPoints} steps of a {stepName}: narrow it or take a larger step");

        var points = await store.Metrics.SeriesAsync(new MetricSeriesParams(http.User.OrganizationId(), queue, start, end, stepMs, byQueue), http.RequestAborted);
        var steps = new List<DateTimeOffset>();
        for (var t = start; t < end; t = t.AddMilliseconds(stepMs)) steps.Add(t);
        List<MetricSeriesDto> Of(IEnumerable<MetricPoint> ofQueue, string? name)
        {
            var at = ofQueue.ToDictionary(p => p.Start);
            return [.. names.Select(n => new MetricSeriesDto(n, [.. steps.Select(t => new MetricPointDto(t, Metrics[n](at.GetValueOrDefault(t))))], name))];
        }
        var series = !byQueue
            ? Of(points, null)
            : points.GroupBy(p => p.Queue!, StringComparer.Ordinal)
                .Select(g => Of(g, g.Key))
                .OrderByDescending(s => s[0].Points.Sum(p => p.Value ?? 0)).ThenBy(s => s[0].Queue, StringComparer.Ordinal)
                .Take(queues)
                .SelectMany(s => s)
                .ToList();
        return TypedResults.Ok(new MetricSeriesResponse(stepName, start, end, queue, series));
    }

    /// <summary>The step boundary at or before (or, <paramref name="up"/>, at or after) <paramref name="t"/>, counted from the Unix epoch in UTC.</summary>
    private static DateTimeOffset Align(DateTimeOffset t, long stepMs, bool up)
    {
        var ms = t.ToUnixTimeMilliseconds();
        var down = ms - (((ms % stepMs) + stepMs) % stepMs);
        return DateTimeOffset.FromUnixTimeMilliseconds(up && down < ms ? down + stepMs : down);
    }

    private static double? Round(double? ms) => ms is { } x ? Math.Round(x, 1) : null;
}
