namespace Kairos.Core.Storage;

/// <summary>
/// The storage interface every store implements (SQLite, PostgreSQL), split into facets. Every method takes one params
/// record and is scoped to an organization unless it is maintenance work across all of them. Stores persist what
/// <see cref="Jobs.JobStateMachine"/> decides, atomically, and report whether it applied.
/// </summary>
public interface IKairosStore : IAsyncDisposable
{
    /// <summary>The driver's name as shown to users: <c>sqlite</c>, <c>postgres</c>.</summary>
    string Driver { get; }

    StoreCapabilities Capabilities { get; }

    IJobStore Jobs { get; }
    IQueueStore Queues { get; }
    IWorkerStore Workers { get; }
    IApiKeyStore ApiKeys { get; }
    IIdentityStore Identity { get; }
    IAuditStore Audit { get; }
    IScheduleStore Schedules { get; }
    IAlertStore Alerts { get; }
    IWebhookStore Webhooks { get; }
    IKeyRingStore KeyRing { get; }
    IWorkflowStore Workflows { get; }
    IWorkflowTemplateStore WorkflowTemplates { get; }
    IMonitorStore Monitors { get; }
    IMetricsStore Metrics { get; }
    IManifestStore Manifests { get; }

    /// <summary>Coordination with other server nodes on the same store; null for a single-node store.</summary>
    IStoreCluster? Cluster { get; }

    /// <summary>Opens the store and applies pending migrations. Called once at start.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>True when the store is open, migrated and answering.</summary>
    Task<bool> IsReadyAsync(CancellationToken cancellationToken);
}

/// <param name="NotifiesAcrossNodes">The store wakes fetchers on other server nodes when jobs become ready.</param>
/// <param name="Durability">How commits survive failures, in words for the system info page.</param>
public sealed record StoreCapabilities(bool NotifiesAcrossNodes, string Durability);

/// <summary>A page of a list and the cursor of the next one (null at the end).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
