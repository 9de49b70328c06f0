using Kairos.Core.Alerts;

namespace Kairos.Core.Storage;

/// <summary>
/// Alert channels and rules (named per organization), incidents with their history, maintenance windows, and the few
/// reads of job and queue figures the rule evaluation needs. Incidents are the evaluation's state: at most one is open
/// per rule and alert key, so firing twice (a restart, a second node that believes it leads) updates the open one.
/// </summary>
public interface IAlertStore
{
    /// <summary>Creates a channel; null when the organization already has one of that name.</summary>
    Task<AlertChannel?> CreateChannelAsync(SaveChannelParams p, CancellationToken cancellationToken);
    /// <summary>Replaces a channel's kind and config; null when there is none of that name.</summary>
    Task<AlertChannel?> UpdateChannelAsync(SaveChannelParams p, CancellationToken cancellationToken);
    Task<AlertChannel?> GetChannelAsync(NamedParams p, CancellationToken cancellationToken);
    /// <summary>The organization's channels by name.</summary>
    Task<Page<AlertChannel>> ListChannelsAsync(ListNamedParams p, CancellationToken cancellationToken);
    /// <summary>False when there is none of that name.</summary>
    Task<bool> DeleteChannelAsync(NamedParams p, CancellationToken cancellationToken);

    /// <summary>Creates a rule; null when the organization already has one of that name.</summary>
    Task<AlertRule?> CreateRuleAsync(SaveRuleParams p, CancellationToken cancellationToken);
    /// <summary>Replaces a rule's definition; null when there is none of that name.</summary>
    Task<AlertRule?> UpdateRuleAsync(SaveRuleParams p, CancellationToken cancellationToken);
    Task<AlertRule?> GetRuleAsync(NamedParams p, CancellationToken cancellationToken);
    Task<Page<AlertRule>> ListRulesAsync(ListNamedParams p, CancellationToken cancellationToken);
    /// <summary>Deletes the rule and resolves nothing: its incidents stay in the history. False when unknown.</summary>
    Task<bool> DeleteRuleAsync(NamedParams p, CancellationToken cancellationToken);
    /// <summary>Maintenance, all organizations: every enabled rule.</summary>
    Task<IReadOnlyList<AlertRule>> ListEnabledRulesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The rule fired for a key: opens an incident (none open for the rule and key) or updates the open one; decides
    /// whether to notify (nothing notified for the rule and key within the cool-down) and records it, in one transaction.
    /// </summary>
    Task<IncidentFiring> FireAsync(FireIncidentParams p, CancellationToken cancellationToken);
    /// <summary>Resolves an open incident; null when it is unknown or already resolved.</summary>
    Task<Incident?> ResolveAsync(ResolveIncidentParams p, CancellationToken cancellationToken);
    /// <summary>Appends a line to an incident's history (a notification sent or failed).</summary>
    Task AddIncidentEventAsync(IncidentEventParams p, CancellationToken cancellationToken);
    /// <summary>An incident with its history; null when unknown.</summary>
    Task<Incident?> GetIncidentAsync(IncidentParams p, CancellationToken cancellationToken);
    /// <summary>Incidents newest first, optionally only open (or resolved) ones, or one rule's.</summary>
    Task<Page<Incident>> ListIncidentsAsync(ListIncidentsParams p, CancellationToken cancellationToken);
    /// <summary>Maintenance: the open incidents of a rule.</summary>
    Task<IReadOnlyList<Incident>> ListOpenIncidentsAsync(RuleIncidentsParams p, CancellationToken cancellationToken);

    Task<MaintenanceWindow> CreateWindowAsync(CreateWindowParams p, CancellationToken cancellationToken);
    /// <summary>The organization's windows that have not ended by <see cref="ListWindowsParams.EndingAfter"/> (all when null), by start.</summary>
    Task<IReadOnlyList<MaintenanceWindow>> ListWindowsAsync(ListWindowsParams p, CancellationToken cancellationToken);
    Task<bool> DeleteWindowAsync(WindowParams p, CancellationToken cancellationToken);

    /// <summary>Jobs of the organization finished since a moment, succeeded and failed (optionally one queue, one type).</summary>
    Task<FinishedCounts> CountFinishedAsync(CountFinishedParams p, CancellationToken cancellationToken);
    /// <summary>Per queue (or the one named): ready jobs and when the oldest of them became ready.</summary>
    Task<IReadOnlyList<QueueBacklog>> BacklogAsync(BacklogParams p, CancellationToken cancellationToken);
}

public sealed record SaveChannelParams(Guid OrganizationId, string Name, AlertChannelKind Kind, string ConfigJson);
public sealed record SaveRuleParams(Guid OrganizationId, AlertRuleDefinition Definition);
public sealed record NamedParams(Guid OrganizationId, string Name);

public sealed record ListNamedParams(Guid OrganizationId)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

/// <param name="Title">One line: what is wrong.</param>
/// <param name="Summary">A few facts (counts, names) for the notification.</param>
public sealed record FireIncidentParams(Guid OrganizationId, Guid RuleId, string RuleName, string Key, string Title, string? Summary, TimeSpan Cooldown);

/// <param name="Opened">A new incident.</param>
/// <param name="Notify">Notify now: the cool-down of the rule and key had passed (recorded as notified).</param>
public sealed record IncidentFiring(Incident Incident, bool Opened, bool Notify);

public sealed record ResolveIncidentParams(Guid OrganizationId, Guid IncidentId, string? Message);
public sealed record IncidentEventParams(Guid OrganizationId, Guid IncidentId, string Kind, string? Message);
public sealed record IncidentParams(Guid OrganizationId, Guid IncidentId);

public sealed record ListIncidentsParams(Guid OrganizationId)
{
    public bool? Open { get; init; }
    public Guid? RuleId { get; init; }
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

public sealed record RuleIncidentsParams(Guid OrganizationId, Guid RuleId);

public sealed record CreateWindowParams(Guid OrganizationId, string? Rule, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string? Reason);
public sealed record ListWindowsParams(Guid OrganizationId, DateTimeOffset? EndingAfter = null);
public sealed record WindowParams(Guid OrganizationId, Guid WindowId);

public sealed record CountFinishedParams(Guid OrganizationId, DateTimeOffset Since, string? Queue = null, string? Type = null);
public sealed record FinishedCounts(long Succeeded, long Failed);

public sealed record BacklogParams(Guid OrganizationId, string? Queue = null);
/// <param name="OldestReadyAt">When the oldest ready job became ready (its run_at), or null when none is.</param>
public sealed record QueueBacklog(string Queue, long Ready, DateTimeOffset? OldestReadyAt);
