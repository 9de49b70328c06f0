using Kairos.Core.Dispatch;

namespace Kairos.Core.Tests;

/// <summary>
/// Notify completes waiters synchronously (continuations run asynchronously), so right after a Notify call
/// <see cref="Task.IsCompleted"/> tells exactly who was woken.
/// </summary>
public class ReadySignalTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly Guid Org = Guid.NewGuid();
    private static readonly Guid OtherOrg = Guid.NewGuid();

    [Fact]
    public async Task Notify_wakes_a_registered_waiter_with_its_queue()
    {
        var signal = new ReadySignal();
        var waiter = signal.Register(Org, ["emails"]);
        Assert.False(waiter.Woken.IsCompleted);

        signal.Notify(Org, "emails");

        Assert.Equal("emails", await waiter.Woken.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Notify_count_wakes_at_most_count_waiters_oldest_first()
    {
        var signal = new ReadySignal();
        var waiters = Enumerable.Range(0, 5).Select(_ => signal.Register(Org, ["q"])).ToArray();

        signal.Notify(Org, "q", 2);

        Assert.True(waiters[0].Woken.IsCompleted);
        Assert.True(waiters[1].Woken.IsCompleted);
        Assert.False(waiters[2].Woken.IsCompleted);
        Assert.False(waiters[3].Woken.IsCompleted);
        Assert.False(waiters[4].Woken.IsCompleted);

        signal.Notify(Org, "q", 1);

        Assert.True(waiters[2].Woken.IsCompleted);
        Assert.False(waiters[3].Woken.IsCompleted);
        Assert.False(waiters[4].Woken.IsCompleted);

        foreach (var w in waiters[..3])
        {
            Assert.Equal("q", await w.Woken.WaitAsync(Timeout));
        }
    }

    [Fact]
    public void Notify_with_a_count_larger_than_the_waiters_wakes_them_all()
    {
        var signal = new ReadySignal();
        var waiters = Enumerable.Range(0, 3).Select(_ => signal.Register(Org, ["q"])).ToArray();

        signal.Notify(Org, "q", 10);

        Assert.All(waiters, w => Assert.True(w.Woken.IsCompleted));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Notify_with_a_count_below_one_wakes_nobody(int count)
    {
        var signal = new ReadySignal();
        var waiter = signal.Register(Org, ["q"]);

        signal.Notify(Org, "q", count);

        Assert.False(waiter.Woken.IsCompleted);
    }

    [Fact]
    public void The_next_notification_goes_to_the_next_waiter_not_the_woken_one()
    {
        var signal = new ReadySignal();
        var first = signal.Register(Org, ["q"]);
        signal.Notify(Org, "q");
        var second = signal.Register(Org, ["q"]);

        signal.Notify(Org, "q");

        Assert.True(second.Woken.IsCompleted);
        Assert.Equal("q", first.Withdraw());
        Assert.Equal("q", second.Withdraw());
    }

    [Fact]
    public async Task Waiter_on_two_queues_is_woken_once_and_does_not_use_up_the_other_queues_notification()
    {
        var signal = new ReadySignal();
        var both = signal.Register(Org, ["a", "b"]);
        var onlyB = signal.Register(Org, ["b"]);

        signal.Notify(Org, "a");

        Assert.True(both.Woken.IsCompleted);
        Assert.False(onlyB.Woken.IsCompleted);

        // "both" sits first in b's list but is already woken: b's single notification must reach the next waiter.
        signal.Notify(Org, "b");

        Assert.True(onlyB.Woken.IsCompleted);
        Assert.Equal("a", await both.Woken.WaitAsync(Timeout));
        Assert.Equal("b", await onlyB.Woken.WaitAsync(Timeout));
        Assert.Equal("a", both.Withdraw());
    }

    [Fact]
    public async Task Waiter_on_two_queues_notified_on_both_reports_the_first()
    {
        var signal = new ReadySignal();
        var both = signal.Register(Org, ["a", "b"]);

        signal.Notify(Org, "b");
        signal.Notify(Org, "a");

        Assert.Equal("b", await both.Woken.WaitAsync(Timeout));
        Assert.Equal("b", both.Withdraw());
    }

    [Fact]
    public void Withdraw_returns_the_waking_queue()
    {
        var signal = new ReadySignal();
        var waiter = signal.Register(Org, ["x", "y"]);
        signal.Notify(Org, "y");

        Assert.Equal("y", waiter.Withdraw());
        Assert.Equal("y", waiter.Withdraw());
    }

    [Fact]
    public async Task Withdraw_returns_null_when_not_woken_and_completes_the_waiter_with_null()
    {
        var signal = new ReadySignal();
        var waiter = signal.Register(Org, ["x"]);

        Assert.Null(waiter.Withdraw());
        Assert.Null(await waiter.Woken.WaitAsync(Timeout));
    }

    [Fact]
    public void A_withdrawn_waiter_does_not_use_up_a_notification()
    {
        var signal = new ReadySignal();
        var withdrawn = signal.Register(Org, ["q"]);
        var next = signal.Register(Org, ["q"]);
        Assert.Null(withdrawn.Withdraw());

        signal.Notify(Org, "q");

        Assert.True(next.Woken.IsCompleted);
        Assert.Null(withdrawn.Withdraw());
        Assert.Equal("q", next.Withdraw());
    }

    [Fact]
    public void Notification_for_another_organization_does_not_wake()
    {
        var signal = new ReadySignal();
        var waiter = signal.Register(Org, ["q"]);
        var other = signal.Register(OtherOrg, ["q"]);

        signal.Notify(OtherOrg, "q");

        Assert.False(waiter.Woken.IsCompleted);
        Assert.True(other.Woken.IsCompleted);
    }

    [Fact]
    public void Notification_for_another_queue_does_not_wake()
    {
        var signal = new ReadySignal();
        var waiter = signal.Register(Org, ["q"]);

        signal.Notify(Org, "r");
        signal.Notify(Org, "Q");
        signal.Notify(Org, "q ");

        Assert.False(waiter.Woken.IsCompleted);
        Assert.Null(waiter.Withdraw());
    }

    [Fact]
    public void Notification_before_registering_is_not_remembered()
    {
        var signal = new ReadySignal();
        signal.Notify(Org, "q");

        var waiter = signal.Register(Org, ["q"]);

        Assert.False(waiter.Woken.IsCompleted);
    }

    [Fact]
    public void Version_grows_only_for_wake_ups_that_found_no_waiter()
    {
        var signal = new ReadySignal();
        var v0 = signal.Version;

        signal.Notify(Org, "q");
        var v1 = signal.Version;
        Assert.NotEqual(v0, v1); // nobody waits: a fetcher that looked before this must look again

        var first = signal.Register(Org, ["q"]);
        var second = signal.Register(Org, ["q"]);
        signal.Notify(Org, "q");
        Assert.True(first.Woken.IsCompleted);
        Assert.Equal(v1, signal.Version); // went to a waiter, who looks for it: nobody else need look again

        signal.Notify(Org, "q", 2); // one for the second waiter, one for nobody
        Assert.True(second.Woken.IsCompleted);
        Assert.NotEqual(v1, signal.Version);
    }

    [Fact]
    public void Many_withdrawn_waiters_do_not_hide_a_live_one()
    {
        var signal = new ReadySignal();
        for (var i = 0; i < 200; i++)
        {
            signal.Register(Org, ["q"]).Withdraw();
        }
        var live = signal.Register(Org, ["q"]);

        signal.Notify(Org, "q");

        Assert.True(live.Woken.IsCompleted);
        Assert.Equal("q", live.Withdraw());
    }

    [Fact]
    public async Task Awaiting_fetchers_are_woken_by_a_notification_from_another_thread()
    {
        var signal = new ReadySignal();
        var waiters = Enumerable.Range(0, 3).Select(_ => signal.Register(Org, ["q"])).ToArray();

        await Task.Run(() => signal.Notify(Org, "q", 3));

        var woken = await Task.WhenAll(waiters.Select(w => w.Woken)).WaitAsync(Timeout);
        Assert.All(woken, q => Assert.Equal("q", q));
    }
}
