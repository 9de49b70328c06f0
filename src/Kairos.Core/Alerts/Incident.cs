namespace Kairos.Core.Alerts;

/// <summary>
/// One occurrence of an alert: opened when its rule fires for an alert key (a queue, a worker, a monitor), updated
/// while the rule keeps firing, resolved when the condition clears. At most one incident per rule and key is open.
/// </summary>
public sealed record Incident
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required Guid RuleId { get; init; }
    public required string RuleName { get; init; }
    /// <summary>What the rule fired for: <c>queue:mail</c>, <c>worker:0193...</c>, <c>monitor:backup</c>, <c>rule</c>.</summary>
    public required string Key { get; init; }
    public required string Title { get; init; }
    public string? Summary { get; init; }
    public required DateTimeOffset OpenedAt { get; init; }
    public required DateTimeOffset LastFiredAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public DateTimeOffset? LastNotifiedAt { get; init; }
    /// <summary>How many times the rule fired for it (1 when opened).</summary>
    public long FireCount { get; init; } = 1;
    /// <summary>The incident's history, oldest first (filled when it is read alone).</summary>
    public IReadOnlyList<IncidentEvent> Events { get; init; } = [];

    public bool Open => ResolvedAt is null;

    /// <summary>The key PagerDuty groups trigger and resolve by: the same for the whole life of the incident, and only its.</summary>
    public string DedupKey => $"kairos-{Id:N}";
}

/// <summary>One line of an incident's history: <c>opened</c>, <c>fired</c>, <c>notified</c>, <c>suppressed</c>, <c>notify_failed</c>, <c>resolved</c>.</summary>
public sealed record IncidentEvent(long Id, DateTimeOffset At, string Kind, string? Message);

/// <summary>A period in which a rule (or, without one, every rule of the organization) notifies nobody and opens no incident.</summary>
public sealed record MaintenanceWindow(Guid Id, Guid OrganizationId, string? Rule, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string? Reason, DateTimeOffset CreatedAt)
{
    public bool Covers(string rule, DateTimeOffset at) => (Rule is null || Rule == rule) && StartsAt <= at && at < EndsAt;
}
