using System.Text.Json;

namespace Kairos.Client;

/// <summary>The worker protocol: what a worker (the SDK's worker host, <c>kairos agent</c>, your own) calls.</summary>
public sealed partial class KairosClient
{
    /// <summary>Registers a worker; it then fetches, heartbeats and finally deregisters with the returned id.</summary>
    public Task<RegisteredWorker> RegisterWorkerAsync(WorkerRegistration registration, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/workers", Json(registration, KairosJson.Default.WorkerRegistration), KairosJson.Default.RegisteredWorker,
            idempotent: false, cancellationToken);

    /// <summary>Tells the server the worker is alive; the answer carries commands and jobs to cancel.</summary>
    public Task<WorkerHeartbeat> HeartbeatWorkerAsync(Guid workerId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/workers/{workerId}/heartbeat", null, KairosJson.Default.WorkerHeartbeat, idempotent: true, cancellationToken);

    /// <summary>Leases up to <see cref="FetchRequest.Max"/> jobs, waiting up to <see cref="FetchRequest.WaitMs"/> for one. Not retried: a lost answer would strand leases.</summary>
    public async Task<IReadOnlyList<FetchedJob>> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, "api/v1/fetch", Json(request, KairosJson.Default.FetchRequest), KairosJson.Default.FetchResponse,
            idempotent: false, cancellationToken)).Jobs;

    /// <summary>Extends a job's lease and reports progress; the answer says whether a cancel was requested.</summary>
    public Task<JobHeartbeatResult> HeartbeatJobAsync(Guid jobId, Guid leaseToken, int? extendMs = null, JobProgress? progress = null,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{jobId}/heartbeat",
            Json(new JobHeartbeatBody { LeaseToken = leaseToken, ExtendMs = extendMs, Progress = progress }, KairosJson.Default.JobHeartbeatBody),
            KairosJson.Default.JobHeartbeatResult, idempotent: true, cancellationToken);

    /// <summary>
    /// Extends many leases in one call (at most 1000): per lease <c>ok</c> with the cancel flag, or <c>stale_lease</c> /
    /// <c>not_found</c> when the lease is no longer the caller's (nothing is extended for it). In the order given.
    /// </summary>
    public async Task<IReadOnlyList<LeaseHeartbeatResult>> HeartbeatJobsAsync(IReadOnlyList<JobLease> leases, int? extendMs = null,
        CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, "api/v1/jobs/heartbeat", Json(new BatchHeartbeatBody { Leases = leases, ExtendMs = extendMs }, KairosJson.Default.BatchHeartbeatBody),
            KairosJson.Default.BatchHeartbeatResponse, idempotent: true, cancellationToken)).Results;

    /// <summary>Appends lines to a running job's log (at most 1000 a call).</summary>
    public Task AppendLogsAsync(Guid jobId, Guid leaseToken, IReadOnlyList<string> lines, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{jobId}/logs", Json(new LogsBody { LeaseToken = leaseToken, Lines = lines }, KairosJson.Default.LogsBody),
            idempotent: false, cancellationToken);

    /// <summary>Reports success with an optional result.</summary>
    public Task<CompletionResult> AckAsync(Guid jobId, Guid leaseToken, JsonElement? result = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{jobId}/ack", Json(new AckBody { LeaseToken = leaseToken, Result = result }, KairosJson.Default.AckBody),
            KairosJson.Default.CompletionResult, idempotent: false, cancellationToken);

    /// <summary>Reports failure: retried with backoff (or after <paramref name="retryIn"/>) unless not retryable or out of attempts.</summary>
    public Task<CompletionResult> FailAsync(Guid jobId, Guid leaseToken, JobError error, bool retryable = true, TimeSpan? retryIn = null,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{jobId}/fail",
            Json(new FailBody { LeaseToken = leaseToken, Error = error, Retryable = retryable, RetryInMs = ToMs(retryIn) }, KairosJson.Default.FailBody),
            KairosJson.Default.CompletionResult, idempotent: false, cancellationToken);

    /// <summary>
    /// Reports many outcomes in one request (at most 1000). Repeating it is harmless (items already applied answer
    /// <c>stale_lease</c>), so it is retried on transient failures.
    /// </summary>
    public async Task<IReadOnlyList<BatchItemResult>> CompleteManyAsync(IReadOnlyList<JobAck> acks, IReadOnlyList<JobFailure> fails,
        CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, "api/v1/ack", Json(new BatchAckBody { Acks = acks, Fails = fails }, KairosJson.Default.BatchAckBody),
            KairosJson.Default.BatchAckResponse, idempotent: true, cancellationToken)).Results;

    /// <summary>Deregisters the worker; jobs it still holds go back to their queues.</summary>
    public Task DeregisterWorkerAsync(Guid workerId, CancellationToken cancellationToken = default) =>
        RemoveWorkerAsync(workerId, cancellationToken);

    internal static int? ToMs(TimeSpan? t) => t is { } v ? (int)Math.Clamp(Math.Ceiling(v.TotalMilliseconds), 0, int.MaxValue) : null;
}
