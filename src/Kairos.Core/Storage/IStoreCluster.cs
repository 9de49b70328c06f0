namespace Kairos.Core.Storage;

/// <summary>
/// Coordination between several server nodes that share one store (PostgreSQL): wake-ups and domain events reach the
/// other nodes, and one node at a time leads the periodic work. A single-node store (SQLite) has none
/// (<see cref="IKairosStore.Cluster"/> is null) and its one node always leads.
/// </summary>
public interface IStoreCluster
{
    /// <summary>This node's id, unique per process.</summary>
    string NodeId { get; }

    /// <summary>
    /// Listens for the other nodes' notices and events and hands them to <paramref name="listener"/> until cancelled,
    /// reconnecting after connection loss. Notices sent by this node itself are not handed back.
    /// </summary>
    Task ListenAsync(IClusterListener listener, CancellationToken cancellationToken);

    /// <summary>Tells the other nodes that jobs became ready (they wake their long-polling fetchers). May batch.</summary>
    void NotifyReady(ReadyNotice notice);

    /// <summary>Forwards a domain event to the other nodes' event streams. May batch.</summary>
    void PublishEvent(ClusterEvent e);

    /// <summary>
    /// Tries to become the leader. Returns null when another node leads; otherwise leadership is held (on a dedicated
    /// connection) until <see cref="ILeadership.Lost"/> fires or it is disposed.
    /// </summary>
    Task<ILeadership?> TryLeadAsync(CancellationToken cancellationToken);
}

public sealed record ReadyNotice(Guid OrganizationId, string Queue, int Count);

/// <summary>A domain event as it travels between nodes: its data as JSON text.</summary>
public sealed record ClusterEvent(string Type, DateTimeOffset Time, Guid OrganizationId, string DataJson);

public interface IClusterListener
{
    void OnReady(ReadyNotice notice);
    void OnEvent(ClusterEvent e);
}

public interface ILeadership : IAsyncDisposable
{
    /// <summary>Fires when leadership is lost (connection to the store broken).</summary>
    CancellationToken Lost { get; }
}
