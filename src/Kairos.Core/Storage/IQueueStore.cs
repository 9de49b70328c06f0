using Kairos.Core.Queues;

namespace Kairos.Core.Storage;

public interface IQueueStore
{
    /// <summary>Creates the queue or sets its settings: those named by <see cref="UpsertQueueParams.Fields"/> (all by default); the others keep their values (a new queue has none).</summary>
    Task<QueueInfo> UpsertAsync(UpsertQueueParams p, CancellationToken cancellationToken);
    Task<QueueInfo?> GetAsync(QueueParams p, CancellationToken cancellationToken);
    Task<IReadOnlyList<QueueInfo>> ListAsync(ListQueuesParams p, CancellationToken cancellationToken);
    /// <summary>False when the queue does not exist.</summary>
    Task<bool> SetPausedAsync(PauseQueueParams p, CancellationToken cancellationToken);
    /// <summary>Removes the queue's queued, scheduled and retrying jobs; null when the queue does not exist.</summary>
    Task<long?> PurgeAsync(QueueParams p, CancellationToken cancellationToken);
    Task<DeleteQueueOutcome> DeleteAsync(QueueParams p, CancellationToken cancellationToken);
}

public sealed record UpsertQueueParams(Guid OrganizationId, string Name, QueueSettings Settings, QueueSettingFields Fields = QueueSettingFields.All);

/// <summary>Which settings an upsert writes.</summary>
[Flags]
public enum QueueSettingFields
{
    None = 0,
    ConcurrencyLimit = 1,
    RateLimit = 2,
    DefaultMaxAttempts = 4,
    DefaultTimeoutMs = 8,
    All = ConcurrencyLimit | RateLimit | DefaultMaxAttempts | DefaultTimeoutMs,
}

public static class QueueSettingsMask
{
    /// <summary>The settings with every field outside <paramref name="fields"/> left null (what a new queue gets for it).</summary>
    public static QueueSettings Apply(QueueSettings s, QueueSettingFields fields) => new()
    {
        ConcurrencyLimit = fields.HasFlag(QueueSettingFields.ConcurrencyLimit) ? s.ConcurrencyLimit : null,
        RateLimit = fields.HasFlag(QueueSettingFields.RateLimit) ? s.RateLimit : null,
        DefaultMaxAttempts = fields.HasFlag(QueueSettingFields.DefaultMaxAttempts) ? s.DefaultMaxAttempts : null,
        DefaultTimeoutMs = fields.HasFlag(QueueSettingFields.DefaultTimeoutMs) ? s.DefaultTimeoutMs : null,
    };
}
public sealed record QueueParams(Guid OrganizationId, string Name);
public sealed record ListQueuesParams(Guid OrganizationId);
public sealed record PauseQueueParams(Guid OrganizationId, string Name, bool Paused, string? Reason);

public enum DeleteQueueOutcome
{
    Deleted,
    NotFound,
    NotEmpty,
}
