using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>A job template: the job a schedule enqueues each time it fires, or a workflow step's job.</summary>
public sealed class ScheduleJobTemplate
{
    public string Queue { get; init; } = "";
    public string Type { get; init; } = "";
    public JsonElement? Payload { get; init; }
    public int? Priority { get; init; }
    public int? MaxAttempts { get; init; }
    public int? TimeoutMs { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
}

/// <summary>
/// A schedule to create or replace: a cron expression (5 or 6 fields, or a macro such as <c>@daily</c>) read in
/// <see cref="Timezone"/>, or a fixed interval (<see cref="EveryMs"/>); the job it starts; what it does when runs overlap
/// (<c>allow</c>, <c>skip</c>, <c>replace</c>) and after a downtime (<c>skip</c>, <c>once</c>, <c>all</c>). Unset
/// fields take the server's defaults.
/// </summary>
public sealed class ScheduleDefinition
{
    public string? Name { get; init; }
    public string? Cron { get; init; }
    public long? EveryMs { get; init; }
    /// <summary>An IANA time zone (default UTC).</summary>
    public string? Timezone { get; init; }
    /// <summary>The job each run enqueues; give this or <see cref="Workflow"/>.</summary>
    public ScheduleJobTemplate? Job { get; init; }
    /// <summary>The workflow template each run makes an instance of (by name); give this or <see cref="Job"/>.</summary>
    public string? Workflow { get; init; }
    public string? Overlap { get; init; }
    public string? CatchUp { get; init; }
    public int? CatchUpLimit { get; init; }
    public int? JitterMs { get; init; }
    public DateTimeOffset? StartAt { get; init; }
    public DateTimeOffset? EndAt { get; init; }
    public bool? Paused { get; init; }
    public string? PauseReason { get; init; }
}

/// <summary>A schedule as the server shows it.</summary>
public sealed class Schedule
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string? Cron { get; init; }
    public long? EveryMs { get; init; }
    public string Timezone { get; init; } = "UTC";
    /// <summary>In words: "At 09:00, Monday through Friday".</summary>
    public string Description { get; init; } = "";
    /// <summary>The job each run enqueues; null for a schedule that starts a workflow template.</summary>
    public ScheduleJobTemplate? Job { get; init; }
    /// <summary>The workflow template each run makes an instance of; null for a job schedule.</summary>
    public string? Workflow { get; init; }
    public string Overlap { get; init; } = "";
    public string CatchUp { get; init; } = "";
    public int CatchUpLimit { get; init; }
    public int JitterMs { get; init; }
    public DateTimeOffset? StartAt { get; init; }
    public DateTimeOffset? EndAt { get; init; }
    public bool Paused { get; init; }
    public string? PauseReason { get; init; }
    /// <summary>Null while paused or after the end.</summary>
    public DateTimeOffset? NextFireAt { get; init; }
    public DateTimeOffset? LastFireAt { get; init; }
    public Guid? LastJobId { get; init; }
    /// <summary>The workflow instance of the latest run (a workflow schedule).</summary>
    public Guid? LastWorkflowId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One run of a schedule with its job's state, outcome and duration.</summary>
public sealed class ScheduleRun
{
    public long Id { get; init; }
    public DateTimeOffset FireTime { get; init; }
    /// <summary><c>schedule</c> or <c>manual</c>.</summary>
    public string Trigger { get; init; } = "";
    public bool Skipped { get; init; }
    public Guid? JobId { get; init; }
    /// <summary>The workflow instance the run made (a workflow schedule); <see cref="State"/> is then the workflow's.</summary>
    public Guid? WorkflowId { get; init; }
    public string? State { get; init; }
    /// <summary><c>succeeded</c>, <c>failed</c>, <c>cancelled</c>, <c>skipped</c>, <c>deleted</c>; null while unfinished.</summary>
    public string? Outcome { get; init; }
    public int? Attempt { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public long? DurationMs { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>What a manual trigger started: a job, or a workflow instance.</summary>
public sealed class ScheduleTrigger
{
    public string Schedule { get; init; } = "";
    public DateTimeOffset FireTime { get; init; }
    public Job? Job { get; init; }
    public Workflow? Workflow { get; init; }
}

/// <summary>A cron expression (or interval) in words, and its next fire times, in UTC and local to the time zone.</summary>
public sealed class SchedulePreview
{
    public string Description { get; init; } = "";
    public string Timezone { get; init; } = "";
    public IReadOnlyList<DateTimeOffset> Next { get; init; } = [];
    public IReadOnlyList<string> NextLocal { get; init; } = [];
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Schedule))]
[JsonSerializable(typeof(Page<Schedule>))]
[JsonSerializable(typeof(ScheduleDefinition))]
[JsonSerializable(typeof(Page<ScheduleRun>))]
[JsonSerializable(typeof(ScheduleTrigger))]
[JsonSerializable(typeof(SchedulePreview))]
internal sealed partial class KairosScheduleJson : JsonSerializerContext;
