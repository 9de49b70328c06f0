namespace Kairos.Core.Dispatch;

/// <summary>
/// Tells the maintenance loop when it has work: a job scheduled for a given moment, or a nudge to look now.
/// The loop sleeps until the earliest moment it was told about, or its regular interval.
/// </summary>
public sealed class MaintenanceClock(TimeProvider time)
{
    private readonly Lock _gate = new();
    private DateTimeOffset _earliest = DateTimeOffset.MaxValue;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void WakeAt(DateTimeOffset at)
    {
        TaskCompletionSource? toSignal = null;
        lock (_gate)
        {
            if (at < _earliest)
            {
                _earliest = at;
                toSignal = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        toSignal?.TrySetResult();
    }

    /// <summary>Waits until the earliest requested moment, <paramref name="atMost"/>, or a new earlier request.</summary>
    public async Task WaitAsync(DateTimeOffset? knownDue, TimeSpan atMost, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + atMost;
        while (true)
        {
            Task changed;
            DateTimeOffset until;
            var now = time.GetUtcNow();
            lock (_gate)
            {
                changed = _changed.Task;
                until = deadline;
                if (_earliest < until) until = _earliest;
                if (knownDue is { } due && due < until) until = due;
            }
            if (until <= now) break;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(until - now, time, cts.Token);
            var first = await Task.WhenAny(changed, delay);
            await cts.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
            if (first == delay) break;
        }
        lock (_gate)
        {
            if (_earliest <= time.GetUtcNow()) _earliest = DateTimeOffset.MaxValue;
        }
    }
}
