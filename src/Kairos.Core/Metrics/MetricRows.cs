namespace Kairos.Core.Metrics;

/// <summary>
/// What happened in one queue of one organization during one minute, as one node counted it (to be added to what the
/// store holds), or as the store holds it. <see cref="Depth"/> and <see cref="OldestAgeMs"/> are samples (the
/// leader's, once a minute): set, not added; null when not sampled.
/// </summary>
public sealed class MetricRow
{
    public required Guid OrganizationId { get; init; }
    public required string Queue { get; init; }
    /// <summary>The start of the minute (UTC, whole minute).</summary>
    public required DateTimeOffset Minute { get; init; }
    public long Enqueued { get; set; }
    public long Started { get; set; }
    public long Succeeded { get; set; }
    public long Failed { get; set; }
    /// <summary>Attempts that failed with attempts left (the job retries), and finished jobs retried by hand.</summary>
    public long Retried { get; set; }
    public long Cancelled { get; set; }
    public RunTimeHistogram RunTimes { get; init; } = new();
    public long? Depth { get; set; }
    public long? OldestAgeMs { get; set; }

    public bool HasCounts => Enqueued != 0 || Started != 0 || Succeeded != 0 || Failed != 0 || Retried != 0 || Cancelled != 0 || !RunTimes.IsEmpty;

    /// <summary>Adds another row's counts and run times (of the same key) to this one; samples: the other's win when it has them.</summary>
    public void Add(MetricRow other)
    {
        Enqueued += other.Enqueued;
        Started += other.Started;
        Succeeded += other.Succeeded;
        Failed += other.Failed;
        Retried += other.Retried;
        Cancelled += other.Cancelled;
        RunTimes.Add(other.RunTimes);
        Depth = other.Depth ?? Depth;
        OldestAgeMs = other.OldestAgeMs ?? OldestAgeMs;
    }

    /// <summary>The whole minute that <paramref name="t"/> falls in.</summary>
    public static DateTimeOffset MinuteOf(DateTimeOffset t)
    {
        var ms = t.ToUnixTimeMilliseconds();
        return DateTimeOffset.FromUnixTimeMilliseconds(ms - (((ms % 60_000) + 60_000) % 60_000));
    }
}

/// <summary>
/// One step of a series: the sums of the counts, the largest depth (summed over the queues in each minute) and oldest age,
/// the merged run times; <see cref="Queue"/> names the queue of a series per queue.
/// </summary>
public sealed record MetricPoint(
    DateTimeOffset Start,
    long Enqueued,
    long Started,
    long Succeeded,
    long Failed,
    long Retried,
    long Cancelled,
    long? Depth,
    long? OldestAgeMs,
    RunTimeHistogram RunTimes,
    string? Queue = null);

/// <summary>How many jobs of a queue are ready (queued) right now, and since when the oldest of them is.</summary>
public sealed record QueueSample(Guid OrganizationId, string Queue, long Depth, DateTimeOffset? OldestReadySince);
