using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>
/// An alert rule as the server keeps it. <see cref="Kind"/>: <c>job_failed</c>, <c>failure_rate</c>,
/// <c>queue_backlog</c>, <c>worker_lost</c>, <c>monitor</c>, <c>schedule_misfire</c>.
/// </summary>
public sealed class AlertRule
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string? Queue { get; init; }
    public string? Type { get; init; }
    public long? Threshold { get; init; }
    public int WindowMs { get; init; }
    public double? RatePercent { get; init; }
    public int MinJobs { get; init; }
    public long? MaxAgeMs { get; init; }
    public IReadOnlyList<string> MonitorStates { get; init; } = [];
    public string? Monitor { get; init; }
    public string? Schedule { get; init; }
    public IReadOnlyList<string> Channels { get; init; } = [];
    public int CooldownMs { get; init; }
    public bool Enabled { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>An alert rule to create or replace; what is left null takes the server's default.</summary>
public sealed class AlertRuleDefinition
{
    public string? Name { get; init; }
    public required string Kind { get; init; }
    /// <summary>Only jobs (or the backlog) of this queue.</summary>
    public string? Queue { get; init; }
    /// <summary>Only jobs of this type (job_failed, failure_rate).</summary>
    public string? Type { get; init; }
    /// <summary>job_failed: failures within the window that fire (default 1). queue_backlog: the depth above which it fires.</summary>
    public long? Threshold { get; init; }
    /// <summary>job_failed, failure_rate, schedule_misfire: the window looked at (default 5 min).</summary>
    public int? WindowMs { get; init; }
    /// <summary>failure_rate: fires above this percentage.</summary>
    public double? RatePercent { get; init; }
    public int? MinJobs { get; init; }
    /// <summary>queue_backlog: fires when the oldest ready job waits longer.</summary>
    public long? MaxAgeMs { get; init; }
    /// <summary>monitor: <c>late</c>, <c>down</c>, <c>late_start</c> (default down).</summary>
    public IReadOnlyList<string>? MonitorStates { get; init; }
    public string? Monitor { get; init; }
    public string? Schedule { get; init; }
    public required IReadOnlyList<string> Channels { get; init; }
    /// <summary>No second notification for an alert key within this time (default 15 min).</summary>
    public int? CooldownMs { get; init; }
    public bool? Enabled { get; init; }
}

/// <summary>
/// A channel's settings, by kind: slack (<see cref="Url"/>), webhook (<see cref="Url"/>, <see cref="Headers"/>,
/// <see cref="Secret"/>), email (<see cref="Host"/> ... <see cref="To"/>), pagerduty (<see cref="RoutingKey"/>,
/// <see cref="Severity"/>, <see cref="EventsUrl"/>). Secrets come back masked; sending a masked one back (or none) keeps it.
/// </summary>
public sealed class AlertChannelConfig
{
    public string? Url { get; init; }
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    public string? Secret { get; init; }
    public string? Host { get; init; }
    public int? Port { get; init; }
    public string? Tls { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? From { get; init; }
    public IReadOnlyList<string>? To { get; init; }
    public string? RoutingKey { get; init; }
    public string? Severity { get; init; }
    public string? EventsUrl { get; init; }
}

/// <summary>Where notifications go: <c>slack</c>, <c>webhook</c>, <c>email</c>, <c>pagerduty</c>.</summary>
public sealed class AlertChannel
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public AlertChannelConfig Config { get; init; } = new();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>Whether a test notice went out, and if not why.</summary>
public sealed class ChannelTestResult
{
    public bool Delivered { get; init; }
    public string? Error { get; init; }
}

/// <summary>One entry of an incident's history: <c>opened</c>, <c>notified</c>, <c>notify_failed</c>, <c>suppressed</c>, <c>resolved</c>.</summary>
public sealed class IncidentEvent
{
    public DateTimeOffset At { get; init; }
    public string Kind { get; init; } = "";
    public string? Message { get; init; }
}

/// <summary>What a rule's firing opened: <c>open</c> until the condition clears (or someone resolves it), then <c>resolved</c>.</summary>
public sealed class Incident
{
    public Guid Id { get; init; }
    public string Rule { get; init; } = "";
    public Guid RuleId { get; init; }
    public string Key { get; init; } = "";
    public string State { get; init; } = "";
    public string Title { get; init; } = "";
    public string? Summary { get; init; }
    public DateTimeOffset OpenedAt { get; init; }
    public DateTimeOffset LastFiredAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public DateTimeOffset? LastNotifiedAt { get; init; }
    public long FireCount { get; init; }
    /// <summary>The history, when the incident is read alone.</summary>
    public IReadOnlyList<IncidentEvent>? Events { get; init; }
}

/// <summary>A time in which a rule (or, without <see cref="Rule"/>, every rule) opens no incident and notifies nobody.</summary>
public sealed class MaintenanceWindow
{
    public Guid Id { get; init; }
    public string? Rule { get; init; }
    public DateTimeOffset StartsAt { get; init; }
    public DateTimeOffset EndsAt { get; init; }
    public string? Reason { get; init; }
    public bool Active { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A maintenance window to open: from <see cref="StartsAt"/> (default now) until <see cref="EndsAt"/> or for <see cref="DurationMs"/>.</summary>
public sealed class MaintenanceWindowDefinition
{
    public string? Rule { get; init; }
    public DateTimeOffset? StartsAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public long? DurationMs { get; init; }
    public string? Reason { get; init; }
}

internal sealed class AlertChannelBody
{
    public string? Name { get; init; }
    public required string Kind { get; init; }
    public required AlertChannelConfig Config { get; init; }
}

/// <summary>Source-generated JSON of the alert types (snake_case, like the rest of the API).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AlertRule))]
[JsonSerializable(typeof(Page<AlertRule>))]
[JsonSerializable(typeof(AlertRuleDefinition))]
[JsonSerializable(typeof(AlertChannel))]
[JsonSerializable(typeof(Page<AlertChannel>))]
[JsonSerializable(typeof(AlertChannelBody))]
[JsonSerializable(typeof(ChannelTestResult))]
[JsonSerializable(typeof(Incident))]
[JsonSerializable(typeof(Page<Incident>))]
[JsonSerializable(typeof(MaintenanceWindow))]
[JsonSerializable(typeof(Page<MaintenanceWindow>))]
[JsonSerializable(typeof(MaintenanceWindowDefinition))]
internal sealed partial class KairosAlertJson : JsonSerializerContext;
