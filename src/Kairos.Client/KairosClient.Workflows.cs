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

    // ---- workflow templates ----

    /// <summary>Creates or replaces the workflow template named as the builder (payloads with the client's payload options).</summary>
    public Task<WorkflowTemplate> PutWorkflowTemplateAsync(WorkflowBuilder template, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(template);
        return PutWorkflowTemplateAsync(template.Name, template.Build(Options.PayloadSerializerOptions, Options.DefaultQueue), cancellationToken);
    }

    /// <summary>
    /// Creates or replaces a workflow template; its steps are checked as a workflow's (a graph error is a 422 naming the
    /// steps). Instances already made keep their steps.
    /// </summary>
    public Task<WorkflowTemplate> PutWorkflowTemplateAsync(string name, WorkflowDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var body = new WorkflowDefinition { Name = name, Steps = definition.Steps };
        return SendAsync(HttpMethod.Put, WorkflowTemplatePath(name), Json(body, KairosWorkflowJson.Default.WorkflowDefinition),
            KairosWorkflowJson.Default.WorkflowTemplate, idempotent: true, cancellationToken);
    }

    public Task<WorkflowTemplate> GetWorkflowTemplateAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, WorkflowTemplatePath(name), null, KairosWorkflowJson.Default.WorkflowTemplate, idempotent: true, cancellationToken);

    /// <summary>The organization's workflow templates by name.</summary>
    public Task<Page<WorkflowTemplate>> ListWorkflowTemplatesAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/workflow-templates" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosWorkflowJson.Default.PageWorkflowTemplate, idempotent: true, cancellationToken);

    /// <summary>Deletes a workflow template; a conflict (409) while a schedule starts it.</summary>
    public Task DeleteWorkflowTemplateAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, WorkflowTemplatePath(name), null, idempotent: false, cancellationToken);

    /// <summary>Makes a workflow instance from the template as it is now.</summary>
    public Task<Workflow> RunWorkflowTemplateAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, WorkflowTemplatePath(name) + "/run", null, KairosWorkflowJson.Default.Workflow, idempotent: false, cancellationToken);

    private static string WorkflowTemplatePath(string name) => $"api/v1/workflow-templates/{Uri.EscapeDataString(name)}";
}
