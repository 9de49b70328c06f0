using System.Collections.Frozen;

namespace Kairos.Core.Jobs;

/// <summary>Everything that can happen to an existing job.</summary>
public enum JobTrigger
{
    /// <summary>run_at of a scheduled or retrying job has come.</summary>
    ScheduleDue,
    /// <summary>A worker fetched the job.</summary>
    Lease,
    /// <summary>The worker reports success.</summary>
    Ack,
    /// <summary>The worker reports failure.</summary>
    Fail,
    /// <summary>The lease ran out before an ack or fail (worker lost, timeout, crash).</summary>
    LeaseExpired,
    /// <summary>A user cancels the job.</summary>
    Cancel,
    /// <summary>A user retries a finished job.</summary>
    Retry,
    /// <summary>A user deletes the job.</summary>
    Delete,
    /// <summary>Every workflow parent of a pending step let it go (succeeded, or failed with continue_on_failure).</summary>
    ParentsDone,
    /// <summary>A retry of its workflow runs a failed or cancelled step again (see <see cref="JobStateMachine.RetryStep"/>).</summary>
    RetryStep,
}

/// <summary>The fields of a job that transitions depend on.</summary>
/// <param name="InWorkflow">The job is a workflow step: it is retried with its workflow, and deleted only once finished.</param>
public readonly record struct JobSnapshot(JobState State, int Attempt, int MaxAttempts, bool CancelRequested, bool InWorkflow = false);

/// <summary>What a worker reported when an attempt failed.</summary>
public sealed record Failure(JobError Error, bool Retryable = true, int? RetryInMs = null)
{
    public static Failure LeaseExpired { get; } = new(new JobError("lease expired", "LeaseExpired", null));
}

/// <summary>The answer of the state machine: refused, or the state to move to.</summary>
public readonly record struct Decision(bool Allowed, JobState From, JobState To, DateTimeOffset? RunAt, bool CancelRequested, bool Removes)
{
    public static Decision Refused(JobState from) => new(false, from, from, null, false, false);
}

/// <summary>
/// The one place that decides job transitions. Stores call it inside their transaction with the row they read and
/// persist what it decided with a compare-and-set; nothing else changes a job's state.
/// </summary>
public static class JobStateMachine
{
    /// <summary>
    /// Every allowed (state, trigger) pair and the states it can lead to. A pair missing here is refused.
    /// An empty target list means the job is removed.
    /// </summary>
    public static FrozenDictionary<(JobState From, JobTrigger Trigger), JobState[]> Table { get; } = BuildTable();

    private static FrozenDictionary<(JobState, JobTrigger), JobState[]> BuildTable()
    {
        var t = new Dictionary<(JobState, JobTrigger), JobState[]>
        {
            [(JobState.Scheduled, JobTrigger.ScheduleDue)] = [JobState.Queued],
            [(JobState.Retrying, JobTrigger.ScheduleDue)] = [JobState.Queued],
            [(JobState.Queued, JobTrigger.Lease)] = [JobState.Running],
            [(JobState.Running, JobTrigger.Ack)] = [JobState.Succeeded],
            [(JobState.Running, JobTrigger.Fail)] = [JobState.Retrying, JobState.Failed, JobState.Cancelled],
            [(JobState.Running, JobTrigger.LeaseExpired)] = [JobState.Retrying, JobState.Failed, JobState.Cancelled],
            [(JobState.Pending, JobTrigger.Cancel)] = [JobState.Cancelled],
            [(JobState.Scheduled, JobTrigger.Cancel)] = [JobState.Cancelled],
            [(JobState.Queued, JobTrigger.Cancel)] = [JobState.Cancelled],
            [(JobState.Retrying, JobTrigger.Cancel)] = [JobState.Cancelled],
            // A running job cannot be stopped from here: the request is delivered to its worker.
            [(JobState.Running, JobTrigger.Cancel)] = [JobState.Running],
            [(JobState.Failed, JobTrigger.Retry)] = [JobState.Queued],
            [(JobState.Cancelled, JobTrigger.Retry)] = [JobState.Queued],
            [(JobState.Pending, JobTrigger.ParentsDone)] = [JobState.Queued],
            // Queued when all its parents succeeded, pending (waiting for those that run again) otherwise.
            [(JobState.Failed, JobTrigger.RetryStep)] = [JobState.Queued, JobState.Pending],
            [(JobState.Cancelled, JobTrigger.RetryStep)] = [JobState.Queued, JobState.Pending],
        };
        foreach (var state in JobStates.All)
        {
            if (state != JobState.Running)
            {
                t[(state, JobTrigger.Delete)] = [];
            }
        }
        return t.ToFrozenDictionary();
    }

    public static bool IsAllowed(JobState from, JobTrigger trigger) => Table.ContainsKey((from, trigger));

    /// <summary>The state of a new job: scheduled when run_at lies in the future, queued otherwise.</summary>
    public static JobState Enqueue(DateTimeOffset runAt, DateTimeOffset now, bool waitsForParents = false) =>
        waitsForParents ? JobState.Pending : runAt > now ? JobState.Scheduled : JobState.Queued;

    /// <summary>Decides a trigger that has a single outcome (everything but <see cref="JobTrigger.Fail"/> and <see cref="JobTrigger.LeaseExpired"/>).</summary>
    public static Decision Decide(JobSnapshot job, JobTrigger trigger)
    {
        if (trigger is JobTrigger.Fail or JobTrigger.LeaseExpired)
        {
            throw new ArgumentException("Failures are decided by Fail(), which needs the failure and the retry policy.", nameof(trigger));
        }
        if (trigger == JobTrigger.RetryStep)
        {
            throw new ArgumentException("A step's retry is decided by RetryStep(), which needs to know whether its parents are done.", nameof(trigger));
        }
        if (!Table.TryGetValue((job.State, trigger), out var targets) || RefusedInWorkflow(job, trigger))
        {
            return Decision.Refused(job.State);
        }
        if (targets.Length == 0)
        {
            return new Decision(true, job.State, job.State, null, job.CancelRequested, Removes: true);
        }
        var to = targets[0];
        var cancelRequested = trigger == JobTrigger.Cancel && to == JobState.Running || (job.CancelRequested && to == JobState.Running);
        return new Decision(true, job.State, to, null, cancelRequested, false);
    }

    /// <summary>
    /// A workflow step is retried with its workflow (which resets its descendants too), not alone; and it is deleted
    /// only once finished, so that no step waits for a parent that is gone.
    /// </summary>
    private static bool RefusedInWorkflow(JobSnapshot job, JobTrigger trigger) =>
        job.InWorkflow && (trigger == JobTrigger.Retry || (trigger == JobTrigger.Delete && !job.State.IsTerminal()));

    /// <summary>A workflow's retry of a failed or cancelled step: queued when its parents are done, pending otherwise.</summary>
    public static Decision RetryStep(JobSnapshot job, bool parentsDone)
    {
        if (!job.InWorkflow || !Table.TryGetValue((job.State, JobTrigger.RetryStep), out var targets)) return Decision.Refused(job.State);
        return new Decision(true, job.State, parentsDone ? targets[0] : targets[1], null, false, false);
    }

    /// <summary>
    /// Decides what a failed attempt (reported, or an expired lease) leads to: cancelled when a cancel was requested,
    /// failed when the error is not retryable or no attempts are left, retrying after a backoff otherwise.
    /// </summary>
    public static Decision Fail(JobSnapshot job, Failure failure, RetryPolicy policy, DateTimeOffset now, Random? random = null)
    {
        if (job.State != JobState.Running)
        {
            return Decision.Refused(job.State);
        }
        if (job.CancelRequested)
        {
            return new Decision(true, job.State, JobState.Cancelled, null, true, false);
        }
        if (!failure.Retryable || job.Attempt >= job.MaxAttempts)
        {
            return new Decision(true, job.State, JobState.Failed, null, false, false);
        }
        var delay = failure.RetryInMs is { } ms ? TimeSpan.FromMilliseconds(ms) : policy.Backoff(job.Attempt, random);
        return new Decision(true, job.State, JobState.Retrying, now + delay, false, false);
    }
}
