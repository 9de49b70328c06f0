using System.Text;
using System.Text.Json;
using Kairos.Core.Jobs;

namespace Kairos.Core.Schedules;

/// <summary>What happens when a schedule fires while its previous run has not finished.</summary>
public enum OverlapPolicy
{
    /// <summary>Start the new run anyway.</summary>
    Allow,
    /// <summary>Skip this fire time (recorded as a skipped run).</summary>
    Skip,
    /// <summary>Cancel the previous run (through the job state machine), then start the new one.</summary>
    Replace,
}

/// <summary>What a schedule does with the fire times it missed by more than the misfire tolerance (downtime).</summary>
public enum CatchUpPolicy
{
    /// <summary>Drop them; the schedule goes on with the next fire time.</summary>
    Skip,
    /// <summary>Run once for all of them (unless a fire time on time runs anyway).</summary>
    Once,
    /// <summary>Run each of them, the most recent ones up to <see cref="ScheduleDefinition.CatchUpLimit"/>.</summary>
    All,
}

/// <summary>The kind of work a schedule starts: a job, or a workflow instance of a stored workflow template.</summary>
public enum TemplateKind
{
    Job,
    Workflow,
}

/// <summary>The job a schedule enqueues each time it fires.</summary>
public sealed record JobTemplate
{
    public required string Queue { get; init; }
    public required string Type { get; init; }
    /// <summary>The payload as raw JSON text.</summary>
    public string Payload { get; init; } = "null";
    public int Priority { get; init; }
    public int? MaxAttempts { get; init; }
    public int? TimeoutMs { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The template of a validated job (its run time and unique key are not kept).</summary>
    public static JobTemplate From(NewJob job) => new()
    {
        Queue = job.Queue,
        Type = job.Type,
        Payload = job.Payload,
        Priority = job.Priority,
        MaxAttempts = job.MaxAttempts,
        TimeoutMs = job.TimeoutMs,
        Tags = job.Tags,
    };

    /// <summary>The job of one run.</summary>
    public NewJob ToNewJob(DateTimeOffset runAt, string? uniqueKey) => new()
    {
        Queue = Queue,
        Type = Type,
        Payload = Payload,
        Priority = Priority,
        RunAt = runAt,
        MaxAttempts = MaxAttempts,
        TimeoutMs = TimeoutMs,
        UniqueKey = uniqueKey,
        Tags = Tags,
    };

    /// <summary>The stored form: JSON with snake_case names, the payload embedded as it came.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("queue", Queue);
            w.WriteString("type", Type);
            w.WritePropertyName("payload");
            w.WriteRawValue(Payload, skipInputValidation: false);
            w.WriteNumber("priority", Priority);
            if (MaxAttempts is { } a) w.WriteNumber("max_attempts", a);
            if (TimeoutMs is { } t) w.WriteNumber("timeout_ms", t);
            w.WriteStartArray("tags");
            foreach (var tag in Tags) w.WriteStringValue(tag);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static JobTemplate FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = doc.RootElement;
        return new JobTemplate
        {
            Queue = r.GetProperty("queue").GetString()!,
            Type = r.GetProperty("type").GetString()!,
            Payload = r.TryGetProperty("payload", out var p) ? p.GetRawText() : "null",
            Priority = r.TryGetProperty("priority", out var pr) ? pr.GetInt32() : 0,
            MaxAttempts = r.TryGetProperty("max_attempts", out var a) ? a.GetInt32() : null,
            TimeoutMs = r.TryGetProperty("timeout_ms", out var t) ? t.GetInt32() : null,
            Tags = r.TryGetProperty("tags", out var tags) ? [.. tags.EnumerateArray().Select(e => e.GetString()!)] : [],
        };
    }
}

/// <summary>What a user defines: when a schedule fires and what it starts. Validated before it reaches a store.</summary>
public sealed record ScheduleDefinition
{
    public const int DefaultCatchUpLimit = 10;
    public const int MaxCatchUpLimit = 1000;

    /// <summary>Unique per organization; the schedule is addressed by it.</summary>
    public required string Name { get; init; }
    /// <summary>A cron expression (5 or 6 fields, or a macro such as <c>@daily</c>); null when <see cref="EveryMs"/> is set.</summary>
    public string? Cron { get; init; }
    /// <summary>A fixed interval, aligned to <see cref="StartAt"/> (or the Unix epoch); null when <see cref="Cron"/> is set.</summary>
    public long? EveryMs { get; init; }
    /// <summary>The IANA time zone the cron expression is read in.</summary>
    public string TimeZone { get; init; } = "UTC";
    /// <summary>Derived: <see cref="TemplateKind.Workflow"/> when <see cref="Workflow"/> is set, else <see cref="TemplateKind.Job"/>.</summary>
    public TemplateKind TemplateKind => Workflow is not null ? TemplateKind.Workflow : TemplateKind.Job;
    /// <summary>The job each run enqueues (a job schedule); null for a workflow schedule.</summary>
    public JobTemplate? Job { get; init; }
    /// <summary>The name of the organization's workflow template each run instantiates (a workflow schedule); null for a job schedule.</summary>
    public string? Workflow { get; init; }
    public OverlapPolicy Overlap { get; init; } = OverlapPolicy.Allow;
    public CatchUpPolicy CatchUp { get; init; } = CatchUpPolicy.Once;
    /// <summary>With <see cref="CatchUpPolicy.All"/>: at most this many missed fire times run after a downtime.</summary>
    public int CatchUpLimit { get; init; } = DefaultCatchUpLimit;
    /// <summary>Each run starts up to this much after its fire time (the same delay for the same fire time).</summary>
    public int JitterMs { get; init; }
    /// <summary>No fire time before this.</summary>
    public DateTimeOffset? StartAt { get; init; }
    /// <summary>No fire time after this.</summary>
    public DateTimeOffset? EndAt { get; init; }

    /// <summary>The stored template: the job template's JSON, or <c>{"workflow": NAME}</c>.</summary>
    public string TemplateJson() => Workflow is { } name
        ? JsonSerializer.Serialize(new Dictionary<string, string> { ["workflow"] = name })
        : (Job ?? throw new InvalidOperationException("A schedule needs a job or a workflow template.")).ToJson();

    /// <summary>The definition's template read back from its stored kind and JSON.</summary>
    public static (JobTemplate? Job, string? Workflow) ReadTemplate(string kind, string json) =>
        ScheduleNames.ParseTemplateKind(kind) == TemplateKind.Workflow
            ? (null, JsonDocument.Parse(json).RootElement.GetProperty("workflow").GetString())
            : (JobTemplate.FromJson(json), null);

    /// <summary>True when <paramref name="other"/> fires at other times (cron, interval, zone, start or end differ).</summary>
    public bool TimingDiffers(ScheduleDefinition other) =>
        Cron != other.Cron || EveryMs != other.EveryMs || TimeZone != other.TimeZone || StartAt != other.StartAt || EndAt != other.EndAt;
}

/// <summary>A schedule as stored: its definition and where it stands.</summary>
public sealed record Schedule
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required ScheduleDefinition Definition { get; init; }
    public bool Paused { get; init; }
    public string? PauseReason { get; init; }
    /// <summary>The next fire time not yet handled; null when the schedule has ended (past end_at).</summary>
    public DateTimeOffset? NextFireAt { get; init; }
    /// <summary>The latest fire time that ran (or was skipped by the overlap policy).</summary>
    public DateTimeOffset? LastFireAt { get; init; }
    /// <summary>The job of the latest run, scheduled or triggered: the "previous run" of the overlap policy (job schedules).</summary>
    public Guid? LastJobId { get; init; }
    /// <summary>The workflow instance of the latest run: the "previous run" of the overlap policy (workflow schedules).</summary>
    public Guid? LastWorkflowId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    public string Name => Definition.Name;
}

/// <summary>One run of a schedule, as its history shows it.</summary>
/// <param name="Id">Increasing with the order runs were made; the cursor of the history.</param>
/// <param name="FireTime">The fire time it ran for (for a manual trigger: when it was triggered).</param>
/// <param name="Manual">Started by a trigger, not by the schedule.</param>
/// <param name="Skipped">The overlap policy skipped it: no job.</param>
/// <param name="JobId">The job it enqueued (a job schedule).</param>
/// <param name="Job">That job as it is now; null when skipped or since deleted.</param>
/// <param name="WorkflowId">The workflow instance it created (a workflow schedule).</param>
/// <param name="Workflow">That workflow as it is now (without steps); null when skipped.</param>
public sealed record ScheduleRun(long Id, DateTimeOffset FireTime, bool Manual, bool Skipped, Guid? JobId, DateTimeOffset CreatedAt, Job? Job,
    Guid? WorkflowId = null, Workflows.Workflow? Workflow = null);

/// <summary>Wire and storage names of the schedule enums.</summary>
public static class ScheduleNames
{
    public static string ToWire(this OverlapPolicy p) => p switch
    {
        OverlapPolicy.Allow => "allow",
        OverlapPolicy.Skip => "skip",
        OverlapPolicy.Replace => "replace",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static string ToWire(this CatchUpPolicy p) => p switch
    {
        CatchUpPolicy.Skip => "skip",
        CatchUpPolicy.Once => "once",
        CatchUpPolicy.All => "all",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static string ToWire(this TemplateKind k) => k switch
    {
        TemplateKind.Job => "job",
        TemplateKind.Workflow => "workflow",
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };

    public static bool TryParseOverlap(string? s, out OverlapPolicy p) => TryParse(s, out p);
    public static bool TryParseCatchUp(string? s, out CatchUpPolicy p) => TryParse(s, out p);

    public static OverlapPolicy ParseOverlap(string s) => TryParse<OverlapPolicy>(s, out var p) ? p : throw new FormatException($"Unknown overlap policy '{s}'.");
    public static CatchUpPolicy ParseCatchUp(string s) => TryParse<CatchUpPolicy>(s, out var p) ? p : throw new FormatException($"Unknown catch-up policy '{s}'.");
    public static TemplateKind ParseTemplateKind(string s) => s switch
    {
        "job" => TemplateKind.Job,
        "workflow" => TemplateKind.Workflow,
        _ => throw new FormatException($"Unknown template kind '{s}'."),
    };

    private static bool TryParse<T>(string? s, out T value) where T : struct, Enum
    {
        foreach (var v in Enum.GetValues<T>())
        {
            var wire = v switch
            {
                OverlapPolicy o => o.ToWire(),
                CatchUpPolicy c => c.ToWire(),
                _ => null,
            };
            if (wire is not null && string.Equals(wire, s, StringComparison.Ordinal))
            {
                value = v;
                return true;
            }
        }
        value = default;
        return false;
    }
}
