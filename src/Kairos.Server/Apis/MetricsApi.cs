using Kairos.Core.Metrics;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <param name="Time">The start of the step (UTC).</param>
/// <param name="Value">The metric over the step; null where it has no value (no sample, no finished run).</param>
public sealed record MetricPointDto(DateTimeOffset Time, double? Value);

public sealed record MetricSeriesDto(string Metric, IReadOnlyList<MetricPointDto> Points);

/// <param name="Queue">The queue asked for; null: all queues of the organization.</param>
public sealed record MetricSeriesResponse(string Step, DateTimeOffset From, DateTimeOffset To, string? Queue, IReadOnlyList<MetricSeriesDto> Series);

/// <summary>
/// <c>GET /api/v1/metrics/series</c>: the charts' data, read from the metrics rollup (per organization, queue and minute;
/// hours and days aggregate the minutes), one point per step from <c>from</c> to <c>to</c> (both aligned to the step in
/// UTC; by default the last 60 minutes, 24 hours or 30 days up to now, the current step included).
/// </summary>
public static class MetricsApi
{
    public const int MaxPoints = 1_500;

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
            .WithSummary("Time series of job metrics per minute, hour or day (metric: " + string.Join(", ", Metrics.Keys) + "; comma-separated for several)");
        return api;
    }

    public static async Task<Results<Ok<MetricSeriesResponse>, ValidationProblem>> Series(
        HttpContext http, IKairosStore store, TimeProvider time, string? metric, string? queue, string? from, string? to, string? step)
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
        if (!v.Ok) return Problems.Invalid(v);

        var stepMs = (long)s.Step.TotalMilliseconds;
        var end = Align(toTime ?? time.GetUtcNow(), stepMs, up: true);
        var start = fromTime is { } f ? Align(f, stepMs, up: false) : end.AddMilliseconds(-stepMs * s.DefaultPoints);
        if (start >= end) return Problems.Invalid("from", "must be before to");
        if ((end - start).TotalMilliseconds / stepMs > MaxPoints) return Problems.Invalid("from", $"the range holds more than {MaxPoints} steps of a {stepName}: narrow it or take a larger step");

        var points = (await store.Metrics.SeriesAsync(new MetricSeriesParams(http.User.OrganizationId(), queue, start, end, stepMs), http.RequestAborted))
            .ToDictionary(p => p.Start);
        var steps = new List<DateTimeOffset>();
        for (var t = start; t < end; t = t.AddMilliseconds(stepMs)) steps.Add(t);
        var series = names.Select(n => new MetricSeriesDto(n, steps.Select(t => new MetricPointDto(t, Metrics[n](points.GetValueOrDefault(t)))).ToList())).ToList();
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
