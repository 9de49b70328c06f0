using Kairos.Core.Jobs;

namespace Kairos.Core.Workflows;

/// <summary>What a step's final state does to the steps after it.</summary>
public enum StepRelease
{
    /// <summary>Not a final state: nothing yet.</summary>
    None,
    /// <summary>Its children count it as done (succeeded, or failed with continue_on_failure): each child whose parents are all done starts.</summary>
    Release,
    /// <summary>Its descendants that still wait are cancelled (failed, or cancelled).</summary>
    Block,
}

/// <summary>
/// The workflow rules, the same for every store: what a step's end does to the others, how the workflow's state is
/// derived, and what a retry from the failed steps resets. Stores apply them in the transaction of the step's
/// transition (an ack, a failure, a cancel), so that a crash never leaves a child waiting for a parent that is done.
/// </summary>
public static class WorkflowRules
{
    /// <summary>Most steps a workflow may have.</summary>
    public const int MaxSteps = 5_000;

    public static StepRelease OnFinished(JobState to, bool continueOnFailure) => to switch
    {
        JobState.Succeeded => StepRelease.Release,
        JobState.Failed => continueOnFailure ? StepRelease.Release : StepRelease.Block,
        JobState.Cancelled => StepRelease.Block,
        _ => StepRelease.None,
    };

    /// <summary>How a step's final state counts in the workflow's counters: (failed, cancelled) increments.</summary>
    public static (int Failed, int Cancelled) Counts(JobState to, bool continueOnFailure) => to switch
    {
        JobState.Failed when !continueOnFailure => (1, 0),
        JobState.Cancelled => (0, 1),
        _ => (0, 0),
    };

    public static WorkflowState Derive(int unfinishedSteps, int failedSteps, int cancelledSteps) =>
        unfinishedSteps > 0 ? WorkflowState.Running
        : failedSteps > 0 ? WorkflowState.Failed
        : cancelledSteps > 0 ? WorkflowState.Cancelled
        : WorkflowState.Succeeded;

    /// <summary>The state a new step's job starts in: roots are queued, the others wait for their parents.</summary>
    public static JobState Initial(WorkflowStepDefinition step) =>
        JobStateMachine.Enqueue(DateTimeOffset.MinValue, DateTimeOffset.MinValue, waitsForParents: step.DependsOn.Count > 0);

    /// <summary>
    /// A retry from the failed steps of a finished workflow: every step whose job failed or was cancelled runs again
    /// (succeeded steps are not re-run), queued when all its parents succeeded, otherwise waiting for those that run
    /// again. Null when the workflow may not be retried: it is still running, nothing failed or was cancelled, or a
    /// step's job was deleted.
    /// </summary>
    public static IReadOnlyList<StepRetry>? PlanRetry(Workflow workflow)
    {
        if (workflow.State == WorkflowState.Running) return null;
        var states = new Dictionary<string, JobState>(StringComparer.Ordinal);
        foreach (var step in workflow.Steps)
        {
            if (step.Job is null) return null;
            states[step.Id] = step.Job.State;
        }
        var plan = new List<StepRetry>();
        foreach (var step in workflow.Steps)
        {
            if (step.Job!.State is not (JobState.Failed or JobState.Cancelled)) continue;
            var waiting = step.DependsOn.Count(p => states[p] != JobState.Succeeded);
            var snapshot = new JobSnapshot(step.Job.State, step.Job.Attempt, step.Job.MaxAttempts, step.Job.CancelRequested, InWorkflow: true);
            var decision = JobStateMachine.RetryStep(snapshot, parentsDone: waiting == 0);
            if (!decision.Allowed) return null;
            plan.Add(new StepRetry(step.Id, step.JobId, step.Job.State, decision.To, waiting));
        }
        return plan.Count == 0 ? null : plan;
    }
}

/// <summary>One step a retry runs again: its job goes from <paramref name="From"/> to <paramref name="To"/> (queued or pending).</summary>
public sealed record StepRetry(string StepId, Guid JobId, JobState From, JobState To, int UnfinishedParents);
