using Kairos.Core.Workers;

namespace Kairos.Core.Storage;

public interface IWorkerStore
{
    Task<Worker> RegisterAsync(RegisterWorkerParams p, CancellationToken cancellationToken);

    /// <summary>Records a sign of life; a lost worker becomes active again. Null when the worker is unknown.</summary>
    Task<WorkerHeartbeatResult?> HeartbeatAsync(WorkerParams p, CancellationToken cancellationToken);

    Task<Worker?> GetAsync(WorkerParams p, CancellationToken cancellationToken);
    Task<IReadOnlyList<Worker>> ListAsync(ListWorkersParams p, CancellationToken cancellationToken);

    /// <summary>Asks a worker to go quiet or stop (delivered with its next heartbeat). False when unknown.</summary>
    Task<bool> SetStateAsync(SetWorkerStateParams p, CancellationToken cancellationToken);

    /// <summary>Removes the worker; its running jobs come back now as failed attempts. Null when unknown.</summary>
    Task<IReadOnlyList<JobChange>?> DeregisterAsync(WorkerParams p, CancellationToken cancellationToken);

    /// <summary>Maintenance, all organizations: workers silent since before the cutoff become lost and their leases end.</summary>
    Task<LostWorkers> MarkLostAsync(MarkLostParams p, CancellationToken cancellationToken);
}

public sealed record RegisterWorkerParams(Guid OrganizationId, WorkerRegistration Registration);
public sealed record WorkerParams(Guid OrganizationId, Guid WorkerId);
public sealed record ListWorkersParams(Guid OrganizationId, bool IncludeStopped = false);
public sealed record SetWorkerStateParams(Guid OrganizationId, Guid WorkerId, WorkerState State);
public sealed record WorkerHeartbeatResult(WorkerState State, IReadOnlyList<Guid> CancelJobIds);
public sealed record MarkLostParams(DateTimeOffset SilentSince);
public sealed record LostWorkers(IReadOnlyList<Worker> Workers, IReadOnlyList<JobChange> Changes);
