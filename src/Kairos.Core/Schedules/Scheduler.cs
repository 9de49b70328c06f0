using Kairos.Core.Dispatch;
using Kairos.Core.Events;
using Kairos.Core.Storage;

namespace Kairos.Core.Schedules;

/// <summary>
/// The data of <c>schedule.fired</c>: a run was made for a fire time (or by a trigger): a job (<c>job_id</c>), or a
/// workflow instance (<c>workflow_id</c>; <c>replaced_workflow_id</c> when the replace policy cancelled the previous one).
/// </summary>
public sealed record ScheduleFiredData(string Schedule, Guid ScheduleId, DateTimeOffset FireTime, Guid? JobId, DateTimeOffset RunAt, bool Manual, bool Late,
    Guid? ReplacedJobId, Guid? WorkflowId = null, Guid? ReplacedWorkflowId = null);

/// <summary>The data of <c>schedule.skipped</c>: the overlap policy skipped a fire time while the previous run was unfinished.</summary>
public sealed record ScheduleSkippedData(string Schedule, Guid ScheduleId, DateTimeOffset FireTime, string Reason);

/// <summary>The data of <c>schedule.misfired</c>: fire times missed by more than the tolerance (downtime), and how many still ran.</summary>
public sealed record ScheduleMisfiredData(string Schedule, Guid ScheduleId, long Missed, int CaughtUp, DateTimeOffset FirstMissedAt, DateTimeOffset LastMissedAt, string CatchUp);

/// <summary>The data of <c>schedule.created</c>, <c>.updated</c>, <c>.deleted</c>, <c>.paused</c>, <c>.resumed</c>.</summary>
public sealed record ScheduleEventData(string Schedule, Guid ScheduleId, string? Reason = null);

/// <summary>
/// Fires schedules: a loop, run by the leader only (as the maintenance loop), that wakes at the earliest next fire
/// time (or every <see cref="Interval"/>, or when told of a change), fires every due schedule through the store, and
/// publishes what happened: the jobs (as any enqueue), <c>schedule.fired</c>, <c>schedule.skipped</c>,
/// <c>schedule.misfired</c>. Manual triggers go through it too.
/// </summary>
public sealed class Scheduler(IKairosStore store, Dispatcher dispatcher, EventBus events, TimeProvider time)
{
    /// <summary>The loop looks at the store at least this often (another node may have changed a schedule).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly MaintenanceClock _clock = new(time);

    /// <summary>Called with each failure of a pass or of one schedule's firing; the loop goes on.</summary>
    public Action<Exception>? OnError { get; set; }

    /// <summary>The tolerance of misfires; null is <see cref="SchedulePlanner.MisfireTolerance"/>.</summary>
    public TimeSpan? MisfireTolerance { get; init; }

    /// <summary>Tells the loop that a schedule may fire at <paramref name="at"/> (a schedule created or changed on this node).</summary>
    public void WakeAt(DateTimeOffset? at)
    {
        if (at is { } t) _clock.WakeAt(t);
    }

    /// <summary>One pass: fires every due schedule. Answers how many firings happened.</summary>
    public async Task<int> FireDueAsync(CancellationToken cancellationToken)
    {
        var fired = 0;
        while (true)
        {
            var due = await store.Schedules.ListDueAsync(new ListDueSchedulesParams(), cancellationToken);
            if (due.Count == 0) return fired;
            var progress = 0;
            foreach (var d in due)
            {
                try
                {
                    if (await store.Schedules.FireAsync(new FireScheduleParams(d.OrganizationId, d.ScheduleId, MisfireTolerance), cancellationToken) is { } firing)
                    {
                        Announce(firing);
                        fired++;
                        progress++;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // One schedule that cannot fire (its row, its template) does not hold up the others.
                    OnError?.Invoke(ex);
                }
            }
            // Nothing more to do, or nothing that gets anywhere (schedules that fail are retried by the next pass).
            // Otherwise look again: a full page, or a long downtime worked off in steps.
            if (progress == 0) return fired;
        }
    }

    /// <summary>Runs the schedule's template now; null when the organization has no schedule of that name.</summary>
    public async Task<ScheduleFiring?> TriggerAsync(Guid organizationId, string name, CancellationToken cancellationToken)
    {
        var firing = await store.Schedules.TriggerAsync(new ScheduleParams(organizationId, name), cancellationToken);
        if (firing is not null) Announce(firing);
        return firing;
    }

    /// <summary>Fires due schedules until cancelled (leadership lost, shutdown).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            DateTimeOffset? next = null;
            try
            {
                await FireDueAsync(cancellationToken);
                next = await store.Schedules.NextFireAsync(cancellationToken);
                // Still due after a pass: a schedule that fails to fire. Retry it at the regular interval, not in a spin.
                if (next is { } n && n <= time.GetUtcNow()) next = null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                OnError?.Invoke(ex);
            }
            try
            {
                await _clock.WaitAsync(next, Interval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Announce(ScheduleFiring firing)
    {
        foreach (var cancelled in firing.Cancelled) dispatcher.Announce(cancelled);
        if (firing.Misfire is { } m)
        {
            events.Publish("schedule.misfired", firing.OrganizationId, new ScheduleMisfiredData(firing.Name, firing.ScheduleId, m.Missed, m.CaughtUp,
                m.FirstMissed, m.LastMissed, firing.CatchUp.ToWire()));
        }
        foreach (var run in firing.Runs)
        {
            if (run.Job is { } job)
            {
                dispatcher.Announce(Dispatcher.Enqueued(job));
                events.Publish("schedule.fired", firing.OrganizationId,
                    new ScheduleFiredData(firing.Name, firing.ScheduleId, run.FireTime, job.Id, job.RunAt, run.Manual, run.Late, run.Replaced));
            }
            else if (run.Workflow is { } workflow)
            {
                dispatcher.AnnounceCreated(workflow);
                events.Publish("schedule.fired", firing.OrganizationId,
                    new ScheduleFiredData(firing.Name, firing.ScheduleId, run.FireTime, null, run.FireTime, run.Manual, run.Late, null, workflow.Id, run.Replaced));
            }
            else if (run.Skipped)
            {
                events.Publish("schedule.skipped", firing.OrganizationId,
                    new ScheduleSkippedData(firing.Name, firing.ScheduleId, run.FireTime, run.SkipReason ?? ScheduleFirings.SkippedForOverlap));
            }
        }
    }
}
