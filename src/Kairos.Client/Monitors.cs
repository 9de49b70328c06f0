using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>
/// A check-in monitor to create, or the fields of one to change (<see cref="KairosClient.UpdateMonitorAsync"/>: unset
/// fields stay as they are). Pings are due every <see cref="PeriodSeconds"/> or at each time of <see cref="Cron"/> (read
/// in <see cref="Timezone"/>), within <see cref="GraceSeconds"/> (default 300).
/// </summary>
public sealed class MonitorDefinition
{
    public string? Name { get; init; }
    /// <summary>The name in slug URLs (<c>/ping/{organization ping key}/{slug}</c>); by default made from the name.</summary>
    public string? Slug { get; init; }
    public long? PeriodSeconds { get; init; }
    public string? Cron { get; init; }
    public string? Timezone { get; init; }
    public int? GraceSeconds { get; init; }
    /// <summary>A started run that has not finished after this long makes the monitor down.</summary>
    public int? MaxRuntimeSeconds { get; init; }
    /// <summary>Cron monitors: a start ping is expected within this long of each cron time, else a late start.</summary>
    public int? StartGraceSeconds { get; init; }
    /// <summary>This many failures in a row make the monitor down (default 1).</summary>
    public int? FailureThreshold { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public bool? Paused { get; init; }
    public string? PauseReason { get; init; }
}

/// <summary>A monitor as the server shows it. <see cref="PingKey"/> and <see cref="PingUrl"/> only to those who may change monitors.</summary>
public sealed class CheckInMonitor
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Slug { get; init; } = "";
    public long? PeriodSeconds { get; init; }
    public string? Cron { get; init; }
    public string Timezone { get; init; } = "UTC";
    /// <summary>"Every 1 hour", "At 03:00, every day".</summary>
    public string Description { get; init; } = "";
    public int GraceSeconds { get; init; }
    public int? MaxRuntimeSeconds { get; init; }
    public int? StartGraceSeconds { get; init; }
    public int FailureThreshold { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    /// <summary><c>new</c>, <c>up</c>, <c>late</c>, <c>down</c> or <c>paused</c>.</summary>
    public string State { get; init; } = "";
    /// <summary>Why: <c>ping</c>, <c>started</c>, <c>due</c>, <c>missed</c>, <c>late_start</c>, <c>max_runtime</c>, <c>failed</c>, <c>paused</c>, <c>resumed</c>.</summary>
    public string? Reason { get; init; }
    public DateTimeOffset? StateChangedAt { get; init; }
    public bool Paused { get; init; }
    public string? PauseReason { get; init; }
    public DateTimeOffset? LastPingAt { get; init; }
    public DateTimeOffset? LastStartAt { get; init; }
    public DateTimeOffset? LastFinishAt { get; init; }
    public DateTimeOffset? NextDueAt { get; init; }
    public DateTimeOffset? RunningSince { get; init; }
    public int ConsecutiveFailures { get; init; }
    public string? PingKey { get; init; }
    public string? PingUrl { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One run of a monitored job: <c>running</c>, <c>success</c>, <c>fail</c> or <c>timeout</c>.</summary>
public sealed class MonitorRun
{
    public long Id { get; init; }
    public string? Rid { get; init; }
    public string Outcome { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public long? DurationMs { get; init; }
    public int? ExitCode { get; init; }
    public string? Log { get; init; }
    public bool LogTruncated { get; init; }
    public string? SourceIp { get; init; }
    public string? UserAgent { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>The organization's ping key of slug URLs; null fields until one is made.</summary>
public sealed class OrganizationPingKey
{
    public string? PingKey { get; init; }
    /// <summary>Add <c>/{slug}</c> (and <c>/start</c>, <c>/fail</c>, <c>/{exit code}</c>) to ping a monitor.</summary>
    public string? PingUrlPrefix { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
}

/// <summary>What a ping reports.</summary>
public enum CheckIn
{
    /// <summary>The job finished well.</summary>
    Success,
    /// <summary>The job started.</summary>
    Start,
    /// <summary>The job failed.</summary>
    Fail,
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CheckInMonitor))]
[JsonSerializable(typeof(Page<CheckInMonitor>))]
[JsonSerializable(typeof(MonitorDefinition))]
[JsonSerializable(typeof(Page<MonitorRun>))]
[JsonSerializable(typeof(OrganizationPingKey))]
internal sealed partial class KairosMonitorJson : JsonSerializerContext;
