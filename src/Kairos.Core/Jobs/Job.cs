namespace Kairos.Core.Jobs;

/// <summary>A job as stored: its definition, where it stands, and (when loaded in full) its history.</summary>
public sealed record Job
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Queue { get; init; }
    public required string Type { get; init; }
    /// <summary>The payload as raw JSON text.</summary>
    public required string Payload { get; init; }
    public int Priority { get; init; }
    public required JobState State { get; init; }
    public required DateTimeOffset RunAt { get; init; }
    public required int MaxAttempts { get; init; }
    /// <summary>How many attempts have started (1 while the first one runs).</summary>
    public int Attempt { get; init; }
    public int? TimeoutMs { get; init; }
    public string? UniqueKey { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    /// <summary>The result as raw JSON text, once succeeded.</summary>
    public string? Result { get; init; }
    public JobProgress? Progress { get; init; }
    public bool CancelRequested { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public Guid? WorkerId { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public JobError? LastError { get; init; }
    public IReadOnlyList<JobAttempt> Attempts { get; init; } = [];
    public IReadOnlyList<JobLogLine> Logs { get; init; } = [];
    /// <summary>The workflow the job is a step of, if any.</summary>
    public Guid? WorkflowId { get; init; }
    /// <summary>The id of its step in that workflow.</summary>
    public string? WorkflowStep { get; init; }
}

public sealed record JobProgress(int Percent, string? Message);

public sealed record JobError(string Message, string? Type, string? Stack);

/// <summary>One attempt at running a job: who ran it, when, and how it ended.</summary>
public sealed record JobAttempt(
    int Number,
    Guid? WorkerId,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    string? Outcome,
    JobError? Error);

public sealed record JobLogLine(DateTimeOffset At, string Line);

/// <summary>What a caller asks to enqueue, after validation and defaults were applied.</summary>
public sealed record NewJob
{
    public required string Queue { get; init; }
    public required string Type { get; init; }
    public required string Payload { get; init; }
    public int Priority { get; init; }
    /// <summary>When to run; null means now.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>Null takes the queue's default, then <see cref="RetryPolicy.DefaultMaxAttempts"/>.</summary>
    public int? MaxAttempts { get; init; }
    public int? TimeoutMs { get; init; }
    public string? UniqueKey { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>A job handed to a worker under a lease.</summary>
public sealed record LeasedJob(
    Job Job,
    Guid LeaseToken,
    DateTimeOffset LeaseExpiresAt);
