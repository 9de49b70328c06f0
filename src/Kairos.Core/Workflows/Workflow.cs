using Kairos.Core.Jobs;

namespace Kairos.Core.Workflows;

/// <summary>
/// Where a workflow stands, derived from its steps (<see cref="WorkflowRules.Derive"/>): running while a step is
/// unfinished; then failed when a step failed (one not marked continue_on_failure), cancelled when a step was
/// cancelled, succeeded otherwise.
/// </summary>
public enum WorkflowState
{
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>One step of a workflow to create: a job template, the steps it waits for, and what its failure does.</summary>
public sealed record WorkflowStepDefinition
{
    /// <summary>Unique within the workflow; <see cref="DependsOn"/> of other steps names it.</summary>
    public required string Id { get; init; }
    /// <summary>The step's job (its run_at and unique key are not used: a step starts when its parents are done).</summary>
    public required NewJob Job { get; init; }
    /// <summary>The steps that must succeed before this one starts.</summary>
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    /// <summary>When this step fails, its children start anyway (and the workflow does not fail for it).</summary>
    public bool ContinueOnFailure { get; init; }
}

/// <summary>A workflow to create: a name (a label, not unique) and a DAG of steps. Validated by <see cref="WorkflowGraph"/>.</summary>
public sealed record WorkflowDefinition
{
    public required string Name { get; init; }
    public required IReadOnlyList<WorkflowStepDefinition> Steps { get; init; }
}

/// <summary>
/// A workflow as stored: its counters (kept by the store in the transaction of every step's last transition) and,
/// when loaded in full, its steps in the order they were given.
/// </summary>
public sealed record Workflow
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required int StepsTotal { get; init; }
    /// <summary>Steps whose job has not reached a final state.</summary>
    public required int UnfinishedSteps { get; init; }
    /// <summary>Steps that failed and are not marked continue_on_failure.</summary>
    public int FailedSteps { get; init; }
    /// <summary>Steps cancelled (by a user, or because a step they depend on failed).</summary>
    public int CancelledSteps { get; init; }
    /// <summary>A user cancelled the workflow (running steps finish when their workers see the cancel request).</summary>
    public bool CancelRequested { get; init; }
    /// <summary>The schedule whose firing created it, if any.</summary>
    public Guid? ScheduleId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    /// <summary>When the last unfinished step finished; null while running.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>The steps with their jobs (empty in lists).</summary>
    public IReadOnlyList<WorkflowStep> Steps { get; init; } = [];

    public WorkflowState State => WorkflowRules.Derive(UnfinishedSteps, FailedSteps, CancelledSteps);
}

/// <summary>A step as stored, with its job as it is now (null once the job was deleted).</summary>
/// <param name="UnfinishedParents">Parents that have not yet let this step go (succeeded, or failed with continue_on_failure).</param>
public sealed record WorkflowStep(string Id, int Position, IReadOnlyList<string> DependsOn, bool ContinueOnFailure, int UnfinishedParents, Guid JobId, Job? Job);

/// <summary>A workflow that reached a final state in the transaction that reported it (for the <c>workflow.*</c> events).</summary>
public sealed record WorkflowOutcome(Guid WorkflowId, string Name, WorkflowState State);

public static class WorkflowStates
{
    public static string ToWire(this WorkflowState s) => s switch
    {
        WorkflowState.Running => "running",
        WorkflowState.Succeeded => "succeeded",
        WorkflowState.Failed => "failed",
        WorkflowState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static bool TryParse(string? value, out WorkflowState state)
    {
        foreach (var s in Enum.GetValues<WorkflowState>())
        {
            if (string.Equals(s.ToWire(), value, StringComparison.Ordinal))
            {
                state = s;
                return true;
            }
        }
        state = default;
        return false;
    }
}
