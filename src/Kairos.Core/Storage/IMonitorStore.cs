using Kairos.Core.Monitors;

namespace Kairos.Core.Storage;

/// <summary>
/// Check-in monitors, their runs and the organizations' ping keys. Every change of a monitor's status happens in one
/// transaction that reads (and locks) the monitor, records the run and saves what <see cref="MonitorStateMachine"/>
/// decided (see <see cref="MonitorTransactions"/>), so a ping and the watch's evaluation of the same monitor never
/// interleave. Ping keys are stored as a hash (looked up) and sealed by the server (shown to members); the store never
/// sees one in clear.
/// </summary>
public interface IMonitorStore
{
    /// <summary>Creates a monitor; null when the organization has one of that name or slug.</summary>
    Task<CheckInMonitor?> CreateAsync(CreateMonitorParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a monitor's definition (its name stays); the status is kept, with due times counted anew from now when
    /// the timing changed (<see cref="MonitorStateMachine.Redefine"/>). Null when there is none of that name, or when
    /// the new slug is another monitor's.
    /// </summary>
    Task<CheckInMonitor?> UpdateAsync(UpdateMonitorParams p, CancellationToken cancellationToken);

    Task<CheckInMonitor?> GetAsync(MonitorParams p, CancellationToken cancellationToken);

    /// <summary>The organization's monitors by name, optionally in one state.</summary>
    Task<Page<CheckInMonitor>> ListAsync(ListMonitorsParams p, CancellationToken cancellationToken);

    /// <summary>Deletes a monitor and its runs; false when there is none of that name.</summary>
    Task<bool> DeleteAsync(MonitorParams p, CancellationToken cancellationToken);

    /// <summary>Pauses or resumes (<see cref="MonitorStateMachine.Pause"/>, <see cref="MonitorStateMachine.Resume"/>); null when unknown.</summary>
    Task<MonitorChange?> SetPausedAsync(PauseMonitorParams p, CancellationToken cancellationToken);

    /// <summary>Gives the monitor a new ping key (the old one stops working at once); null when unknown.</summary>
    Task<CheckInMonitor?> SetPingKeyAsync(SetMonitorPingKeyParams p, CancellationToken cancellationToken);

    /// <summary>The monitor's runs, newest first; null when the monitor is unknown.</summary>
    Task<Page<MonitorRun>?> ListRunsAsync(ListMonitorRunsParams p, CancellationToken cancellationToken);

    /// <summary>
    /// A ping, found by the hash of the monitor's ping key, or (with a slug) by the hash of its organization's ping key
    /// and the slug: records the run and applies <see cref="MonitorStateMachine.Ping"/>. Null when no monitor has that
    /// key (or slug).
    /// </summary>
    Task<MonitorChange?> PingAsync(PingMonitorParams p, CancellationToken cancellationToken);

    /// <summary>The organization's ping key of slug URLs, sealed; null when it has none yet.</summary>
    Task<OrganizationPingKey?> GetOrganizationPingKeyAsync(Guid organizationId, CancellationToken cancellationToken);

    /// <summary>Sets (or replaces) the organization's ping key of slug URLs.</summary>
    Task<OrganizationPingKey> SetOrganizationPingKeyAsync(SetOrganizationPingKeyParams p, CancellationToken cancellationToken);

    /// <summary>Maintenance, all organizations: monitors whose next check has come, earliest first.</summary>
    Task<IReadOnlyList<DueMonitor>> ListDueAsync(ListDueMonitorsParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Maintenance: applies <see cref="MonitorStateMachine.Evaluate"/> to one monitor as of now, in one transaction with
    /// the monitor locked. Null when nothing changed (a ping came first, paused, deleted).
    /// </summary>
    Task<MonitorChange?> EvaluateAsync(EvaluateMonitorParams p, CancellationToken cancellationToken);

    /// <summary>The earliest next check of any monitor, across all organizations.</summary>
    Task<DateTimeOffset?> NextCheckAsync(CancellationToken cancellationToken);
}

public sealed record CreateMonitorParams(Guid OrganizationId, MonitorDefinition Definition, string PingKeyHash, string PingKeySealed, bool Paused = false,
    string? PauseReason = null);

public sealed record UpdateMonitorParams(Guid OrganizationId, MonitorDefinition Definition);

public sealed record MonitorParams(Guid OrganizationId, string Name);

public sealed record ListMonitorsParams(Guid OrganizationId)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
    public MonitorState? State { get; init; }
}

public sealed record PauseMonitorParams(Guid OrganizationId, string Name, bool Paused, string? Reason);

public sealed record SetMonitorPingKeyParams(Guid OrganizationId, string Name, string PingKeyHash, string PingKeySealed);

public sealed record ListMonitorRunsParams(Guid OrganizationId, string Name)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

/// <param name="KeyHash">The hash of the monitor's ping key; with <paramref name="Slug"/>, of its organization's ping key.</param>
public sealed record PingMonitorParams(string KeyHash, string? Slug, MonitorPing Ping);

public sealed record SetOrganizationPingKeyParams(Guid OrganizationId, string KeyHash, string KeySealed);

/// <summary>An organization's ping key of slug URLs, sealed by the server.</summary>
public sealed record OrganizationPingKey(Guid OrganizationId, string KeySealed, DateTimeOffset CreatedAt);

public sealed record ListDueMonitorsParams(int Limit = 100);

public sealed record DueMonitor(Guid OrganizationId, Guid MonitorId, DateTimeOffset NextCheckAt);

public sealed record EvaluateMonitorParams(Guid OrganizationId, Guid MonitorId);
