using Kairos.Core.Manifests;

namespace Kairos.Core.Storage;

/// <summary>The table of each manifest kind, the same in every store; each has <c>organization_id</c>, <c>name</c> and <c>managed_by</c>.</summary>
public static class ManifestRows
{
    public static string Table(ManifestKind kind) => kind switch
    {
        ManifestKind.Queue => "queues",
        ManifestKind.Schedule => "schedules",
        ManifestKind.Monitor => "monitors",
        ManifestKind.AlertRule => "alert_rules",
        ManifestKind.Workflow => "workflow_templates",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not stored as a manifest kind"),
    };

    /// <summary>The kinds that have a table.</summary>
    public static readonly IReadOnlyList<ManifestKind> Kinds = [ManifestKind.Queue, ManifestKind.Workflow, ManifestKind.Schedule, ManifestKind.Monitor, ManifestKind.AlertRule];
}
