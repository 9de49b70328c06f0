using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;

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

    /// <summary>The organization's workflow template of that name, read in the firing's transaction; null when there is none.</summary>
    ValueTask<WorkflowTemplate?> WorkflowTemplateAsync(string name, CancellationToken cancellationToken);

    /// <summary>The derived state of a workflow of the organization; null when it no longer exists.</summary>
    ValueTask<WorkflowState?> WorkflowStateAsync(Guid workflowId, CancellationToken cancellationToken);

    /// <summary>Cancels a workflow's unfinished steps, as <see cref="IWorkflowStore.CancelAsync"/> does; the job changes made.</summary>
    ValueTask<IReadOnlyList<JobChange>> CancelWorkflowAsync(Guid workflowId, CancellationToken cancellationToken);

    /// <summary>Creates a workflow instance (marked with the schedule), as <see cref="IWorkflowStore.CreateAsync"/> does.</summary>
    ValueTask<Workflow> CreateWorkflowAsync(WorkflowDefinition definition, CancellationToken cancellationToken);

    /// <summary>Completes a claimed run: its job or workflow, or skipped.</summary>
    ValueTask RecordRunAsync(long run, Guid? jobId, Guid? workflowId, bool skipped, CancellationToken cancellationToken);

    /// <summary>Writes the schedule's position: next fire time, latest fire time, latest run's job or workflow.</summary>
    ValueTask SaveAsync(DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, Guid? lastJobId, Guid? lastWorkflowId, CancellationToken cancellationToken);
}

/// <summary>
/// What a firing writes, the same for every store: for each fire time of the <see cref="FirePlan"/> the run is claimed
/// (once per fire time), the overlap policy consulted with the previous run's state, the previous run cancelled
/// (replace) or the fire time skipped (skip), the job enqueued or the workflow instance created from the template as it
/// is at that moment (the instance copies the steps: a later change of the template does not reach it); then the
/// schedule's next fire time is saved.
/// </summary>
public static class ScheduleFirings
{
    public const string SkippedForOverlap = "overlap";
    public const string SkippedForMissingTemplate = "template_missing";

    public static async Task<ScheduleFiring> FireAsync(Schedule s, FirePlan plan, IFiringSession session, CancellationToken cancellationToken)
    {
        var runs = new List<FiredRun>(plan.Fires.Count);
        var cancelled = new List<JobChange>();
        var lastJob = s.LastJobId;
        var lastWorkflow = s.LastWorkflowId;
        var lastFire = s.LastFireAt;
        var workflow = s.Definition.Workflow;
        foreach (var fire in plan.Fires)
        {
            if (await session.ClaimRunAsync(fire.FireTime, manual: false, cancellationToken) is not { } run) continue;
            lastFire = fire.FireTime;
            var decision = workflow is null
                ? SchedulePlanner.Overlap(s.Definition.Overlap, lastJob is { } id ? await session.JobStateAsync(id, cancellationToken) : null)
                : SchedulePlanner.Overlap(s.Definition.Overlap, lastWorkflow is { } wid ? await session.WorkflowStateAsync(wid, cancellationToken) : null);
            if (decision == OverlapDecision.Skip)
            {
                await session.RecordRunAsync(run, null, null, skipped: true, cancellationToken);
                runs.Add(new FiredRun(fire.FireTime, false, null, Skipped: true, fire.Late, null, SkipReason: SkippedForOverlap));
                continue;
            }
            Guid? replaced = null;
            if (workflow is not null)
            {
                if (decision == OverlapDecision.ReplaceThenFire)
                {
                    var changes = await session.CancelWorkflowAsync(lastWorkflow!.Value, cancellationToken);
                    cancelled.AddRange(changes);
                    if (changes.Count > 0) replaced = lastWorkflow;
                }
                if (await session.WorkflowTemplateAsync(workflow, cancellationToken) is not { } template)
                {
                    await session.RecordRunAsync(run, null, null, skipped: true, cancellationToken);
                    runs.Add(new FiredRun(fire.FireTime, false, null, Skipped: true, fire.Late, replaced, SkipReason: SkippedForMissingTemplate));
                    continue;
                }
                var instance = await session.CreateWorkflowAsync(template.Instantiate(fire.RunAt), cancellationToken);
                await session.RecordRunAsync(run, null, instance.Id, skipped: false, cancellationToken);
                lastWorkflow = instance.Id;
                runs.Add(new FiredRun(fire.FireTime, false, null, false, fire.Late, replaced, instance));
                continue;
            }
            if (decision == OverlapDecision.ReplaceThenFire && await session.CancelAsync(lastJob!.Value, cancellationToken) is { } change)
            {
                cancelled.Add(change);
                replaced = change.JobId;
            }
            var job = await session.EnqueueAsync(s.Definition.Job!.ToNewJob(fire.RunAt, SchedulePlanner.UniqueKey(s.Id, fire.FireTime)), cancellationToken);
            await session.RecordRunAsync(run, job.Id, null, skipped: false, cancellationToken);
            lastJob = job.Id;
            runs.Add(new FiredRun(fire.FireTime, false, job, false, fire.Late, replaced));
        }
        await session.SaveAsync(plan.NextFireAt, lastFire, lastJob, lastWorkflow, cancellationToken);
        return new ScheduleFiring(s.OrganizationId, s.Id, s.Name, s.Definition.CatchUp, runs, plan.Misfire, cancelled, plan.NextFireAt);
    }

    /// <summary>
    /// A manual run now: the template's job or workflow, whatever the overlap policy or pause; the schedule's next fire
    /// time stays. Null when the schedule's workflow template is gone (nothing is written then).
    /// </summary>
    public static async Task<ScheduleFiring?> TriggerAsync(Schedule s, DateTimeOffset now, IFiringSession session, CancellationToken cancellationToken)
    {
        if (s.Definition.Workflow is { } workflow)
        {
            if (await session.WorkflowTemplateAsync(workflow, cancellationToken) is not { } template) return null;
            var wrun = await session.ClaimRunAsync(now, manual: true, cancellationToken) ?? throw new InvalidOperationException("A manual run cannot conflict.");
            var instance = await session.CreateWorkflowAsync(template.Instantiate(now), cancellationToken);
            await session.RecordRunAsync(wrun, null, instance.Id, skipped: false, cancellationToken);
            await session.SaveAsync(s.NextFireAt, s.LastFireAt, s.LastJobId, instance.Id, cancellationToken);
            return new ScheduleFiring(s.OrganizationId, s.Id, s.Name, s.Definition.CatchUp, [new FiredRun(now, true, null, false, false, null, instance)], null, [],
                s.NextFireAt);
        }
        var run = await session.ClaimRunAsync(now, manual: true, cancellationToken) ?? throw new InvalidOperationException("A manual run cannot conflict.");
        var job = await session.EnqueueAsync(s.Definition.Job!.ToNewJob(now, null), cancellationToken);
        await session.RecordRunAsync(run, job.Id, null, skipped: false, cancellationToken);
        await session.SaveAsync(s.NextFireAt, s.LastFireAt, job.Id, s.LastWorkflowId, cancellationToken);
        return new ScheduleFiring(s.OrganizationId, s.Id, s.Name, s.Definition.CatchUp, [new FiredRun(now, true, job, false, false, null)], null, [], s.NextFireAt);
    }
}
