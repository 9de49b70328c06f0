using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Core.Alerts;

/// <summary>What an alert rule watches.</summary>
public enum AlertRuleKind
{
    /// <summary>Jobs that failed for good: every failure (threshold 1) or N within a window; per queue and/or type.</summary>
    JobFailed,
    /// <summary>The share of finished jobs that failed over a window is above a percentage.</summary>
    FailureRate,
    /// <summary>A queue's ready jobs are more than N, or its oldest ready job waits longer than a duration.</summary>
    QueueBacklog,
    /// <summary>A worker went silent and was declared lost.</summary>
    WorkerLost,
    /// <summary>A check-in monitor is late or down (the <c>monitor.*</c> events).</summary>
    Monitor,
    /// <summary>A schedule missed fire times (<c>schedule.misfired</c>).</summary>
    ScheduleMisfire,
}

public static class AlertRuleKinds
{
    public static readonly IReadOnlyList<string> Wire = ["job_failed", "failure_rate", "queue_backlog", "worker_lost", "monitor", "schedule_misfire"];

    public static string ToWire(this AlertRuleKind kind) => Wire[(int)kind];

    public static bool TryParse(string? text, out AlertRuleKind kind)
    {
        for (var i = 0; i < Wire.Count; i++)
        {
            if (string.Equals(Wire[i], text, StringComparison.Ordinal))
            {
                kind = (AlertRuleKind)i;
                return true;
            }
        }
        kind = default;
        return false;
    }
}

/// <summary>
/// An alert rule as its owner defines it. Which fields matter depends on <see cref="Kind"/>; the others are ignored
/// (and <see cref="Validate"/> names those that are wrong for it).
/// </summary>
public sealed record AlertRuleDefinition
{
    public const int DefaultCooldownMs = 15 * 60_000;
    public const int DefaultWindowMs = 5 * 60_000;

    public required string Name { get; init; }
    public required AlertRuleKind Kind { get; init; }
    /// <summary>Only jobs (or backlog) of this queue; null: every queue.</summary>
    public string? Queue { get; init; }
    /// <summary>Only jobs of this type (job_failed, failure_rate); null: every type.</summary>
    public string? JobType { get; init; }
    /// <summary>job_failed: failures within the window that fire (1 = every failure). queue_backlog: depth above which it fires.</summary>
    public long? Threshold { get; init; }
    /// <summary>job_failed, failure_rate, schedule_misfire: the window looked at (and the quiet time that resolves).</summary>
    public int WindowMs { get; init; } = DefaultWindowMs;
    /// <summary>failure_rate: fires above this percentage (0-100).</summary>
    public double? RatePercent { get; init; }
    /// <summary>failure_rate: finished jobs in the window below which the rate is not judged.</summary>
    public int MinJobs { get; init; } = 10;
    /// <summary>queue_backlog: fires when the oldest ready job waits longer than this.</summary>
    public long? MaxAgeMs { get; init; }
    /// <summary>monitor: the states that fire (<c>late</c>, <c>down</c>, <c>late_start</c>); only this monitor (slug) when set.</summary>
    public IReadOnlyList<string> MonitorStates { get; init; } = ["down"];
    public string? Monitor { get; init; }
    /// <summary>schedule_misfire: only this schedule when set.</summary>
    public string? Schedule { get; init; }
    /// <summary>The channels (by name) every notification of the rule goes to.</summary>
    public IReadOnlyList<string> Channels { get; init; } = [];
    /// <summary>No second notification for the same alert key within this time.</summary>
    public int CooldownMs { get; init; } = DefaultCooldownMs;
    public bool Enabled { get; init; } = true;

    public static readonly IReadOnlyList<string> KnownMonitorStates = ["late", "down", "late_start"];

    /// <summary>The problems of the definition, field → messages (empty when valid). Channels are checked against the store by the caller.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string field, string message) => errors[field] = [message];
        if (!Names.IsValid(Name)) Add("name", Names.Rule);
        if (Channels.Count == 0) Add("channels", "name at least one channel");
        if (CooldownMs is < 0 or > 7 * 24 * 3_600_000) Add("cooldown_ms", "must be between 0 and 604800000 (7 days)");
        if (WindowMs is < 1_000 or > 7 * 24 * 3_600_000) Add("window_ms", "must be between 1000 and 604800000 (7 days)");
        switch (Kind)
        {
            case AlertRuleKind.JobFailed:
                if (Threshold is < 1 or > 1_000_000) Add("threshold", "must be between 1 and 1000000");
                break;
            case AlertRuleKind.FailureRate:
                if (RatePercent is not (> 0 and < 100)) Add("rate_percent", "give a percentage above 0 and below 100");
                if (MinJobs is < 1 or > 1_000_000) Add("min_jobs", "must be between 1 and 1000000");
                break;
            case AlertRuleKind.QueueBacklog:
                if (Threshold is null && MaxAgeMs is null) Add("threshold", "give threshold (depth) or max_age_ms (oldest ready job), or both");
                if (Threshold is < 0) Add("threshold", "must not be negative");
                if (MaxAgeMs is < 1_000) Add("max_age_ms", "must be at least 1000");
                break;
            case AlertRuleKind.Monitor:
                if (MonitorStates.Count == 0 || MonitorStates.Any(s => !KnownMonitorStates.Contains(s)))
                    Add("monitor_states", "give one or more of late, down, late_start");
                break;
        }
        return errors;
    }

    public string ToJson() => JsonSerializer.Serialize(this, AlertJson.Options);

    public static AlertRuleDefinition FromJson(string json) =>
        JsonSerializer.Deserialize<AlertRuleDefinition>(json, AlertJson.Options) ?? throw new FormatException("empty alert rule definition");
}

/// <summary>An alert rule as stored.</summary>
public sealed record AlertRule(Guid Id, Guid OrganizationId, AlertRuleDefinition Definition, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public string Name => Definition.Name;
}

/// <summary>Names of rules and channels: letters, digits, <c>-</c>, <c>_</c>, <c>.</c>; 1 to 100 characters.</summary>
public static class Names
{
    public const string Rule = "1 to 100 letters, digits, '-', '_' or '.'";

    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= 100 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>The stored JSON form of alert definitions and channel configurations (snake_case, enums as wire names).</summary>
public static class AlertJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
