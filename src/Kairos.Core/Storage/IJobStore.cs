using Kairos.Core.Jobs;

namespace Kairos.Core.Storage;

public interface IJobStore
{
    /// <summary>Inserts a job, or finds the unfinished job of the same queue with the same unique key and inserts nothing.</summary>
    Task<EnqueueResult> EnqueueAsync(EnqueueParams p, CancellationToken cancellationToken);

    /// <summary>Inserts all jobs in one transaction, or none of them.</summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(EnqueueManyParams p, CancellationToken cancellationToken);

    /// <summary>The job with its attempts and log lines, or null.</summary>
    Task<Job?> GetAsync(GetJobParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Jobs matching the filters in the order of <see cref="ListJobsParams.Sort"/> (newest first by default), a keyset
    /// page continued by <see cref="JobCursor"/>; without attempts and logs.
    /// </summary>
    Task<Page<Job>> ListAsync(ListJobsParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <see cref="LeaseParams.Max"/> ready jobs from the given queues to a worker: highest priority first,
    /// then oldest; skipping paused queues and never exceeding a queue's concurrency or rate limit. The call counts as
    /// a sign of life of the worker; a worker that is not active (quiet, stopped) gets no jobs. A lease never runs past
    /// the job's timeout: it ends at the earlier of now + LeaseMs and started + timeout_ms, and expires as "timed out".
    /// </summary>
    Task<LeaseResult> LeaseAsync(LeaseParams p, CancellationToken cancellationToken);

    /// <summary>Marks a running job succeeded if the lease token is still the current one.</summary>
    Task<CommandResult> AckAsync(AckParams p, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt if the lease token is current; the job retries, fails or is cancelled as decided.</summary>
    Task<CommandResult> FailAsync(FailParams p, CancellationToken cancellationToken);

    /// <summary>Many acks and fails in one transaction; each item stands on its own (a stale token spoils only itself).</summary>
    Task<IReadOnlyList<CommandResult>> CompleteManyAsync(CompleteManyParams p, CancellationToken cancellationToken);

    /// <summary>Extends a lease and records progress if the lease token is current.</summary>
    Task<JobHeartbeatResult> HeartbeatAsync(JobHeartbeatParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Extends many leases at once, as <see cref="HeartbeatAsync"/> does one (without progress). Each lease stands on
    /// its own: a token that is not the job's current one, or a job of another organization, is refused for that item
    /// and extends nothing. The results come in the order of <see cref="HeartbeatManyParams.Leases"/>.
    /// </summary>
    Task<IReadOnlyList<JobHeartbeatResult>> HeartbeatManyAsync(HeartbeatManyParams p, CancellationToken cancellationToken);

    /// <summary>Appends log lines to the running attempt if the lease token is current.</summary>
    Task<CommandResult> AppendLogsAsync(AppendLogsParams p, CancellationToken cancellationToken);

    /// <summary>
    /// A job's log lines with an id above <see cref="ListLogsParams.AfterId"/>, oldest first, at most
    /// <see cref="ListLogsParams.Limit"/>; null when the organization has no such job. Line ids only grow within a job,
    /// so a reader that asks again after the last id it saw gets exactly the lines appended since.
    /// </summary>
    Task<JobLogPage?> ListLogsAsync(ListLogsParams p, CancellationToken cancellationToken);

    Task<CommandResult> CancelAsync(JobCommandParams p, CancellationToken cancellationToken);
    Task<CommandResult> RetryAsync(JobCommandParams p, CancellationToken cancellationToken);
    Task<CommandResult> DeleteAsync(JobCommandParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Applies one user command to many jobs of the organization, each as <see cref="CancelAsync"/>,
    /// <see cref="RetryAsync"/> or <see cref="DeleteAsync"/> would, in as few round trips as the store can. Each job stands
    /// on its own (an unknown id or a job whose state refuses the command spoils only itself); the results come in the
    /// order of <see cref="CommandManyParams.JobIds"/>, an id named twice is answered twice.
    /// </summary>
    Task<IReadOnlyList<CommandResult>> CommandManyAsync(CommandManyParams p, CancellationToken cancellationToken);

    /// <summary>Maintenance, all organizations: running jobs whose lease ran out become failed attempts.</summary>
    Task<IReadOnlyList<JobChange>> ExpireLeasesAsync(ExpireLeasesParams p, CancellationToken cancellationToken);

    /// <summary>Maintenance, all organizations: scheduled and retrying jobs whose run_at has come become queued.</summary>
    Task<IReadOnlyList<JobChange>> PromoteDueAsync(PromoteDueParams p, CancellationToken cancellationToken);

    /// <summary>The earliest run_at of a scheduled or retrying job, and the earliest lease expiry, across all organizations.</summary>
    Task<DueTimes> NextDueAsync(CancellationToken cancellationToken);

    /// <summary>Counts per queue and state, and jobs finished in the last minute per queue.</summary>
    Task<JobStats> StatsAsync(StatsParams p, CancellationToken cancellationToken);
}

public sealed record EnqueueParams(Guid OrganizationId, NewJob Job);
public sealed record EnqueueManyParams(Guid OrganizationId, IReadOnlyList<NewJob> Jobs);
public sealed record EnqueueResult(Job Job, bool Deduplicated);

public sealed record GetJobParams(Guid OrganizationId, Guid JobId);

public sealed record ListJobsParams(Guid OrganizationId)
{
    public JobState? State { get; init; }
    public string? Queue { get; init; }
    public string? Type { get; init; }
    public string? Tag { get; init; }
    public DateTimeOffset? CreatedAfter { get; init; }
    public DateTimeOffset? CreatedBefore { get; init; }
    /// <summary>Full-text search: words each job must contain (see <see cref="JobSearch"/>), from <see cref="JobSearch.Terms"/>.</summary>
    public IReadOnlyList<string>? Search { get; init; }
    public int Limit { get; init; } = 50;
    /// <summary>A cursor from a page of this list in the same <see cref="Sort"/> (see <see cref="JobCursor"/>).</summary>
    public string? Cursor { get; init; }
    public JobSort Sort { get; init; } = JobSort.NewestFirst;
}

public sealed record LeaseParams(Guid OrganizationId, Guid WorkerId, IReadOnlyList<string> Queues, int Max, int LeaseMs);

/// <param name="WorkerFound">False when the worker id is unknown in the organization.</param>
/// <param name="Jobs">The leased jobs.</param>
/// <param name="LimitedUntil">When a rate limit held jobs back: the moment the next start is allowed.</param>
public sealed record LeaseResult(bool WorkerFound, IReadOnlyList<LeasedJob> Jobs, DateTimeOffset? LimitedUntil)
{
    /// <summary>False when the worker exists but may not take jobs (quiet or stopped): the store was not looked at for it.</summary>
    public bool WorkerActive { get; init; } = true;
}

public sealed record AckParams(Guid OrganizationId, Guid JobId, Guid LeaseToken, string? Result);
public sealed record FailParams(Guid OrganizationId, Guid JobId, Guid LeaseToken, Failure Failure);

public sealed record CompleteManyParams(Guid OrganizationId, IReadOnlyList<AckParams> Acks, IReadOnlyList<FailParams> Fails);

public sealed record JobHeartbeatParams(Guid OrganizationId, Guid JobId, Guid LeaseToken, int? ExtendMs, JobProgress? Progress);
public sealed record JobHeartbeatResult(CommandStatus Status, bool CancelRequested, DateTimeOffset? LeaseExpiresAt);

public sealed record LeaseRef(Guid JobId, Guid LeaseToken);
public sealed record HeartbeatManyParams(Guid OrganizationId, IReadOnlyList<LeaseRef> Leases, int? ExtendMs);

public sealed record AppendLogsParams(Guid OrganizationId, Guid JobId, Guid LeaseToken, IReadOnlyList<string> Lines);

public sealed record ListLogsParams(Guid OrganizationId, Guid JobId, long AfterId = 0, int Limit = 50);

/// <param name="JobState">The job's state, read before the lines: when it is finished, no line comes after these.</param>
/// <param name="Lines">The lines, oldest first.</param>
/// <param name="HasMore">More lines follow the last one of this page already.</param>
public sealed record JobLogPage(JobState JobState, IReadOnlyList<JobLogEntry> Lines, bool HasMore);

/// <summary>One log line with its id (increasing within the job) and the attempt that wrote it.</summary>
public sealed record JobLogEntry(long Id, int Attempt, DateTimeOffset At, string Line);

public sealed record JobCommandParams(Guid OrganizationId, Guid JobId);

/// <summary>A user command on a job (a person's action, from the API or the console).</summary>
public enum JobCommand
{
    Cancel,
    Retry,
    Delete,
}

public sealed record CommandManyParams(Guid OrganizationId, JobCommand Command, IReadOnlyList<Guid> JobIds);

public sealed record ExpireLeasesParams(int Limit = 500);
public sealed record PromoteDueParams(int Limit = 1000);
public sealed record DueTimes(DateTimeOffset? NextRunAt, DateTimeOffset? NextLeaseExpiry);

public sealed record StatsParams(Guid OrganizationId);
public sealed record JobStats(IReadOnlyDictionary<string, IReadOnlyDictionary<JobState, long>> CountsByQueue, IReadOnlyDictionary<string, long> FinishedLastMinuteByQueue);

public enum CommandStatus
{
    Applied,
    NotFound,
    /// <summary>The lease token is not the job's current one (or the job is no longer running).</summary>
    StaleLease,
    /// <summary>The state machine refused the transition from the job's current state.</summary>
    InvalidState,
}

/// <summary>The outcome of a command on one job; <see cref="Change"/> is set when something changed.</summary>
public sealed record CommandResult(Guid JobId, CommandStatus Status, JobState? CurrentState, JobChange? Change)
{
    /// <summary>
    /// Transitions of other jobs made in the same transaction: workflow steps started or cancelled because this job
    /// finished. In a batch (<see cref="IJobStore.CompleteManyAsync"/>) a store may report the whole batch's on one item.
    /// </summary>
    public IReadOnlyList<JobChange> Cascade { get; init; } = [];

    public static CommandResult NotFound(Guid id) => new(id, CommandStatus.NotFound, null, null);
}

/// <summary>One transition that happened, as reported by a store, for events and wake-ups.</summary>
public sealed record JobChange(
    Guid OrganizationId,
    Guid JobId,
    string Queue,
    string Type,
    JobState? From,
    JobState To,
    int Attempt)
{
    public Guid? WorkerId { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public JobError? Error { get; init; }
    public JobProgress? Progress { get; init; }
    /// <summary>The job row was removed (delete).</summary>
    public bool Removed { get; init; }
    /// <summary>A cancel was requested on a running job (the state stays running).</summary>
    public bool CancelRequested { get; init; }
    /// <summary>For a job leaving running: when the attempt that ends started (run-time metrics); null when the store does not say.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>
    /// For a job leaving running: whether its queue may have a concurrency limit, so that the end of this job may let
    /// another start (a waiting fetcher is woken for it). True unless the store knows the queue has no such limit.
    /// </summary>
    public bool MayFreeSlot { get; init; } = true;
    /// <summary>The workflow the job is a step of, if any.</summary>
    public Guid? WorkflowId { get; init; }
    /// <summary>Set on the one change whose transaction finished the job's workflow: its final state.</summary>
    public Workflows.WorkflowOutcome? WorkflowOutcome { get; init; }
}
