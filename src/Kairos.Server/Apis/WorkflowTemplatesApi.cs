using Kairos.Core.Dispatch;
using Kairos.Core.Manifests;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>A step of a workflow template as the API shows it: its job template, the steps it waits for, and whether its failure lets its children run.</summary>
public sealed record WorkflowTemplateStepDto(string Id, JobTemplateDto Job, IReadOnlyList<string> DependsOn, bool ContinueOnFailure);

/// <summary>
/// A workflow template: a name (unique in the organization; its instances carry it), its steps, and what manages it
/// (<c>managed_by</c>: null when made by hand, <c>manifest</c> when a manifest owns it).
/// </summary>
public sealed record WorkflowTemplateDto(
    Guid Id,
    string Name,
    IReadOnlyList<WorkflowTemplateStepDto> Steps,
    IReadOnlyList<WorkflowEdgeDto> Edges,
    string? ManagedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static WorkflowTemplateDto From(WorkflowTemplate t) => new(
        t.Id, t.Name, [.. t.Steps.Select(s => new WorkflowTemplateStepDto(s.Id, JobTemplateDto.From(s.Job), s.DependsOn, s.ContinueOnFailure))],
        [.. t.Steps.SelectMany(s => s.DependsOn.Select(p => new WorkflowEdgeDto(p, s.Id)))], t.ManagedBy, t.CreatedAt, t.UpdatedAt);
}

/// <summary>
/// Workflow templates: named, stored workflows. <c>PUT /{name}</c> creates or replaces one (its steps checked as a
/// workflow's are: a graph error is a 422 naming the steps), <c>POST /{name}/run</c> makes a workflow instance from it
/// (the instance copies the steps: a later change of the template does not reach it), and a schedule's template may be
/// <c>{"workflow": NAME}</c>. A template that a schedule starts cannot be deleted (409 naming the schedules).
/// </summary>
public static class WorkflowTemplatesApi
{
    public static RouteGroupBuilder MapWorkflowTemplatesApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/workflow-templates").WithTags("Workflows");
        g.MapGet("/", List).WithName("ListWorkflowTemplates").RequireAuthorization(Policies.Read);
        g.MapGet("/{name}", Get).WithName("GetWorkflowTemplate").RequireAuthorization(Policies.Read);
        g.MapPut("/{name}", Put).WithName("PutWorkflowTemplate").RequireAuthorization(Policies.SchedulesWrite).Audited("workflow_template.upsert");
        g.MapDelete("/{name}", Delete).WithName("DeleteWorkflowTemplate").RequireAuthorization(Policies.SchedulesWrite).Audited("workflow_template.delete");
        g.MapPost("/{name}/run", Run).WithName("RunWorkflowTemplate").RequireAuthorization(Policies.SchedulesWrite).Audited("workflow_template.run");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<WorkflowTemplateDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.WorkflowTemplates.ListAsync(new ListWorkflowTemplatesParams(http.User.OrganizationId()) { Limit = n, Cursor = cursor },
                http.RequestAborted);
            return TypedResults.Ok(new ListResponse<WorkflowTemplateDto>([.. page.Items.Select(WorkflowTemplateDto.From)], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<WorkflowTemplateDto>, ProblemHttpResult>> Get(string name, HttpContext http, IKairosStore store)
    {
        var t = await store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(http.User.OrganizationId(), name), http.RequestAborted);
        return t is null ? NotFound(name) : TypedResults.Ok(WorkflowTemplateDto.From(t));
    }

    /// <summary>Creates the template or replaces its steps. The body is a workflow's (<c>{steps: [...]}</c>; <c>name</c> may be left out).</summary>
    public static async Task<Results<Created<WorkflowTemplateDto>, Ok<WorkflowTemplateDto>, ValidationProblem, ProblemHttpResult>> Put(
        string name, WorkflowRequest request, HttpContext http, IKairosStore store, ServerOptions options, TimeProvider time)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.Workflow, name) is { } refused) return refused;
        var v = new Validation();
        if (request.Name is not null && request.Name != name) v.Add("name", $"must be \"{name}\" as in the path, or left out (a template is not renamed)");
        v.PathName("name", name);
        if (!v.Ok) return Problems.Invalid(v);
        string? tooLarge = null;
        var definition = WorkflowsApi.ToDefinition(request with { Name = name }, v, options, time, ref tooLarge, out var graph);
        if (tooLarge is not null) return Problems.TooLarge(tooLarge);
        if (!v.Ok) return Problems.Invalid(v);
        if (!graph.Ok) return WorkflowsApi.Unprocessable(graph);
        var steps = definition!.Steps.Select(s => new WorkflowTemplateStep
        {
            Id = s.Id,
            Job = JobTemplate.From(s.Job),
            DependsOn = s.DependsOn,
            ContinueOnFailure = s.ContinueOnFailure,
        }).ToList();
        var (template, created) = await store.WorkflowTemplates.PutAsync(new PutWorkflowTemplateParams(http.User.OrganizationId(), name, steps), http.RequestAborted);
        var dto = WorkflowTemplateDto.From(template);
        return created ? TypedResults.Created($"/api/v1/workflow-templates/{Uri.EscapeDataString(name)}", dto) : TypedResults.Ok(dto);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, HttpContext http, IKairosStore store)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.Workflow, name) is { } refused) return refused;
        var result = await store.WorkflowTemplates.DeleteAsync(new WorkflowTemplateParams(http.User.OrganizationId(), name), http.RequestAborted);
        if (!result.Found) return NotFound(name);
        if (!result.Deleted)
        {
            return Problems.Conflict($"Workflow template '{name}' is started by schedule(s) {string.Join(", ", result.UsedBy.Select(s => $"'{s}'"))}: " +
                                     "change or delete them first.");
        }
        return TypedResults.NoContent();
    }

    /// <summary>Makes a workflow instance from the template as it is now (roots queued, the others pending).</summary>
    public static async Task<Results<Created<WorkflowDto>, ProblemHttpResult>> Run(string name, HttpContext http, IKairosStore store, Dispatcher dispatcher, TimeProvider time)
    {
        var org = http.User.OrganizationId();
        var t = await store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(org, name), http.RequestAborted);
        if (t is null) return NotFound(name);
        var w = await dispatcher.CreateWorkflowAsync(new CreateWorkflowParams(org, t.Instantiate(time.GetUtcNow())), http.RequestAborted);
        return TypedResults.Created($"/api/v1/workflows/{w.Id}", WorkflowDto.From(w, full: true));
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"No workflow template '{name}'.");
}
