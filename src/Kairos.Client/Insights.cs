using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>
/// Which jobs a bulk action takes: the ones named (<see cref="ByIds"/>), or every job matching the list's filters
/// (<see cref="Matching"/>; an empty query is every job).
/// </summary>
public sealed class JobSelection
{
    private JobSelection(IReadOnlyList<Guid>? ids, JobQuery? filter)
    {
        Ids = ids;
        Filter = filter;
    }

    public IReadOnlyList<Guid>? Ids { get; }
    public JobQuery? Filter { get; }

    /// <summary>At most 10,000 jobs by id.</summary>
    public static JobSelection ByIds(IEnumerable<Guid> ids) => new([.. ids], null);

    /// <summary>Every job the query's filters match (its limit, cursor and order do not apply).</summary>
    public static JobSelection Matching(JobQuery filter) => new(null, filter);
}

/// <summary>What a bulk action did.</summary>
public sealed class BulkResult
{
    /// <summary>Jobs the action changed.</summary>
    public long Count { get; init; }
    /// <summary>Jobs whose state refused the action (a finished job is not cancelled, a running one not deleted).</summary>
    public long Skipped { get; init; }
    /// <summary>Ids that name no job of the organization.</summary>
    public long NotFound { get; init; }
}

/// <summary>What <see cref="KairosClient.GetMetricSeriesAsync"/> reads.</summary>
public sealed class MetricQuery
{
    /// <summary>
    /// The metrics: <c>enqueued</c>, <c>started</c>, <c>succeeded</c>, <c>failed</c>, <c>retried</c>, <c>cancelled</c>,
    /// <c>finished</c>, <c>success_rate</c>, <c>depth</c>, <c>oldest_age_ms</c>, <c>runs</c>, <c>run_time_p50_ms</c>,
    /// <c>run_time_p90_ms</c>, <c>run_time_p95_ms</c>, <c>run_time_p99_ms</c>.
    /// </summary>
    public IReadOnlyList<string> Metrics { get; set; } = ["succeeded", "failed"];

    /// <summary>One queue; null: all of them.</summary>
    public string? Queue { get; set; }

    /// <summary>
    /// A series per queue (each naming its queue) rather than one summed over them: the queues with data in the range,
    /// the largest by the first metric's total first.
    /// </summary>
    public bool ByQueue { get; set; }

    /// <summary>With <see cref="ByQueue"/>: how many queues at most (the server's default 20, at most 100).</summary>
    public int? Limit { get; set; }

    /// <summary><c>minute</c> (default), <c>hour</c> or <c>day</c>.</summary>
    public string? Step { get; set; }

    public DateTimeOffset? From { get; set; }
    public DateTimeOffset? To { get; set; }
}

/// <summary>Time series of job metrics, one per metric asked for, one point per step.</summary>
public sealed class MetricSeriesSet
{
    public string Step { get; init; } = "";
    public DateTimeOffset From { get; init; }
    public DateTimeOffset To { get; init; }
    public string? Queue { get; init; }
    public IReadOnlyList<MetricSeries> Series { get; init; } = [];

    /// <summary>The series of one metric (of one queue, asked by queue).</summary>
    public MetricSeries this[string metric, string? queue = null] => Series.First(s => s.Metric == metric && (queue is null || s.Queue == queue));
}

public sealed class MetricSeries
{
    public string Metric { get; init; } = "";
    /// <summary>Asked by queue: the queue of this series.</summary>
    public string? Queue { get; init; }
    public IReadOnlyList<MetricPoint> Points { get; init; } = [];
}

/// <summary>One step: its start, and the metric's value (null where it has none: no sample, no finished run).</summary>
public sealed class MetricPoint
{
    public DateTimeOffset Time { get; init; }
    public double? Value { get; init; }
}

internal sealed class BulkBody
{
    public IReadOnlyList<Guid>? Ids { get; init; }
    public BulkFilter? Filter { get; init; }
}

internal sealed class BulkFilter
{
    public string? State { get; init; }
    public string? Queue { get; init; }
    public string? Type { get; init; }
    public string? Tag { get; init; }
    public DateTimeOffset? CreatedAfter { get; init; }
    public DateTimeOffset? CreatedBefore { get; init; }
    public string? Q { get; init; }
}

/// <summary>Source-generated JSON of the bulk and metrics types.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BulkBody))]
[JsonSerializable(typeof(BulkResult))]
[JsonSerializable(typeof(MetricSeriesSet))]
internal sealed partial class KairosInsightsJson : JsonSerializerContext;
