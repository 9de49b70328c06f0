using Kairos.Core.Alerts;
using Kairos.Core.Manifests;
using Kairos.Core.Monitors;
using Kairos.Core.Queues;
using Kairos.Core.Schedules;
using Kairos.Core.Workflows;

namespace Kairos.Core.Storage;

/// <summary>
/// Objects declared by manifests: which queues, schedules, monitors and alert rules are managed (their
/// <c>managed_by</c>), and the application of a manifest set's changes in ONE transaction: every write and delete
/// happens, each written object is marked managed, or (a conflict) nothing at all.
/// </summary>
public interface IManifestStore
{
    /// <summary>The organization's objects that are marked managed, by kind then name.</summary>
    Task<IReadOnlyList<ManagedObject>> ListManagedAsync(Guid organizationId, CancellationToken cancellationToken);

    /// <summary>Whether the object exists and who manages it (null: by hand).</summary>
    Task<ManagedState> GetManagerAsync(ManagedObjectParams p, CancellationToken cancellationToken);

    /// <summary>Marks the object managed by <see cref="SetManagerParams.ManagedBy"/> (null: by hand again); false when it does not exist.</summary>
    Task<bool> SetManagerAsync(SetManagerParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Applies the writes in order in one transaction: creates or replaces each object (marking it managed) or deletes it.
    /// A conflict (a queue to delete that still has unfinished jobs, a monitor slug another monitor has, a workflow template to
    /// delete that a schedule starts) rolls all of them back.
    /// </summary>
    Task<ApplyManifestOutcome> ApplyAsync(ApplyManifestParams p, CancellationToken cancellationToken);
}

public sealed record ManagedObject(ManifestKind Kind, string Name, string ManagedBy);

public sealed record ManagedObjectParams(Guid OrganizationId, ManifestKind Kind, string Name);

public sealed record SetManagerParams(Guid OrganizationId, ManifestKind Kind, string Name, string? ManagedBy);

/// <param name="Exists">False when the organization has no such object.</param>
/// <param name="ManagedBy">Null when managed by hand.</param>
public readonly record struct ManagedState(bool Exists, string? ManagedBy);

/// <summary>One change of a manifest set, by kind.</summary>
public abstract record ManifestWrite(ManifestKind Kind, string Name);

/// <summary>Creates the queue or replaces all its settings.</summary>
public sealed record QueueWrite(string Name, QueueSettings Settings) : ManifestWrite(ManifestKind.Queue, Name);

/// <summary>Creates the schedule or replaces its definition (its pause state stays).</summary>
public sealed record ScheduleWrite(ScheduleDefinition Definition) : ManifestWrite(ManifestKind.Schedule, Definition.Name);

/// <summary>Creates the monitor (with this ping key) or replaces its definition (its ping key stays).</summary>
public sealed record MonitorWrite(MonitorDefinition Definition, string PingKeyHash, string PingKeySealed) : ManifestWrite(ManifestKind.Monitor, Definition.Name);

/// <summary>Creates the rule or replaces its definition.</summary>
public sealed record AlertRuleWrite(AlertRuleDefinition Definition) : ManifestWrite(ManifestKind.AlertRule, Definition.Name);

/// <summary>Creates the workflow template or replaces its steps.</summary>
public sealed record WorkflowTemplateWrite(string Name, IReadOnlyList<WorkflowTemplateStep> Steps) : ManifestWrite(ManifestKind.Workflow, Name);

/// <summary>Deletes the object (as its own delete does: a schedule's runs and a monitor's runs go with it).</summary>
public sealed record DeleteWrite(ManifestKind Kind, string Name) : ManifestWrite(Kind, Name);

public sealed record ApplyManifestParams(Guid OrganizationId, IReadOnlyList<ManifestWrite> Writes, string ManagedBy = ManagedBy.Manifest);

/// <summary>Applied; or nothing was, because of <see cref="Conflict"/> on the write <see cref="ConflictWith"/>.</summary>
public sealed record ApplyManifestOutcome(bool Applied, ManifestWrite? ConflictWith = null, string? Conflict = null)
{
    public static readonly ApplyManifestOutcome Done = new(true);
}
