using Kairos.Core.Queues;

namespace Kairos.Core.Storage;

public interface IQueueStore
{
    /// <summary>Creates the queue or replaces its settings.</summary>
    Task<QueueInfo> UpsertAsync(UpsertQueueParams p, CancellationToken cancellationToken);
    Task<QueueInfo?> GetAsync(QueueParams p, CancellationToken cancellationToken);
    Task<IReadOnlyList<QueueInfo>> ListAsync(ListQueuesParams p, CancellationToken cancellationToken);
    /// <summary>False when the queue does not exist.</summary>
    Task<bool> SetPausedAsync(PauseQueueParams p, CancellationToken cancellationToken);
    /// <summary>Removes the queue's queued, scheduled and retrying jobs; null when the queue does not exist.</summary>
    Task<long?> PurgeAsync(QueueParams p, CancellationToken cancellationToken);
    Task<DeleteQueueOutcome> DeleteAsync(QueueParams p, CancellationToken cancellationToken);
}

public sealed record UpsertQueueParams(Guid OrganizationId, string Name, QueueSettings Settings);
public sealed record QueueParams(Guid OrganizationId, string Name);
public sealed record ListQueuesParams(Guid OrganizationId);
public sealed record PauseQueueParams(Guid OrganizationId, string Name, bool Paused, string? Reason);

public enum DeleteQueueOutcome
{
    Deleted,
    NotFound,
    NotEmpty,
}
