using System.Text.Json;

namespace Kairos.Client;

/// <summary>The states a job can be in, as the API names them.</summary>
public static class JobStates
{
    public const string Pending = "pending";
    public const string Scheduled = "scheduled";
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Retrying = "retrying";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>True for the states a job does not leave on its own (succeeded, failed, cancelled).</summary>
    public static bool IsFinished(string state) => state is Succeeded or Failed or Cancelled;
}

/// <summary>How a job is enqueued: every option is optional; the server and the queue supply the defaults.</summary>
public sealed class EnqueueOptions
{
    /// <summary>The queue; <see cref="KairosClientOptions.DefaultQueue"/> when null.</summary>
    public string? Queue { get; set; }

    /// <summary>Higher runs first within a queue (default 0).</summary>
    public int? Priority { get; set; }

    /// <summary>Run no earlier than this time. Give this or <see cref="Delay"/>, not both.</summary>
    public DateTimeOffset? RunAt { get; set; }

    /// <summary>Run no earlier than this long from now.</summary>
    public TimeSpan? Delay { get; set; }

    /// <summary>Attempts before the job fails for good (the queue's default, else 25).</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>How long one attempt may run before its worker cancels it.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>While a job with this key is unfinished, enqueueing another returns the existing one.</summary>
    public string? UniqueKey { get; set; }

    /// <summary>Free-form labels to filter by.</summary>
    public IReadOnlyList<string>? Tags { get; set; }
}

/// <summary>One job of a bulk enqueue: made with <see cref="Create{T}"/>.</summary>
public sealed class JobRequest
{
    private readonly Func<JsonSerializerOptions, JsonElement> _payload;

    private JobRequest(string type, Func<JsonSerializerOptions, JsonElement> payload, EnqueueOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        Type = type;
        _payload = payload;
        Options = options;
    }

    /// <summary>The job type, which selects its handler.</summary>
    public string Type { get; }

    /// <summary>Queue, priority, delay, ...</summary>
    public EnqueueOptions? Options { get; }

    /// <summary>A job of <paramref name="type"/> whose payload is <paramref name="payload"/> serialized with the client's payload options.</summary>
    public static JobRequest Create<T>(string type, T payload, EnqueueOptions? options = null) =>
        new(type, o => JsonSerializer.SerializeToElement(payload, o), options);

    /// <summary>A job whose payload is serialized with source-generated metadata.</summary>
    public static JobRequest Create<T>(string type, T payload, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, EnqueueOptions? options = null) =>
        new(type, _ => JsonSerializer.SerializeToElement(payload, typeInfo), options);

    internal JsonElement Payload(JsonSerializerOptions options) => _payload(options);
}

/// <summary>A page of a list; pass <see cref="NextCursor"/> back to get the next one.</summary>
public sealed class Page<T>
{
    public IReadOnlyList<T> Items { get; init; } = [];

    /// <summary>Null on the last page.</summary>
    public string? NextCursor { get; init; }
}

/// <summary>Progress a handler reported.</summary>
public sealed class JobProgress
{
    public int Percent { get; init; }
    public string? Message { get; init; }
}

/// <summary>The error of a failed attempt.</summary>
public sealed class JobError
{
    public string Message { get; init; } = "";

    /// <summary>The exception type, e.g. <c>System.InvalidOperationException</c>.</summary>
    public string? Type { get; init; }

    public string? Stack { get; init; }
}

/// <summary>One attempt of a job.</summary>
public sealed class JobAttempt
{
    public int Number { get; init; }
    public Guid? WorkerId { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Outcome { get; init; }
    public JobError? Error { get; init; }
}

/// <summary>A line of a job's log.</summary>
public sealed class JobLogLine
{
    public DateTimeOffset At { get; init; }
    public string Line { get; init; } = "";
}

/// <summary>A line of <c>GET /jobs/{id}/logs</c>: <see cref="Id"/> grows within the job, so reading again after it gives what came since.</summary>
public sealed class JobLogEntry
{
    public long Id { get; init; }

    /// <summary>The attempt that wrote the line.</summary>
    public int Attempt { get; init; }

    public DateTimeOffset At { get; init; }
    public string Line { get; init; } = "";
}

/// <summary>A page of a job's log, oldest line first.</summary>
public sealed class JobLogPage
{
    public IReadOnlyList<JobLogEntry> Items { get; init; } = [];

    /// <summary>Set when more lines are already there; null on the last page.</summary>
    public string? NextCursor { get; init; }

    /// <summary>The job's state, read before the lines: once it is finished (<see cref="JobStates.IsFinished"/>), no line follows.</summary>
    public string JobState { get; init; } = "";
}

/// <summary>A job as the server has it. <see cref="Attempts"/> and <see cref="Logs"/> are filled by a get, not by a list.</summary>
public sealed class Job
{
    public Guid Id { get; init; }
    public string Queue { get; init; } = "";
    public string Type { get; init; } = "";
    public JsonElement Payload { get; init; }

    /// <summary>One of <see cref="JobStates"/>.</summary>
    public string State { get; init; } = "";

    public int Priority { get; init; }
    public DateTimeOffset RunAt { get; init; }
    public int Attempt { get; init; }
    public int MaxAttempts { get; init; }
    public int? TimeoutMs { get; init; }
    public string? UniqueKey { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public JsonElement? Result { get; init; }
    public JobProgress? Progress { get; init; }
    public bool CancelRequested { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public Guid? WorkerId { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public JobError? LastError { get; init; }
    public IReadOnlyList<JobAttempt>? Attempts { get; init; }
    public IReadOnlyList<JobLogLine>? Logs { get; init; }

    /// <summary>True when an enqueue with a unique key found this existing job instead of creating one.</summary>
    public bool? Deduplicated { get; init; }

    /// <summary>The workflow the job is a step of, if any.</summary>
    public Guid? WorkflowId { get; init; }

    /// <summary>The job's step id within its workflow.</summary>
    public string? WorkflowStep { get; init; }

    /// <summary>The payload read as <typeparamref name="T"/> (snake_case names by default).</summary>
    public T? PayloadAs<T>(JsonSerializerOptions? options = null) => Payload.Deserialize<T>(options ?? KairosJson.PayloadDefaults);

    /// <summary>The result read as <typeparamref name="T"/>; default when the job has none.</summary>
    public T? ResultAs<T>(JsonSerializerOptions? options = null) => Result is { } r ? r.Deserialize<T>(options ?? KairosJson.PayloadDefaults) : default;
}

/// <summary>Which jobs to list.</summary>
public sealed class JobQuery
{
    public string? State { get; set; }
    public string? Queue { get; set; }
    public string? Type { get; set; }
    public string? Tag { get; set; }
    public DateTimeOffset? CreatedAfter { get; set; }
    public DateTimeOffset? CreatedBefore { get; set; }

    /// <summary>Full-text search (<c>q</c>): words the job's id, type, tags, payload or error must all have (<c>word*</c>: a word it begins).</summary>
    public string? Search { get; set; }

    /// <summary>1 to 500 (server default 50).</summary>
    public int? Limit { get; set; }

    public string? Cursor { get; set; }

    /// <summary>
    /// The order (<c>sort</c>): <c>created_at</c>, <c>run_at</c>, <c>finished_at</c> (unfinished jobs last),
    /// <c>priority</c> or <c>attempt</c>, ascending, or descending with <c>-</c> before it (<c>-priority</c>); ties in
    /// creation order, the same way. Null: <c>-created_at</c>, newest first. A <see cref="Cursor"/> continues only the
    /// sort it was given out for.
    /// </summary>
    public string? Sort { get; set; }
}

/// <summary>A rate limit: at most <see cref="Limit"/> job starts per <see cref="PeriodMs"/>.</summary>
public sealed class RateLimit
{
    public int? Limit { get; set; }
    public int? PeriodMs { get; set; }
}

/// <summary>The settings of a queue, all of them (<see cref="KairosClient.ConfigureQueueAsync"/> replaces them; <see cref="QueueChanges"/> changes some).</summary>
public sealed class QueueSettings
{
    public int? ConcurrencyLimit { get; set; }
    public RateLimit? RateLimit { get; set; }
    public int? DefaultMaxAttempts { get; set; }
    public int? DefaultTimeoutMs { get; set; }
}

/// <summary>A queue with its settings and job counts by state.</summary>
public sealed class Queue
{
    public string Name { get; init; } = "";
    public bool Paused { get; init; }
    public string? PauseReason { get; init; }
    public int? ConcurrencyLimit { get; init; }
    public RateLimit? RateLimit { get; init; }
    public int? DefaultMaxAttempts { get; init; }
    public int? DefaultTimeoutMs { get; init; }
    public IReadOnlyDictionary<string, long> Counts { get; init; } = new Dictionary<string, long>();
    public long? OldestQueuedAgeMs { get; init; }
    public long ThroughputLastMinute { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The current settings, to change and write back with <see cref="KairosClient.ConfigureQueueAsync"/>.</summary>
    public QueueSettings Settings() => new()
    {
        ConcurrencyLimit = ConcurrencyLimit,
        RateLimit = RateLimit is null ? null : new RateLimit { Limit = RateLimit.Limit, PeriodMs = RateLimit.PeriodMs },
        DefaultMaxAttempts = DefaultMaxAttempts,
        DefaultTimeoutMs = DefaultTimeoutMs,
    };
}

/// <summary>What a purge removed.</summary>
public sealed class PurgeResult
{
    public string Queue { get; init; } = "";
    public long Purged { get; init; }
}

/// <summary>A worker as the server has it.</summary>
public sealed class Worker
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string? Host { get; init; }
    public int? Pid { get; init; }
    public IReadOnlyList<string> Queues { get; init; } = [];
    public int Capacity { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string? Version { get; init; }

    /// <summary>active, quiet, stopped, lost, ...</summary>
    public string State { get; init; } = "";

    public DateTimeOffset RegisteredAt { get; init; }
    public DateTimeOffset LastHeartbeatAt { get; init; }

    /// <summary>Filled by a get, not by a list.</summary>
    public IReadOnlyList<Guid>? RunningJobIds { get; init; }
}

/// <summary>Server version, store and uptime.</summary>
public sealed class SystemInfo
{
    public string Version { get; init; } = "";
    public string Storage { get; init; } = "";
    public string Durability { get; init; } = "";
    public DateTimeOffset StartedAt { get; init; }
    public long UptimeMs { get; init; }
}

/// <summary>Job counts by state, overall and per queue, and the server's system info.</summary>
public sealed class Stats
{
    public IReadOnlyDictionary<string, long> Counts { get; init; } = new Dictionary<string, long>();
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Queues { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, long>>();
    public long ThroughputLastMinute { get; init; }
    public SystemInfo System { get; init; } = new();
}

/// <summary>One domain event of the live stream (<c>job.succeeded</c>, <c>queue.paused</c>, ...).</summary>
public sealed class KairosEvent
{
    /// <summary>Resume after this id with <see cref="KairosClient.StreamEventsAsync"/>.</summary>
    public long Id { get; init; }

    public string Type { get; init; } = "";
    public DateTimeOffset Time { get; init; }

    /// <summary>The event's data (for job events: job_id, queue, type, state, ...).</summary>
    public JsonElement Data { get; init; }

    /// <summary>The event as the server sent it.</summary>
    public string Json { get; init; } = "";
}

/// <summary>
/// Changes to some of a queue's settings, for <see cref="KairosClient.UpdateQueueAsync"/> (<c>PATCH</c>): only the
/// settings set here change; setting one to null clears it (no limit, no default).
/// </summary>
public sealed class QueueChanges
{
    private readonly System.Text.Json.Nodes.JsonObject _body = [];

    /// <summary>Jobs of the queue running at once across all workers; null: unlimited.</summary>
    public QueueChanges ConcurrencyLimit(int? limit) => Set("concurrency_limit", limit);

    /// <summary>At most <paramref name="limit"/> job starts per <paramref name="period"/>; both null: no rate limit.</summary>
    public QueueChanges RateLimit(int? limit, TimeSpan? period)
    {
        if (limit is null != period is null) throw new ArgumentException("Give both the limit and the period, or neither to clear the rate limit.");
        _body["rate_limit"] = limit is { } l ? new System.Text.Json.Nodes.JsonObject { ["limit"] = l, ["period_ms"] = KairosClient.ToMs(period) } : null;
        return this;
    }

    /// <summary>Attempts of a job that names none; null: the server's default.</summary>
    public QueueChanges DefaultMaxAttempts(int? attempts) => Set("default_max_attempts", attempts);

    /// <summary>Timeout of a job that names none; null: none.</summary>
    public QueueChanges DefaultTimeout(TimeSpan? timeout) => Set("default_timeout_ms", KairosClient.ToMs(timeout));

    /// <summary>The JSON merge patch these changes make.</summary>
    public override string ToString() => _body.ToJsonString();

    private QueueChanges Set(string name, int? value)
    {
        _body[name] = value;
        return this;
    }
}
