using System.Data.Common;
using Kairos.Core.Workflows;

namespace Kairos.Core.Storage;

/// <summary>
/// Named workflow templates per organization. A template's steps are one JSON document on its row
/// (<see cref="WorkflowTemplate.StepsJson"/>), validated before they reach the store; instances copy them, so a put or
/// a delete never changes a workflow already made. A template that a schedule starts cannot be deleted.
/// </summary>
public interface IWorkflowTemplateStore
{
    /// <summary>Creates the template or replaces its steps (and <c>managed_by</c>); <c>Created</c> says which.</summary>
    Task<(WorkflowTemplate Template, bool Created)> PutAsync(PutWorkflowTemplateParams p, CancellationToken cancellationToken);

    Task<WorkflowTemplate?> GetAsync(WorkflowTemplateParams p, CancellationToken cancellationToken);

    /// <summary>The organization's templates by name.</summary>
    Task<Page<WorkflowTemplate>> ListAsync(ListWorkflowTemplatesParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the template unless a schedule of the organization starts it (then nothing changes and the answer names
    /// those schedules), in one transaction.
    /// </summary>
    Task<DeleteWorkflowTemplateResult> DeleteAsync(WorkflowTemplateParams p, CancellationToken cancellationToken);
}

/// <param name="ManagedBy">What manages the template (e.g. <c>manifest</c>), null for by hand.</param>
public sealed record PutWorkflowTemplateParams(Guid OrganizationId, string Name, IReadOnlyList<WorkflowTemplateStep> Steps, string? ManagedBy = null);

public sealed record WorkflowTemplateParams(Guid OrganizationId, string Name);

public sealed record ListWorkflowTemplatesParams(Guid OrganizationId)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

/// <param name="Found">False when the organization has no template of that name.</param>
/// <param name="UsedBy">The schedules that start it (then it was not deleted); empty when it was.</param>
public sealed record DeleteWorkflowTemplateResult(bool Found, IReadOnlyList<string> UsedBy)
{
    public bool Deleted => Found && UsedBy.Count == 0;
}

/// <summary>The columns of the workflow_templates table, the same in every store, and a template read from them.</summary>
public static class WorkflowTemplateRows
{
    public const string Columns = "id, organization_id, name, steps, managed_by, created_at, updated_at";

    public static WorkflowTemplate Read(DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Name = r.GetString(2),
        Steps = WorkflowTemplate.ReadSteps(r.GetString(3)),
        ManagedBy = r.IsDBNull(4) ? null : r.GetString(4),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)),
    };

    /// <summary>The stored template (<c>schedules.template</c>) of a schedule that starts workflow template <paramref name="name"/>.</summary>
    public static string ScheduleTemplateJson(string name) => new Schedules.ScheduleDefinition { Name = "-", Workflow = name }.TemplateJson();
}
