using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;

namespace Kairos.Core.Dispatch;

/// <summary>The data of a <c>workflow.*</c> event.</summary>
public sealed record WorkflowEventData(Guid WorkflowId, string Name, string State);

/// <summary>Workflows through the dispatcher: the store does the work, then the jobs' and the workflow's events go out and fetchers wake.</summary>
public sealed partial class Dispatcher
{
    /// <summary>Creates a workflow (validated already) and announces its jobs: roots enqueued (queued), the others pending.</summary>
    public async Task<Workflow> CreateWorkflowAsync(CreateWorkflowParams p, CancellationToken cancellationToken)
    {
        var workflow = await store.Workflows.CreateAsync(p, cancellationToken);
        AnnounceCreated(workflow);
        return workflow;
    }

    /// <summary>Announces a workflow created (here or by a schedule's firing): <c>workflow.created</c>, its jobs' <c>job.enqueued</c>, and wakes fetchers.</summary>
    public void AnnounceCreated(Workflow workflow)
    {
        events.Publish("workflow.created", workflow.OrganizationId, Data(workflow));
        var wake = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var step in workflow.Steps)
        {
            if (step.Job is not { } job) continue;
            Publish(Enqueued(job) with { WorkflowId = workflow.Id });
            if (job.State == JobState.Queued) wake[job.Queue] = wake.GetValueOrDefault(job.Queue) + 1;
        }
        foreach (var (queue, count) in wake) Wake(workflow.OrganizationId, queue, count);
    }

    /// <summary>Cancels a workflow's unfinished steps; null when unknown.</summary>
    public async Task<WorkflowCommandResult?> CancelWorkflowAsync(WorkflowParams p, CancellationToken cancellationToken) =>
        Announce("workflow.cancel_requested", await store.Workflows.CancelAsync(p, cancellationToken));

    /// <summary>Runs a finished workflow's failed and cancelled steps again; null when unknown.</summary>
    public async Task<WorkflowCommandResult?> RetryWorkflowAsync(WorkflowParams p, CancellationToken cancellationToken) =>
        Announce("workflow.retried", await store.Workflows.RetryAsync(p, cancellationToken));

    private WorkflowCommandResult? Announce(string type, WorkflowCommandResult? result)
    {
        if (result is { Applied: true })
        {
            events.Publish(type, result.Workflow.OrganizationId, Data(result.Workflow));
            Announce(result.Changes);
        }
        return result;
    }

    private static WorkflowEventData Data(Workflow w) => new(w.Id, w.Name, w.State.ToWire());

    private void PublishWorkflow(Guid organizationId, WorkflowOutcome outcome) =>
        events.Publish("workflow." + outcome.State.ToWire(), organizationId, new WorkflowEventData(outcome.WorkflowId, outcome.Name, outcome.State.ToWire()));
}
