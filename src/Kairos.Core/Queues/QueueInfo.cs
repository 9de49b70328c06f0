namespace Kairos.Core.Queues;

/// <summary>At most <see cref="Limit"/> job starts per <see cref="PeriodMs"/> milliseconds.</summary>
public sealed record RateLimit(int Limit, int PeriodMs);

/// <summary>A queue's settings.</summary>
public sealed record QueueSettings
{
    public int? ConcurrencyLimit { get; init; }
    public RateLimit? RateLimit { get; init; }
    public int? DefaultMaxAttempts { get; init; }
    public int? DefaultTimeoutMs { get; init; }
}

/// <summary>A queue with its settings and live figures.</summary>
public sealed record QueueInfo
{
    public required string Name { get; init; }
    public required bool Paused { get; init; }
    public string? PauseReason { get; init; }
    public required QueueSettings Settings { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>Jobs per state; every state is present.</summary>
    public required IReadOnlyDictionary<Jobs.JobState, long> Counts { get; init; }
    /// <summary>Age of the oldest queued job, or null when none waits.</summary>
    public TimeSpan? OldestQueuedAge { get; init; }
    /// <summary>Jobs that finished (succeeded or failed) in the last minute.</summary>
    public long FinishedLastMinute { get; init; }
}
