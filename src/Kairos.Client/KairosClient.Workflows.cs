using System.Globalization;

namespace Kairos.Client;

public sealed partial class KairosClient
{
    // ---- workflows ----

    /// <summary>Creates a workflow built with <see cref="WorkflowBuilder"/>: payloads with the client's payload options, steps without a queue on the default queue.</summary>
    public Task<Workflow> CreateWorkflowAsync(WorkflowBuilder workflow, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return CreateWorkflowAsync(workflow.Build(Options.PayloadSerializerOptions, Options.DefaultQueue), cancellationToken);
    }

    /// <summary>
    /// Creates a workflow and all its jobs at once (roots queued, the others pending). A graph the server refuses (an
    /// unknown parent, a duplicate id, a cycle) is a <see cref="KairosException"/> with status 422 naming the steps.
    /// </summary>
    public Task<Workflow> CreateWorkflowAsync(WorkflowDefinition workflow, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/workflows", Json(workflow, KairosWorkflowJson.Default.WorkflowDefinition), KairosWorkflowJson.Default.Workflow,
            idempotent: false, cancellationToken);

    /// <summary>A workflow with its steps (each with its job's state and result) and edges.</summary>
    public Task<Workflow> GetWorkflowAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/workflows/{id}", null, KairosWorkflowJson.Default.Workflow, idempotent: true, cancellationToken);

    /// <summary>One page of workflows, newest first, without their steps.</summary>
    public Task<Page<Workflow>> ListWorkflowsAsync(WorkflowQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new WorkflowQuery();
        var q = new Query().Add("state", query.State).Add("name", query.Name).Add("limit", query.Limit?.ToString(CultureInfo.InvariantCulture))
            .Add("cursor", query.Cursor);
        return SendAsync(HttpMethod.Get, "api/v1/workflows" + q, null, KairosWorkflowJson.Default.PageWorkflow, idempotent: true, cancellationToken);
    }

    /// <summary>Cancels every unfinished step (running ones are asked to stop through their workers); 409 when nothing is left to cancel.</summary>
    public Task<Workflow> CancelWorkflowAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/workflows/{id}/cancel", null, KairosWorkflowJson.Default.Workflow, idempotent: false, cancellationToken);

    /// <summary>Runs the failed and cancelled steps of a finished workflow again (succeeded steps keep their results); 409 while it runs or when it succeeded.</summary>
    public Task<Workflow> RetryWorkflowAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/workflows/{id}/retry", null, KairosWorkflowJson.Default.Workflow, idempotent: false, cancellationToken);
}
