namespace Kairos.Core.Monitors;

/// <summary>
/// A store's side of one change of a monitor, inside the transaction that read (and locked) the monitor row: the change
/// writes through it and commits all or nothing.
/// </summary>
public interface IMonitorSession
{
    /// <summary>
    /// Records the ping's run: a start opens a run; a success or failure closes the latest open run of the same rid
    /// (or of no rid, when the ping has none), else it is a run of its own without a start. Keeps the monitor's newest
    /// <see cref="MonitorTransactions.RunsKept"/> runs.
    /// </summary>
    ValueTask<MonitorRun> RecordRunAsync(MonitorPing ping, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Closes the open runs started at or before <paramref name="startedBy"/> as <c>timeout</c>, finished at <paramref name="now"/>.</summary>
    ValueTask TimeOutRunsAsync(DateTimeOffset startedBy, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The start of the monitor's earliest open run; null when none is open.</summary>
    ValueTask<DateTimeOffset?> RunningSinceAsync(CancellationToken cancellationToken);

    /// <summary>Writes the monitor's status, its next check and pause reason.</summary>
    ValueTask SaveAsync(MonitorStatus status, DateTimeOffset? nextCheckAt, string? pauseReason, CancellationToken cancellationToken);
}

/// <summary>
/// What a ping, an evaluation, a pause or a resume writes, the same for every store: the run first (so the status
/// knows which runs are open), then the status <see cref="MonitorStateMachine"/> decided and the next check.
/// </summary>
public static class MonitorTransactions
{
    /// <summary>Each monitor keeps this many of its newest runs.</summary>
    public const int RunsKept = 500;

    public static async Task<MonitorChange> PingAsync(CheckInMonitor m, MonitorPing ping, DateTimeOffset now, IMonitorSession session, CancellationToken cancellationToken)
    {
        var run = await session.RecordRunAsync(ping, now, cancellationToken);
        var running = await session.RunningSinceAsync(cancellationToken);
        var decision = MonitorStateMachine.Ping(m.Definition, m.Status with { RunningSince = running }, ping, now);
        return await SaveAsync(m, decision, m.PauseReason, session, cancellationToken) with { Run = run };
    }

    /// <summary>Null when the time changed nothing.</summary>
    public static async Task<MonitorChange?> EvaluateAsync(CheckInMonitor m, DateTimeOffset now, IMonitorSession session, CancellationToken cancellationToken)
    {
        var decision = MonitorStateMachine.Evaluate(m.Definition, m.Status, now);
        if (decision.Transition is null)
        {
            // Nothing to decide yet: only the next check may have been stale (e.g. written by an older rule).
            var next = MonitorStateMachine.NextCheck(m.Definition, m.Status);
            if (next == m.NextCheckAt) return null;
            await session.SaveAsync(m.Status, next, m.PauseReason, cancellationToken);
            return null;
        }
        if (decision.TimeOutRunsStartedBy is { } startedBy)
        {
            await session.TimeOutRunsAsync(startedBy, now, cancellationToken);
            decision = decision with { Status = decision.Status with { RunningSince = await session.RunningSinceAsync(cancellationToken) } };
        }
        return await SaveAsync(m, decision, m.PauseReason, session, cancellationToken);
    }

    public static Task<MonitorChange> SetPausedAsync(CheckInMonitor m, bool paused, string? reason, DateTimeOffset now, IMonitorSession session,
        CancellationToken cancellationToken)
    {
        var decision = paused ? MonitorStateMachine.Pause(m.Status, now) : MonitorStateMachine.Resume(m.Definition, m.Status, now);
        return SaveAsync(m, decision, paused ? reason : null, session, cancellationToken);
    }

    private static async Task<MonitorChange> SaveAsync(CheckInMonitor m, MonitorDecision decision, string? pauseReason, IMonitorSession session,
        CancellationToken cancellationToken)
    {
        var next = MonitorStateMachine.NextCheck(m.Definition, decision.Status);
        await session.SaveAsync(decision.Status, next, pauseReason, cancellationToken);
        return new MonitorChange(m with { Status = decision.Status, NextCheckAt = next, PauseReason = pauseReason }, decision.Transition);
    }
}
