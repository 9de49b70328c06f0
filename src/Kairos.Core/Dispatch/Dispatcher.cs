using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Metrics;
using Kairos.Core.Storage;
using Kairos.Core.Workers;

namespace Kairos.Core.Dispatch;

/// <summary>
/// Runs every job and worker operation through the store, then publishes what changed as domain events and wakes
/// whoever waits for it: long-polling fetchers on queued jobs, the maintenance loop on future run_at times.
/// </summary>
public sealed partial class Dispatcher(IKairosStore store, ReadySignal signal, EventBus events, MaintenanceClock maintenance, TimeProvider time, JobMetrics? metrics = null)
{
    /// <summary>How often a long-poll looks at the store again even without a wake-up (a safety net, not the mechanism).</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(5);

    public IKairosStore Store => store;

    public async Task<EnqueueResult> EnqueueAsync(Guid organizationId, NewJob job, CancellationToken cancellationToken)
    {
        var result = await store.Jobs.EnqueueAsync(new EnqueueParams(organizationId, job), cancellationToken);
        if (!result.Deduplicated)
        {
            Announce(Enqueued(result.Job));
        }
        return result;
    }

    public async Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(Guid organizationId, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        var results = await store.Jobs.EnqueueManyAsync(new EnqueueManyParams(organizationId, jobs), cancellationToken);
        var wake = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var r in results)
        {
            if (r.Deduplicated) continue;
            var change = Enqueued(r.Job);
            Publish(change);
            if (change.To == JobState.Queued)
            {
                wake[change.Queue] = wake.GetValueOrDefault(change.Queue) + 1;
            }
            else if (change.RunAt is { } at)
            {
                maintenance.WakeAt(at);
            }
        }
        foreach (var (queue, count) in wake)
        {
            Wake(organizationId, queue, count);
        }
        return results;
    }

    /// <summary>
    /// Leases jobs to a worker, waiting up to <paramref name="wait"/> for one to become ready. Returns null when the
    /// worker is unknown.
    /// </summary>
    /// <remarks>
    /// A wake-up is for one job, and the fetcher it reaches answers for it: it withdraws from the signal (so that later
    /// wake-ups go to others) and then looks at the store. That look settles the wake-up: the job is leased by it, or
    /// was already taken by someone else (a fetcher that was looking anyway, or one on another node), or cannot be taken
    /// by anyone now (a paused queue, a limit: the finish that frees the slot wakes again). Only a wake-up this fetcher
    /// could not answer for is passed on: it came while a look was already under way, the fetch ended before looking
    /// again, the worker may not take jobs (quiet), or the worker took as many jobs as it asked for, all from other
    /// queues. Passing on a wake-up that a look already settled would send it round the waiters for ever, one store
    /// round trip per hop, and with each finished job adding one, the waiters end up doing nothing else.
    /// </remarks>
    public async Task<IReadOnlyList<LeasedJob>?> FetchAsync(LeaseParams lease, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        var version = signal.Version;
        var result = await store.Jobs.LeaseAsync(lease, cancellationToken);
        while (true)
        {
            if (!result.WorkerFound) return null;
            if (result.Jobs.Count > 0)
            {
                foreach (var leased in result.Jobs)
                {
                    Publish(new JobChange(leased.Job.OrganizationId, leased.Job.Id, leased.Job.Queue, leased.Job.Type, JobState.Queued, JobState.Running, leased.Job.Attempt)
                    {
                        WorkerId = lease.WorkerId,
                    });
                }
                return result.Jobs;
            }
            var now = time.GetUtcNow();
            if (now >= deadline || cancellationToken.IsCancellationRequested) return [];

            // Register first, then look again if anything was announced since the version was read before the last
            // look: a job that became ready in between is found by that look, and one that becomes ready after the
            // registration wakes a waiter.
            var waiter = signal.Register(lease.OrganizationId, lease.Queues);
            var answered = false;
            try
            {
                if (signal.Version != version)
                {
                    version = signal.Version;
                    result = await store.Jobs.LeaseAsync(lease, cancellationToken);
                }
                if (result.Jobs.Count == 0 && result.WorkerFound)
                {
                    var pause = deadline - now;
                    if (pause > RecheckInterval) pause = RecheckInterval;
                    if (result.LimitedUntil is { } until && until - now < pause) pause = until - now;
                    if (pause > TimeSpan.Zero && !waiter.Woken.IsCompleted)
                    {
                        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        var delay = Task.Delay(pause, time, cts.Token);
                        await Task.WhenAny(waiter.Woken, delay);
                        await cts.CancelAsync();
                    }
                    var wokenBy = waiter.Withdraw();
                    version = signal.Version;
                    result = await store.Jobs.LeaseAsync(lease, cancellationToken);
                    answered = wokenBy is not null && Answers(result, lease.Max, wokenBy);
                }
            }
            finally
            {
                if (!answered && waiter.Withdraw() is { } wokenBy)
                {
                    // Woken for a job that no look of this fetch settled (see the remarks): pass it on, once.
                    signal.Notify(lease.OrganizationId, wokenBy);
                }
            }
        }
    }

    /// <summary>Whether a look at the store made after a wake-up for <paramref name="queue"/> settled it (see <see cref="FetchAsync"/>).</summary>
    private static bool Answers(LeaseResult result, int max, string queue)
    {
        if (!result.WorkerFound || !result.WorkerActive) return false;
        if (result.Jobs.Count < max) return true;
        foreach (var leased in result.Jobs)
        {
            if (string.Equals(leased.Job.Queue, queue, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    public async Task<CommandResult> AckAsync(AckParams p, CancellationToken cancellationToken) =>
        Announce(await store.Jobs.AckAsync(p, cancellationToken));

    public async Task<CommandResult> FailAsync(FailParams p, CancellationToken cancellationToken) =>
        Announce(await store.Jobs.FailAsync(p, cancellationToken));

    public async Task<IReadOnlyList<CommandResult>> CompleteManyAsync(CompleteManyParams p, CancellationToken cancellationToken)
    {
        var results = await store.Jobs.CompleteManyAsync(p, cancellationToken);
        foreach (var r in results)
        {
            Announce(r);
        }
        return results;
    }

    public async Task<JobHeartbeatResult> HeartbeatAsync(JobHeartbeatParams p, CancellationToken cancellationToken)
    {
        var result = await store.Jobs.HeartbeatAsync(p, cancellationToken);
        if (result.Status == CommandStatus.Applied && p.Progress is not null)
        {
            events.Publish("job.progress", p.OrganizationId, new { job_id = p.JobId, progress = p.Progress });
        }
        return result;
    }

    public Task<CommandResult> AppendLogsAsync(AppendLogsParams p, CancellationToken cancellationToken) =>
        store.Jobs.AppendLogsAsync(p, cancellationToken);

    public async Task<CommandResult> CancelAsync(JobCommandParams p, CancellationToken cancellationToken) =>
        Announce(await store.Jobs.CancelAsync(p, cancellationToken));

    public async Task<CommandResult> RetryAsync(JobCommandParams p, CancellationToken cancellationToken) =>
        Announce(await store.Jobs.RetryAsync(p, cancellationToken));

    public async Task<CommandResult> DeleteAsync(JobCommandParams p, CancellationToken cancellationToken) =>
        Announce(await store.Jobs.DeleteAsync(p, cancellationToken));

    /// <summary>One user command on many jobs (see <see cref="IJobStore.CommandManyAsync"/>); every change is announced.</summary>
    public async Task<IReadOnlyList<CommandResult>> CommandManyAsync(CommandManyParams p, CancellationToken cancellationToken)
    {
        var results = await store.Jobs.CommandManyAsync(p, cancellationToken);
        foreach (var r in results)
        {
            Announce(r);
        }
        return results;
    }

    public async Task<Worker> RegisterWorkerAsync(RegisterWorkerParams p, CancellationToken cancellationToken)
    {
        var worker = await store.Workers.RegisterAsync(p, cancellationToken);
        events.Publish("worker.registered", worker.OrganizationId, WorkerData(worker));
        return worker;
    }

    /// <summary>Deregisters a worker; its running jobs go back now. False when unknown.</summary>
    public async Task<bool> DeregisterWorkerAsync(WorkerParams p, CancellationToken cancellationToken)
    {
        var worker = await store.Workers.GetAsync(p, cancellationToken);
        var changes = worker is null ? null : await store.Workers.DeregisterAsync(p, cancellationToken);
        if (worker is null || changes is null) return false;
        Announce(changes);
        events.Publish("worker.deregistered", worker.OrganizationId, WorkerData(worker));
        return true;
    }

    /// <summary>Lost workers, expired leases and due jobs: one pass of the maintenance work.</summary>
    public async Task<MaintenancePass> RunMaintenanceAsync(TimeSpan workerHeartbeatTimeout, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var lost = await store.Workers.MarkLostAsync(new MarkLostParams(now - workerHeartbeatTimeout), cancellationToken);
        foreach (var w in lost.Workers)
        {
            events.Publish("worker.lost", w.OrganizationId, WorkerData(w));
        }
        Announce(lost.Changes);
        var expired = await store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), cancellationToken);
        Announce(expired);
        var promoted = await store.Jobs.PromoteDueAsync(new PromoteDueParams(), cancellationToken);
        Announce(promoted);
        return new MaintenancePass(lost.Workers.Count, expired.Count, promoted.Count);
    }

    private static WorkerEventData WorkerData(Worker w) => new(w.Id, w.Registration.Name, w.Registration.Host);

    internal static JobChange Enqueued(Job job) =>
        new(job.OrganizationId, job.Id, job.Queue, job.Type, null, job.State, job.Attempt) { RunAt = job.RunAt };

    private CommandResult Announce(CommandResult result)
    {
        if (result.Change is { } change)
        {
            Announce(change);
        }
        foreach (var c in result.Cascade)
        {
            Announce(c);
        }
        return result;
    }

    private void Announce(IReadOnlyList<JobChange> changes)
    {
        foreach (var c in changes)
        {
            Announce(c);
        }
    }

    /// <summary>Publishes a change and wakes whoever waits for it (fetchers, the maintenance loop).</summary>
    internal void Announce(JobChange change)
    {
        Publish(change);
        switch (change.To)
        {
            case JobState.Queued when !change.Removed:
                Wake(change.OrganizationId, change.Queue, 1);
                break;
            case JobState.Scheduled or JobState.Retrying when change.RunAt is { } at && !change.Removed:
                maintenance.WakeAt(at);
                break;
        }
        if (change.From == JobState.Running && change.To != JobState.Running && change.MayFreeSlot)
        {
            // A finished job frees a slot of its queue's concurrency limit.
            Wake(change.OrganizationId, change.Queue, 1);
        }
        if (change.WorkflowOutcome is { } outcome)
        {
            PublishWorkflow(change.OrganizationId, outcome);
        }
    }

    /// <summary>Wakes up to <paramref name="count"/> fetchers waiting on the queue, on this node and on the others.</summary>
    public void Wake(Guid organizationId, string queue, int count)
    {
        signal.Notify(organizationId, queue, count);
        store.Cluster?.NotifyReady(new ReadyNotice(organizationId, queue, count));
    }

    /// <summary>Publishes the change as an event and counts it for the metrics rollup (in memory: no write of its own).</summary>
    private void Publish(JobChange change)
    {
        metrics?.Record(change);
        events.Publish(EventTypes.For(change), change.OrganizationId, EventTypes.Data(change));
    }
}

public sealed record MaintenancePass(int LostWorkers, int ExpiredLeases, int Promoted);
