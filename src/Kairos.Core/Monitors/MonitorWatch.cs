using Kairos.Core.Dispatch;
using Kairos.Core.Events;
using Kairos.Core.Storage;

namespace Kairos.Core.Monitors;

/// <summary>
/// The data of every monitor event: <c>monitor.up</c>, <c>.late</c>, <c>.late_start</c>, <c>.down</c>, <c>.paused</c>,
/// <c>.resumed</c> (a change of state: <paramref name="State"/> is the new one, <paramref name="PreviousState"/> the one
/// before, <paramref name="Reason"/> why: <c>ping</c>, <c>started</c>, <c>due</c>, <c>missed</c>, <c>late_start</c>,
/// <c>max_runtime</c>, <c>failed</c>, <c>paused</c>, <c>resumed</c>), and <c>monitor.created</c>, <c>.updated</c>,
/// <c>.deleted</c> (the state as it is, no previous state).
/// </summary>
public sealed record MonitorEventData(Guid MonitorId, string Name, string Slug, string State, string? PreviousState, string? Reason)
{
    public static MonitorEventData Of(CheckInMonitor m, MonitorTransition? t = null) =>
        new(m.Id, m.Name, m.Definition.Slug, m.State.ToWire(), t?.From.ToWire(), t?.Reason ?? m.Status.Reason);
}

/// <summary>
/// Watches monitors over time: a loop, run by the leader only (beside the scheduler), that wakes at the earliest next
/// check of any monitor (or every <see cref="Interval"/>, or when told of an earlier one), applies
/// <see cref="MonitorStateMachine.Evaluate"/> to every monitor that is due through the store, and publishes each change
/// of state. Pings, pauses and resumes on any node publish theirs through <see cref="Publish"/>.
/// </summary>
public sealed class MonitorWatch(IKairosStore store, EventBus events, TimeProvider time)
{
    /// <summary>The loop looks at the store at least this often (a ping on another node may have moved a due time earlier).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly MaintenanceClock _clock = new(time);

    /// <summary>Called with each failure of a pass or of one monitor's evaluation; the loop goes on.</summary>
    public Action<Exception>? OnError { get; set; }

    /// <summary>Tells the loop a monitor may need a look at <paramref name="at"/> (after a ping or a change on this node).</summary>
    public void WakeAt(DateTimeOffset? at)
    {
        if (at is { } t) _clock.WakeAt(t);
    }

    /// <summary>Publishes a change of state (if any), and wakes the loop for the monitor's next check.</summary>
    public void Publish(MonitorChange change)
    {
        if (change.Transition is { } t) events.Publish(t.EventType, change.Monitor.OrganizationId, MonitorEventData.Of(change.Monitor, t));
        WakeAt(change.Monitor.NextCheckAt);
    }

    /// <summary>One pass: evaluates every due monitor. Answers how many changed state.</summary>
    public async Task<int> EvaluateDueAsync(CancellationToken cancellationToken)
    {
        var changed = 0;
        while (true)
        {
            var due = await store.Monitors.ListDueAsync(new ListDueMonitorsParams(), cancellationToken);
            if (due.Count == 0) return changed;
            var progress = 0;
            foreach (var d in due)
            {
                try
                {
                    if (await store.Monitors.EvaluateAsync(new EvaluateMonitorParams(d.OrganizationId, d.MonitorId), cancellationToken) is { } change)
                    {
                        Publish(change);
                        changed++;
                    }
                    progress++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // One monitor that cannot be evaluated does not hold up the others.
                    OnError?.Invoke(ex);
                }
            }
            // A full page may hide more; a page of monitors that made no progress (all failing) waits for the next pass.
            if (progress == 0 || due.Count < new ListDueMonitorsParams().Limit) return changed;
        }
    }

    /// <summary>Evaluates due monitors until cancelled (leadership lost, shutdown).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            DateTimeOffset? next = null;
            try
            {
                await EvaluateDueAsync(cancellationToken);
                next = await store.Monitors.NextCheckAsync(cancellationToken);
                // Still due after a pass: a monitor that fails to evaluate. Retry it at the regular interval, not in a spin.
                if (next is { } n && n <= time.GetUtcNow()) next = null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                OnError?.Invoke(ex);
            }
            try
            {
                await _clock.WaitAsync(next, Interval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
