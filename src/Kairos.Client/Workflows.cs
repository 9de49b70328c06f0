using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>States of a workflow, derived by the server from its steps.</summary>
public static class WorkflowStates
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>One step of a workflow to create: its id, its job, the steps it waits for, and whether its failure lets its children run.</summary>
public sealed class WorkflowStepDefinition
{
    /// <summary>Unique within the workflow: 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit.</summary>
    public string Id { get; init; } = "";

    /// <summary>The step's job (a step starts when its parents are done, so it has no run time or unique key).</summary>
    public ScheduleJobTemplate Job { get; init; } = new();

    /// <summary>The steps that must succeed before this one starts.</summary>
    public IReadOnlyList<string>? DependsOn { get; init; }

    /// <summary>When this step fails, its children start anyway.</summary>
    public bool? ContinueOnFailure { get; init; }
}

/// <summary>
/// A workflow to create: a name (a label many runs share) and a DAG of steps. Made by hand, read from JSON (snake_case,
/// what <c>POST /api/v1/workflows</c> takes), or with <see cref="WorkflowBuilder"/>. The server checks the graph: an
/// unknown parent, a duplicate id or a cycle is a 422 naming the steps.
/// </summary>
public sealed class WorkflowDefinition
{
    public string Name { get; init; } = "";
    public IReadOnlyList<WorkflowStepDefinition> Steps { get; init; } = [];
}

/// <summary>A step of a workflow with its job as it is now (<see cref="State"/> is the job's state, <c>deleted</c> once it is gone).</summary>
public sealed class WorkflowStep
{
    public string Id { get; init; } = "";
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    public bool ContinueOnFailure { get; init; }

    /// <summary>Parents that have not yet let the step go.</summary>
    public int UnfinishedParents { get; init; }

    public Guid JobId { get; init; }

    /// <summary>One of <see cref="JobStates"/>, or <c>deleted</c>.</summary>
    public string State { get; init; } = "";

    public string? Queue { get; init; }
    public string? Type { get; init; }
    public int? Attempt { get; init; }
    public int? MaxAttempts { get; init; }
    public JsonElement? Result { get; init; }
    public JobError? LastError { get; init; }
    public bool CancelRequested { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The step's result read as <typeparamref name="T"/>; default when it has none.</summary>
    public T? ResultAs<T>(JsonSerializerOptions? options = null) => Result is { } r ? r.Deserialize<T>(options ?? KairosJson.PayloadDefaults) : default;
}

/// <summary>An edge of the DAG: <see cref="From"/> is a parent of <see cref="To"/>.</summary>
public sealed class WorkflowEdge
{
    public string From { get; init; } = "";
    public string To { get; init; } = "";
}

/// <summary>
/// A workflow as the server shows it: its derived <see cref="State"/> (<see cref="WorkflowStates"/>) and counters; a
/// get (not a list) also fills <see cref="Steps"/>, <see cref="Edges"/> and <see cref="StepStates"/>.
/// </summary>
public sealed class Workflow
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string State { get; init; } = "";
    public bool CancelRequested { get; init; }
    public int StepsTotal { get; init; }
    public int UnfinishedSteps { get; init; }
    public int FailedSteps { get; init; }
    public int CancelledSteps { get; init; }

    /// <summary>The schedule whose firing created it, if any.</summary>
    public Guid? ScheduleId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public long? DurationMs { get; init; }

    /// <summary>Steps per job state.</summary>
    public IReadOnlyDictionary<string, int>? StepStates { get; init; }

    public IReadOnlyList<WorkflowStep>? Steps { get; init; }
    public IReadOnlyList<WorkflowEdge>? Edges { get; init; }

    /// <summary>True once no step is unfinished.</summary>
    public bool IsFinished => State is not WorkflowStates.Running;

    /// <summary>The step of this id (a get fills the steps); throws <see cref="KeyNotFoundException"/> for an unknown one.</summary>
    public WorkflowStep Step(string id) =>
        Steps?.FirstOrDefault(s => s.Id == id) ?? throw new KeyNotFoundException($"workflow {Id} has no step \"{id}\" (or was read from a list)");
}

/// <summary>A step of a workflow template.</summary>
public sealed class WorkflowTemplateStep
{
    public string Id { get; init; } = "";
    public ScheduleJobTemplate Job { get; init; } = new();
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    public bool ContinueOnFailure { get; init; }
}

/// <summary>
/// A named, stored workflow: run it with <see cref="KairosClient.RunWorkflowTemplateAsync"/>, or let a schedule start it
/// (<see cref="ScheduleDefinition.Workflow"/>). Each run copies the steps, so changing the template never reaches
/// instances already made.
/// </summary>
public sealed class WorkflowTemplate
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public IReadOnlyList<WorkflowTemplateStep> Steps { get; init; } = [];
    public IReadOnlyList<WorkflowEdge> Edges { get; init; } = [];
    /// <summary>What manages it (<c>manifest</c>); null when made by hand.</summary>
    public string? ManagedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>Which workflows to list: by derived state and by name.</summary>
public sealed class WorkflowQuery
{
    public string? State { get; set; }
    public string? Name { get; set; }
    public int? Limit { get; set; }
    public string? Cursor { get; set; }
}

/// <summary>
/// A parent step of the job a handler runs (<see cref="Hosting.JobContext.Parents"/>): its job, state and result. A
/// step starts when its parents succeeded, so the state is <c>succeeded</c>, or <c>failed</c> for a parent marked
/// continue_on_failure (then it has no result).
/// </summary>
public sealed class WorkflowParent
{
    public Guid JobId { get; init; }

    /// <summary>One of <see cref="JobStates"/>.</summary>
    public string State { get; init; } = "";

    /// <summary>The parent's result as its handler returned it; null when it returned none or did not succeed.</summary>
    public JsonElement? Result { get; init; }

    [JsonIgnore]
    internal JsonSerializerOptions? PayloadOptions { get; set; }

    public bool Succeeded => State == JobStates.Succeeded;

    /// <summary>The result read as <typeparamref name="T"/> with the client's payload options (snake_case by default); default when there is none.</summary>
    public T? ResultAs<T>(JsonSerializerOptions? options = null) =>
        Result is { ValueKind: not JsonValueKind.Null } r ? r.Deserialize<T>(options ?? PayloadOptions ?? KairosJson.PayloadDefaults) : default;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Workflow))]
[JsonSerializable(typeof(Page<Workflow>))]
[JsonSerializable(typeof(WorkflowDefinition))]
[JsonSerializable(typeof(WorkflowTemplate))]
[JsonSerializable(typeof(Page<WorkflowTemplate>))]
internal sealed partial class KairosWorkflowJson : JsonSerializerContext;
