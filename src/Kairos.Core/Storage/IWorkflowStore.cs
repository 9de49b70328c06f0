using Kairos.Core.Jobs;
using Kairos.Core.Workflows;

namespace Kairos.Core.Storage;

/// <summary>
/// Workflows: DAGs of jobs. A workflow and all its jobs are created in one transaction (roots queued, the others
/// pending). The rest happens where the jobs change: the transaction that finishes a step (ack, failure, cancel, an
/// expired lease) also starts the children whose parents are now all done (a per-step count of unfinished parents,
/// so a join of 1,000 parents starts exactly once and checks one row), cancels the descendants of a failed step, and
/// keeps the workflow's counters, from which its state is derived (<see cref="WorkflowRules"/>). Jobs of no workflow
/// pay nothing for this: that work runs only for rows that carry a workflow id.
/// </summary>
public interface IWorkflowStore
{
    /// <summary>Creates the workflow and its jobs, all or nothing. The definition must have passed <see cref="WorkflowGraph.Validate"/>.</summary>
    Task<Workflow> CreateAsync(CreateWorkflowParams p, CancellationToken cancellationToken);

    /// <summary>The workflow with its steps and their jobs (without attempts and logs); null when unknown in the organization.</summary>
    Task<Workflow?> GetAsync(WorkflowParams p, CancellationToken cancellationToken);

    /// <summary>The organization's workflows, newest first, without steps.</summary>
    Task<Page<Workflow>> ListAsync(ListWorkflowsParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels every unfinished step through the job state machine (running ones get a cancel request their workers
    /// see), in one transaction. Null when unknown.
    /// </summary>
    Task<WorkflowCommandResult?> CancelAsync(WorkflowParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the failed and cancelled steps of a finished workflow again (<see cref="WorkflowRules.PlanRetry"/>), in
    /// one transaction; succeeded steps keep their results. Null when unknown.
    /// </summary>
    Task<WorkflowCommandResult?> RetryAsync(WorkflowParams p, CancellationToken cancellationToken);

    /// <summary>
    /// The parents of these workflow steps' jobs, each with its state and result, keyed by the child's job id (jobs of
    /// no workflow, and roots, are absent). This is how a step's job sees its parents' results.
    /// </summary>
    Task<IReadOnlyDictionary<Guid, IReadOnlyList<ParentResult>>> ParentsAsync(ParentsParams p, CancellationToken cancellationToken);
}

public sealed record ParentsParams(Guid OrganizationId, IReadOnlyList<Guid> JobIds);

/// <summary>A parent step of a job: its step id, job, state and result (raw JSON, once succeeded).</summary>
public sealed record ParentResult(string Step, Guid JobId, JobState State, string? Result);

/// <param name="ScheduleId">The schedule whose firing creates it, if any.</param>
public sealed record CreateWorkflowParams(Guid OrganizationId, WorkflowDefinition Definition, Guid? ScheduleId = null);

public sealed record WorkflowParams(Guid OrganizationId, Guid WorkflowId);

public sealed record ListWorkflowsParams(Guid OrganizationId)
{
    public WorkflowState? State { get; init; }
    public string? Name { get; init; }
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

/// <param name="Applied">False when the state did not allow it (nothing to cancel, or nothing to retry); nothing changed then.</param>
/// <param name="Workflow">The workflow after the command, with its steps.</param>
/// <param name="Changes">The job transitions made, for events and wake-ups.</param>
public sealed record WorkflowCommandResult(bool Applied, Workflow Workflow, IReadOnlyList<JobChange> Changes);
