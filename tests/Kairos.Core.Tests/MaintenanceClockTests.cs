using Kairos.Core.Dispatch;
using Microsoft.Extensions.Time.Testing;

namespace Kairos.Core.Tests;

/// <summary>
/// Time only moves when a test advances the fake clock, so a wait that is still incomplete right after an
/// Advance has not fired: nothing else can complete it. After a WakeAt, the waiting loop re-arms its delay on
/// another thread; tests wait until that delay exists (<see cref="TimerCountingTimeProvider.TimersCreated"/>)
/// before they advance the clock.
/// </summary>
public class MaintenanceClockTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly TimerCountingTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task WaitAsync_returns_when_time_passes_at_most()
    {
        var clock = new MaintenanceClock(_time);

        var wait = clock.WaitAsync(null, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task WaitAsync_returns_when_time_jumps_well_past_at_most()
    {
        var clock = new MaintenanceClock(_time);

        var wait = clock.WaitAsync(null, TimeSpan.FromSeconds(10), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(5));

        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task WaitAsync_with_zero_at_most_returns_at_once()
    {
        var clock = new MaintenanceClock(_time);

        await clock.WaitAsync(null, TimeSpan.Zero, CancellationToken.None).WaitAsync(Timeout);
    }

    [Fact]
    public async Task WakeAt_an_earlier_moment_ends_the_wait_when_time_reaches_it()
    {
        var clock = new MaintenanceClock(_time);
        var wait = clock.WaitAsync(null, TimeSpan.FromMinutes(10), CancellationToken.None);

        Assert.Equal(1, _time.Timers);

        clock.WakeAt(_time.GetUtcNow() + TimeSpan.FromSeconds(2));
        await _time.TimersCreated(2).WaitAsync(Timeout);
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Several_earlier_wake_ups_end_the_wait_at_the_earliest()
    {
        var clock = new MaintenanceClock(_time);
        var start = _time.GetUtcNow();
        var wait = clock.WaitAsync(null, TimeSpan.FromMinutes(10), CancellationToken.None);

        clock.WakeAt(start + TimeSpan.FromSeconds(30));
        await _time.TimersCreated(2).WaitAsync(Timeout);
        clock.WakeAt(start + TimeSpan.FromSeconds(5));
        await _time.TimersCreated(3).WaitAsync(Timeout);
        clock.WakeAt(start + TimeSpan.FromSeconds(20)); // later than the earliest: ignored, nothing re-armed

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(Timeout);
        Assert.Equal(3, _time.Timers);
    }

    [Fact]
    public async Task WakeAt_before_waiting_shortens_the_next_wait()
    {
        var clock = new MaintenanceClock(_time);
        clock.WakeAt(_time.GetUtcNow() + TimeSpan.FromSeconds(3));

        var wait = clock.WaitAsync(null, TimeSpan.FromMinutes(10), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task WakeAt_now_or_in_the_past_ends_the_wait_without_time_passing()
    {
        var clock = new MaintenanceClock(_time);
        var wait = clock.WaitAsync(null, TimeSpan.FromMinutes(10), CancellationToken.None);

        clock.WakeAt(_time.GetUtcNow() - TimeSpan.FromSeconds(1));

        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task WakeAt_later_than_at_most_does_not_shorten_the_wait()
    {
        var clock = new MaintenanceClock(_time);
        var wait = clock.WaitAsync(null, TimeSpan.FromSeconds(10), CancellationToken.None);

        clock.WakeAt(_time.GetUtcNow() + TimeSpan.FromMinutes(1));
        await _time.TimersCreated(2).WaitAsync(Timeout);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(5));
        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task At_most_counts_from_the_start_of_the_wait_even_after_a_later_wake_up()
    {
        var clock = new MaintenanceClock(_time);
        var wait = clock.WaitAsync(null, TimeSpan.FromSeconds(10), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));

        clock.WakeAt(_time.GetUtcNow() + TimeSpan.FromMinutes(1));
        await _time.TimersCreated(2).WaitAsync(Timeout);
        _time.Advance(TimeSpan.FromSeconds(5));

        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Known_due_shortens_the_wait()
    {
        var clock = new MaintenanceClock(_time);

        var wait = clock.WaitAsync(_time.GetUtcNow() + TimeSpan.FromSeconds(4), TimeSpan.FromMinutes(1), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_wake_up_that_came_is_forgotten_by_the_next_wait()
    {
        var clock = new MaintenanceClock(_time);
        clock.WakeAt(_time.GetUtcNow() + TimeSpan.FromSeconds(1));
        var first = clock.WaitAsync(null, TimeSpan.FromMinutes(1), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        await first.WaitAsync(Timeout);

        var second = clock.WaitAsync(null, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(second.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(second.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await second.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_wake_up_still_ahead_is_kept_for_the_next_wait()
    {
        var clock = new MaintenanceClock(_time);
        clock.WakeAt(_time.GetUtcNow() + TimeSpan.FromSeconds(20));
        var first = clock.WaitAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(5));
        await first.WaitAsync(Timeout);

        var second = clock.WaitAsync(null, TimeSpan.FromMinutes(1), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(14));
        Assert.False(second.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        await second.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Cancellation_ends_the_wait_with_an_exception()
    {
        var clock = new MaintenanceClock(_time);
        using var cts = new CancellationTokenSource();
        var wait = clock.WaitAsync(null, TimeSpan.FromMinutes(1), cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Timeout));
    }
}

/// <summary>A fake clock that counts the timers created on it, so a test can wait until a delay is armed.</summary>
internal sealed class TimerCountingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _gate = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waits = [];
    private int _timers;

    public int Timers
    {
        get
        {
            lock (_gate)
            {
                return _timers;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        List<TaskCompletionSource> reached;
        lock (_gate)
        {
            _timers++;
            reached = [.. _waits.Where(w => w.Count <= _timers).Select(w => w.Done)];
            _waits.RemoveAll(w => w.Count <= _timers);
        }
        foreach (var done in reached)
        {
            done.TrySetResult();
        }
        return timer;
    }

    /// <summary>Completes once at least <paramref name="count"/> timers have been created in all.</summary>
    public Task TimersCreated(int count)
    {
        lock (_gate)
        {
            if (_timers >= count) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waits.Add((count, done));
            return done.Task;
        }
    }
}
