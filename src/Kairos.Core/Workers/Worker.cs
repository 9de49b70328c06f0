namespace Kairos.Core.Workers;

public enum WorkerState
{
    Active,
    /// <summary>Asked to take no new jobs.</summary>
    Quiet,
    /// <summary>Asked to stop, or deregistered.</summary>
    Stopped,
    /// <summary>Silent for longer than its heartbeat timeout; its leases ended.</summary>
    Lost,
}

public static class WorkerStates
{
    public static string ToWire(this WorkerState state) => state switch
    {
        WorkerState.Active => "active",
        WorkerState.Quiet => "quiet",
        WorkerState.Stopped => "stopped",
        WorkerState.Lost => "lost",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static WorkerState Parse(string value) => value switch
    {
        "active" => WorkerState.Active,
        "quiet" => WorkerState.Quiet,
        "stopped" => WorkerState.Stopped,
        "lost" => WorkerState.Lost,
        _ => throw new FormatException($"Unknown worker state '{value}'."),
    };
}

/// <summary>What a worker says about itself when it registers.</summary>
public sealed record WorkerRegistration
{
    public required string Name { get; init; }
    public string? Host { get; init; }
    public int? Pid { get; init; }
    public IReadOnlyList<string> Queues { get; init; } = [];
    public int Capacity { get; init; } = 1;
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string? Version { get; init; }
}

public sealed record Worker
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required WorkerRegistration Registration { get; init; }
    public required WorkerState State { get; init; }
    public required DateTimeOffset RegisteredAt { get; init; }
    public required DateTimeOffset LastHeartbeatAt { get; init; }
    /// <summary>Ids of the jobs this worker holds leases on (filled when a worker is loaded in full).</summary>
    public IReadOnlyList<Guid> RunningJobIds { get; init; } = [];
}
