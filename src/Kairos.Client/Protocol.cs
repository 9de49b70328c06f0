using System.Text.Json;

namespace Kairos.Client;

/// <summary>How a worker introduces itself when it registers.</summary>
public sealed class WorkerRegistration
{
    public string Name { get; set; } = "";
    public string? Host { get; set; }
    public int? Pid { get; set; }
    public IReadOnlyList<string> Queues { get; set; } = [];
    public int Capacity { get; set; } = 1;
    public IDictionary<string, string>? Labels { get; set; }
    public string? Version { get; set; }
}

/// <summary>The server's answer to a registration.</summary>
public sealed class RegisteredWorker
{
    public Guid Id { get; init; }

    /// <summary>A worker silent for this long is lost and its jobs go back.</summary>
    public int HeartbeatTimeoutMs { get; init; }
}

/// <summary>The server's answer to a worker heartbeat: commands (<c>quiet</c>, <c>terminate</c>) and jobs to cancel.</summary>
public sealed class WorkerHeartbeat
{
    public IReadOnlyList<string> Commands { get; init; } = [];
    public IReadOnlyList<Guid> CancelJobIds { get; init; } = [];
}

/// <summary>A long-poll fetch.</summary>
public sealed class FetchRequest
{
    public Guid WorkerId { get; set; }
    public IReadOnlyList<string> Queues { get; set; } = [];

    /// <summary>1 to 1000 jobs.</summary>
    public int Max { get; set; } = 1;

    /// <summary>How long to wait for a job when none is ready (0 to 60000).</summary>
    public int WaitMs { get; set; }

    /// <summary>How long the lease lasts without a job heartbeat.</summary>
    public int LeaseMs { get; set; } = 30_000;
}

/// <summary>A job leased to a worker.</summary>
public sealed class FetchedJob
{
    public Guid Id { get; init; }
    public string Queue { get; init; } = "";
    public string Type { get; init; } = "";
    public JsonElement Payload { get; init; }
    public int Attempt { get; init; }
    public int MaxAttempts { get; init; }
    public int Priority { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public int? TimeoutMs { get; init; }
    public Guid LeaseToken { get; init; }
    public DateTimeOffset LeaseExpiresAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset RunAt { get; init; }

    /// <summary>The workflow the job is a step of, if any.</summary>
    public Guid? WorkflowId { get; init; }

    /// <summary>The job's step id within its workflow.</summary>
    public string? WorkflowStep { get; init; }

    /// <summary>A workflow step's parents by step id, with their state and result (absent for roots and jobs of no workflow).</summary>
    public IReadOnlyDictionary<string, WorkflowParent>? Parents { get; init; }
}

internal sealed class FetchResponse
{
    public IReadOnlyList<FetchedJob> Jobs { get; init; } = [];
}

/// <summary>The server's answer to a job heartbeat.</summary>
public sealed class JobHeartbeatResult
{
    public bool CancelRequested { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
}

internal sealed class JobHeartbeatBody
{
    public Guid LeaseToken { get; init; }
    public int? ExtendMs { get; init; }
    public JobProgress? Progress { get; init; }
}

/// <summary>A lease to extend in a batch heartbeat.</summary>
public sealed class JobLease
{
    public Guid Id { get; init; }
    public Guid LeaseToken { get; init; }
}

/// <summary>One item of a batch heartbeat: <c>ok</c> (extended), <c>stale_lease</c> (the lease is not ours any more) or <c>not_found</c>.</summary>
public sealed class LeaseHeartbeatResult
{
    public Guid Id { get; init; }
    public string Status { get; init; } = "";
    public bool CancelRequested { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
}

internal sealed class BatchHeartbeatBody
{
    public IReadOnlyList<JobLease> Leases { get; init; } = [];
    public int? ExtendMs { get; init; }
}

internal sealed class BatchHeartbeatResponse
{
    public IReadOnlyList<LeaseHeartbeatResult> Results { get; init; } = [];
}

internal sealed class LogsBody
{
    public Guid LeaseToken { get; init; }
    public IReadOnlyList<string> Lines { get; init; } = [];
}

internal sealed class AckBody
{
    public Guid LeaseToken { get; init; }
    public JsonElement? Result { get; init; }
}

internal sealed class FailBody
{
    public Guid LeaseToken { get; init; }
    public JobError Error { get; init; } = new();
    public bool Retryable { get; init; }
    public int? RetryInMs { get; init; }
}

/// <summary>The outcome of an ack or fail: the job's new state.</summary>
public sealed class CompletionResult
{
    public Guid Id { get; init; }
    public string State { get; init; } = "";
    public DateTimeOffset? RunAt { get; init; }
}

/// <summary>A success to report in a batch.</summary>
public sealed class JobAck
{
    public Guid Id { get; init; }
    public Guid LeaseToken { get; init; }
    public JsonElement? Result { get; init; }
}

/// <summary>A failure to report in a batch.</summary>
public sealed class JobFailure
{
    public Guid Id { get; init; }
    public Guid LeaseToken { get; init; }
    public JobError Error { get; init; } = new();
    public bool Retryable { get; init; } = true;
    public int? RetryInMs { get; init; }
}

internal sealed class BatchAckBody
{
    public IReadOnlyList<JobAck> Acks { get; init; } = [];
    public IReadOnlyList<JobFailure> Fails { get; init; } = [];
}

/// <summary>The outcome of one item of a batch: <c>ok</c>, <c>stale_lease</c>, <c>not_found</c> or <c>invalid_state</c>.</summary>
public sealed class BatchItemResult
{
    public Guid Id { get; init; }
    public string Status { get; init; } = "";
    public string? State { get; init; }
}

internal sealed class BatchAckResponse
{
    public IReadOnlyList<BatchItemResult> Results { get; init; } = [];
}

internal sealed class CreateJobBody
{
    public string Queue { get; init; } = "";
    public string Type { get; init; } = "";
    public JsonElement Payload { get; init; }
    public int? Priority { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public long? DelayMs { get; init; }
    public int? MaxAttempts { get; init; }
    public int? TimeoutMs { get; init; }
    public string? UniqueKey { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
}

internal sealed class BulkCreateBody
{
    public IReadOnlyList<CreateJobBody> Jobs { get; init; } = [];
}

internal sealed class BulkCreateResponse
{
    public IReadOnlyList<Guid> Ids { get; init; } = [];
}

internal sealed class PauseBody
{
    public string? Reason { get; init; }
}

internal sealed class EventEnvelope
{
    public string Id { get; init; } = "";
    public string Type { get; init; } = "";
    public DateTimeOffset Time { get; init; }
    public JsonElement Data { get; init; }
}

internal sealed class ProblemBody
{
    public string? Type { get; init; }
    public string? Title { get; init; }
    public int? Status { get; init; }
    public string? Detail { get; init; }
    public string? RequestId { get; init; }
    public Dictionary<string, string[]>? Errors { get; init; }
}
