using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Core.Schedules;

/// <summary>
/// A store's side of one firing, inside the transaction that read (and locked) the schedule row: the firing writes
/// through it and commits all or nothing.
/// </summary>
public interface IFiringSession
{
    /// <summary>Inserts the run of a fire time; null when a scheduled run of that fire time exists already (fired before).</summary>
    ValueTask<long?> ClaimRunAsync(DateTimeOffset fireTime, bool manual, CancellationToken cancellationToken);

    /// <summary>The state of a job of the schedule's organization; null when it no longer exists.</summary>
    ValueTask<JobState?> JobStateAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>Cancels a job as <see cref="JobStateMachine"/> decides (a running one gets a cancel request); null when nothing changed.</summary>
    ValueTask<JobChange?> CancelAsync(Guid jobId, CancellationToken cancellationToken);

    /// <summary>Enqueues a job in the schedule's organization, as <see cref="IJobStore.EnqueueAsync"/> does.</summary>
    ValueTask<Job> EnqueueAsync(NewJob job, CancellationToken cancellationToken);

    /// <summary>Completes a claimed run: its job, or skipped.</summary>
    ValueTask RecordRunAsync(long run, Guid? jobId, bool skipped, CancellationToken cancellationToken);

    /// <summary>Writes the schedule's position: next fire time, latest fire time, latest run's job.</summary>
    ValueTask SaveAsync(DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, Guid? lastJobId, CancellationToken cancellationToken);
}

/// <summary>
/// What a firing writes, the same for every store: for each fire time of the <see cref="FirePlan"/> the run is claimed
/// (once per fire time), the overlap policy consulted with the previous run's state, the previous run cancelled
/// (replace) or the fire time skipped (skip), the job enqueued; then the schedule's next fire time is saved.
/// </summary>
public static class ScheduleFirings
{
    public static async Task<ScheduleFiring> FireAsync(Schedule s, FirePlan plan, IFiringSession session, CancellationToken cancellationToken)
    {
        var runs = new List<FiredRun>(plan.Fires.Count);
        var cancelled = new List<JobChange>();
        var lastJob = s.LastJobId;
        var lastFire = s.LastFireAt;
        foreach (var fire in plan.Fires)
        {
            if (await session.ClaimRunAsync(fire.FireTime, manual: false, cancellationToken) is not { } run) continue;
            lastFire = fire.FireTime;
            var previous = lastJob is { } id ? await session.JobStateAsync(id, cancellationToken) : null;
            var decision = SchedulePlanner.Overlap(s.Definition.Overlap, previous);
            if (decision == OverlapDecision.Skip)
            {
                await session.RecordRunAsync(run, null, skipped: true, cancellationToken);
                runs.Add(new FiredRun(fire.FireTime, false, null, Skipped: true, fire.Late, null));
                continue;
            }
            Guid? replaced = null;
            if (decision == OverlapDecision.ReplaceThenFire && await session.CancelAsync(lastJob!.Value, cancellationToken) is { } change)
            {
                cancelled.Add(change);
                replaced = change.JobId;
            }
            var job = await session.EnqueueAsync(s.Definition.Job.ToNewJob(fire.RunAt, SchedulePlanner.UniqueKey(s.Id, fire.FireTime)), cancellationToken);
            await session.RecordRunAsync(run, job.Id, skipped: false, cancellationToken);
            lastJob = job.Id;
            runs.Add(new FiredRun(fire.FireTime, false, job, false, fire.Late, replaced));
        }
        await session.SaveAsync(plan.NextFireAt, lastFire, lastJob, cancellationToken);
        return new ScheduleFiring(s.OrganizationId, s.Id, s.Name, s.Definition.CatchUp, runs, plan.Misfire, cancelled, plan.NextFireAt);
    }

    /// <summary>A manual run now: the template's job, whatever the overlap policy or pause; the schedule's next fire time stays.</summary>
    public static async Task<ScheduleFiring> TriggerAsync(Schedule s, DateTimeOffset now, IFiringSession session, CancellationToken cancellationToken)
    {
        var run = await session.ClaimRunAsync(now, manual: true, cancellationToken) ?? throw new InvalidOperationException("A manual run cannot conflict.");
        var job = await session.EnqueueAsync(s.Definition.Job.ToNewJob(now, null), cancellationToken);
        await session.RecordRunAsync(run, job.Id, skipped: false, cancellationToken);
        await session.SaveAsync(s.NextFireAt, s.LastFireAt, job.Id, cancellationToken);
        return new ScheduleFiring(s.OrganizationId, s.Id, s.Name, s.Definition.CatchUp, [new FiredRun(now, true, job, false, false, null)], null, [], s.NextFireAt);
    }
}
