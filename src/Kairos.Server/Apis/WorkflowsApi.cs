using System.Globalization;
using Kairos.Core.Dispatch;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>One step of a workflow to create: its job template, the steps it waits for, and whether its failure stops them. Unknown fields are ignored.</summary>
public sealed record WorkflowStepRequest(string? Id, JobTemplateRequest? Job, List<string>? DependsOn, bool? ContinueOnFailure);

/// <summary>A workflow to create: a name (a label; several workflows may share one) and its steps.</summary>
public sealed record WorkflowRequest(string? Name, List<WorkflowStepRequest?>? Steps);

/// <summary>
/// A step as the API shows it, with its job as it is now: enough to draw the DAG (<c>depends_on</c> are the edges)
/// and colour each node. <c>state</c> is the job's state (<c>deleted</c> once the job is gone).
/// </summary>
public sealed record WorkflowStepDto(
    string Id,
    IReadOnlyList<string> DependsOn,
    bool ContinueOnFailure,
    int UnfinishedParents,
    Guid JobId,
    string State,
    string? Queue,
    string? Type,
    int? Attempt,
    int? MaxAttempts,
    RawJson? Result,
    ErrorDto? LastError,
    bool CancelRequested,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt)
{
    public static WorkflowStepDto From(WorkflowStep s)
    {
        var j = s.Job;
        return new WorkflowStepDto(s.Id, s.DependsOn, s.ContinueOnFailure, s.UnfinishedParents, s.JobId, j?.State.ToWire() ?? "deleted", j?.Queue, j?.Type,
            j?.Attempt, j?.MaxAttempts, j?.Result is { } r ? new RawJson(r) : null, ErrorDto.From(j?.LastError), j?.CancelRequested ?? false, j?.StartedAt, j?.FinishedAt);
    }
}

/// <summary>An edge of the DAG: <c>from</c> must succeed (or fail with continue_on_failure) before <c>to</c> starts.</summary>
public sealed record WorkflowEdgeDto(string From, string To);

/// <summary>
/// A workflow: its derived state (<c>running</c>, <c>succeeded</c>, <c>failed</c>, <c>cancelled</c>), counters, and (for
/// one workflow, not in lists) its steps, edges and the number of steps per job state.
/// </summary>
public sealed record WorkflowDto(
    Guid Id,
    string Name,
    string State,
    bool CancelRequested,
    int StepsTotal,
    int UnfinishedSteps,
    int FailedSteps,
    int CancelledSteps,
    Guid? ScheduleId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt,
    long? DurationMs,
    IReadOnlyDictionary<string, int>? StepStates,
    IReadOnlyList<WorkflowStepDto>? Steps,
    IReadOnlyList<WorkflowEdgeDto>? Edges)
{
    public static WorkflowDto From(Workflow w, bool full)
    {
        long? duration = w.FinishedAt is { } f ? (long)(f - w.CreatedAt).TotalMilliseconds : null;
        if (!full)
        {
            return new WorkflowDto(w.Id, w.Name, w.State.ToWire(), w.CancelRequested, w.StepsTotal, w.UnfinishedSteps, w.FailedSteps, w.CancelledSteps,
                w.ScheduleId, w.CreatedAt, w.UpdatedAt, w.FinishedAt, duration, null, null, null);
        }
        var steps = w.Steps.Select(WorkflowStepDto.From).ToList();
        var states = steps.GroupBy(s => s.State, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var edges = w.Steps.SelectMany(s => s.DependsOn.Select(p => new WorkflowEdgeDto(p, s.Id))).ToList();
        return new WorkflowDto(w.Id, w.Name, w.State.ToWire(), w.CancelRequested, w.StepsTotal, w.UnfinishedSteps, w.FailedSteps, w.CancelledSteps,
            w.ScheduleId, w.CreatedAt, w.UpdatedAt, w.FinishedAt, duration, states, steps, edges);
    }
}

/// <summary>
/// Workflows: DAGs of jobs. Create (the graph is checked first: a cycle, an unknown parent or a duplicate step id is a
/// 422 naming the steps), list, get (steps, edges, states, job ids, results), cancel, retry from the failed steps.
/// Addressed by id: a name is a label that many runs share.
/// </summary>
public static class WorkflowsApi
{
    public static RouteGroupBuilder MapWorkflowsApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/workflows").WithTags("Workflows");
        g.MapGet("/", List).WithName("ListWorkflows").RequireAuthorization(Policies.Read);
        g.MapPost("/", Create).WithName("CreateWorkflow").RequireAuthorization(Policies.SchedulesWrite).Audited("workflow.create");
        g.MapGet("/{id}", Get).WithName("GetWorkflow").RequireAuthorization(Policies.Read);
        g.MapPost("/{id}/cancel", Cancel).WithName("CancelWorkflow").RequireAuthorization(Policies.SchedulesWrite).Audited("workflow.cancel");
        g.MapPost("/{id}/retry", Retry).WithName("RetryWorkflow").RequireAuthorization(Policies.SchedulesWrite).Audited("workflow.retry");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<WorkflowDto>>, ValidationProblem>> List(
        HttpContext http, IKairosStore store, string? state, string? name, string? limit, string? cursor)
    {
        var v = new Validation();
        WorkflowState? s = null;
        if (state is not null)
        {
            if (WorkflowStates.TryParse(state, out var parsed)) s = parsed;
            else v.Add("state", $"must be one of {string.Join(", ", Enum.GetValues<WorkflowState>().Select(x => x.ToWire()))}");
        }
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.Workflows.ListAsync(new ListWorkflowsParams(http.User.OrganizationId()) { State = s, Name = name, Limit = n, Cursor = cursor },
                http.RequestAborted);
            return TypedResults.Ok(new ListResponse<WorkflowDto>([.. page.Items.Select(w => WorkflowDto.From(w, full: false))], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<WorkflowDto>, ProblemHttpResult>> Get(string id, HttpContext http, IKairosStore store)
    {
        if (!Guid.TryParse(id, out var workflowId)) return NotFound(id);
        var w = await store.Workflows.GetAsync(new WorkflowParams(http.User.OrganizationId(), workflowId), http.RequestAborted);
        return w is null ? NotFound(id) : TypedResults.Ok(WorkflowDto.From(w, full: true));
    }

    public static async Task<Results<Created<WorkflowDto>, ValidationProblem, ProblemHttpResult>> Create(
        WorkflowRequest request, HttpContext http, Dispatcher dispatcher, ServerOptions options, TimeProvider time)
    {
        string? tooLarge = null;
        var v = new Validation();
        var definition = ToDefinition(request, v, options, time, ref tooLarge, out var graphErrors);
        if (tooLarge is not null) return Problems.TooLarge(tooLarge);
        if (!v.Ok) return Problems.Invalid(v);
        if (graphErrors.Ok is false) return Unprocessable(graphErrors);
        var w = await dispatcher.CreateWorkflowAsync(new CreateWorkflowParams(http.User.OrganizationId(), definition!), http.RequestAborted);
        return TypedResults.Created($"/api/v1/workflows/{w.Id}", WorkflowDto.From(w, full: true));
    }

    public static async Task<Results<Ok<WorkflowDto>, ProblemHttpResult>> Cancel(string id, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var workflowId)) return NotFound(id);
        var result = await dispatcher.CancelWorkflowAsync(new WorkflowParams(http.User.OrganizationId(), workflowId), http.RequestAborted);
        if (result is null) return NotFound(id);
        if (!result.Applied) return Problems.Conflict($"Workflow {id} is {result.Workflow.State.ToWire()}: nothing left to cancel.");
        return TypedResults.Ok(WorkflowDto.From(result.Workflow, full: true));
    }

    public static async Task<Results<Ok<WorkflowDto>, ProblemHttpResult>> Retry(string id, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var workflowId)) return NotFound(id);
        var result = await dispatcher.RetryWorkflowAsync(new WorkflowParams(http.User.OrganizationId(), workflowId), http.RequestAborted);
        if (result is null) return NotFound(id);
        if (!result.Applied)
        {
            var w = result.Workflow;
            return Problems.Conflict(w.State switch
            {
                WorkflowState.Running => $"Workflow {id} is still running; cancel it first, or wait for it to finish.",
                WorkflowState.Succeeded => $"Workflow {id} succeeded: nothing to retry.",
                _ => $"Workflow {id} cannot be retried: a step's job was deleted.",
            });
        }
        return TypedResults.Ok(WorkflowDto.From(result.Workflow, full: true));
    }

    /// <summary>Field errors go to <paramref name="v"/> (400); errors of the graph itself to <paramref name="graph"/> (422).</summary>
    internal static WorkflowDefinition? ToDefinition(WorkflowRequest r, Validation v, ServerOptions options, TimeProvider time, ref string? tooLarge,
        out Validation graph)
    {
        graph = new Validation();
        if (string.IsNullOrEmpty(r.Name)) v.Add("name", "is required");
        else v.Name("name", r.Name);
        if (r.Steps is null)
        {
            v.Add("steps", "is required: [{id, job: {queue, type, payload?, ...}, depends_on?: [ids], continue_on_failure?}]");
            return null;
        }
        if (r.Steps.Count == 0) v.Add("steps", "must hold at least one step");
        if (r.Steps.Count > WorkflowRules.MaxSteps)
        {
            v.Add("steps", $"at most {WorkflowRules.MaxSteps} steps");
            return null;
        }
        var steps = new List<WorkflowStepDefinition>(r.Steps.Count);
        var now = time.GetUtcNow();
        for (var i = 0; i < r.Steps.Count; i++)
        {
            var prefix = $"steps[{i}].";
            if (r.Steps[i] is not { } s)
            {
                v.Add($"steps[{i}]", "must be an object");
                continue;
            }
            if (string.IsNullOrEmpty(s.Id)) v.Add(prefix + "id", "is required");
            NewJob? job = null;
            if (s.Job is not { } t) v.Add(prefix + "job", "is required: {queue, type, payload?, priority?, max_attempts?, timeout_ms?, tags?}");
            else
            {
                var asJob = new CreateJobRequest(t.Queue, t.Type, t.Payload, t.Priority, null, null, t.MaxAttempts, t.TimeoutMs, null, t.Tags);
                job = asJob.ToNewJob(prefix + "job.", now, v, options.MaxPayloadBytes, ref tooLarge);
            }
            if (s.DependsOn is { } deps && deps.Any(d => d is null)) v.Add(prefix + "depends_on", "must hold step ids (strings)");
            if (job is not null && !string.IsNullOrEmpty(s.Id))
            {
                steps.Add(new WorkflowStepDefinition { Id = s.Id, Job = job, DependsOn = s.DependsOn ?? [], ContinueOnFailure = s.ContinueOnFailure ?? false });
            }
        }
        if (!v.Ok || tooLarge is not null) return null;
        foreach (var (field, message) in WorkflowGraph.Validate(steps))
        {
            // Too many or no steps is a plain field error; the rest is about the graph.
            if (field == "steps" && !message.Contains("cycle", StringComparison.Ordinal)) v.Add(field, message);
            else graph.Add(field, message);
        }
        return v.Ok && graph.Ok ? new WorkflowDefinition { Name = r.Name!, Steps = steps } : null;
    }

    internal static ProblemHttpResult Unprocessable(Validation graph) =>
        TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ValidationProblemDetails(graph.Errors)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "The steps do not form a valid DAG",
            Detail = graph.Summary,
        });

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No workflow '{id}'.");
}
