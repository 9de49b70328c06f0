using System.Threading.Channels;
using Kairos.Core.Events;
using Microsoft.Extensions.Time.Testing;

namespace Kairos.Core.Tests;

/// <summary>Publish writes to subscribers synchronously, so what a subscriber got can be drained with TryRead.</summary>
public class EventBusTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly Guid OrgA = Guid.NewGuid();
    private static readonly Guid OrgB = Guid.NewGuid();

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.Zero));

    private static List<DomainEvent> Drain(ChannelReader<DomainEvent> reader)
    {
        var events = new List<DomainEvent>();
        while (reader.TryRead(out var e))
        {
            events.Add(e);
        }
        return events;
    }

    [Fact]
    public void Ids_start_at_one_and_increase_by_one()
    {
        var bus = new EventBus(_time);
        Assert.Equal(0, bus.LastId);

        var ids = Enumerable.Range(0, 20).Select(i => bus.Publish("t", i % 2 == 0 ? OrgA : OrgB, i).Id).ToArray();

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), ids);
        Assert.Equal(20, bus.LastId);
    }

    [Fact]
    public void Published_event_carries_type_time_organization_and_data()
    {
        var bus = new EventBus(_time);
        var data = new QueueEventData("emails", "maintenance");

        var e = bus.Publish("queue.paused", OrgA, data);

        Assert.Equal("queue.paused", e.Type);
        Assert.Equal(_time.GetUtcNow(), e.Time);
        Assert.Equal(OrgA, e.OrganizationId);
        Assert.Same(data, e.Data);
    }

    [Fact]
    public async Task Subscriber_gets_only_its_organizations_events_in_order()
    {
        var bus = new EventBus(_time);
        using var a = bus.Subscribe(OrgA);
        using var b = bus.Subscribe(OrgB);

        for (var i = 0; i < 10; i++)
        {
            bus.Publish($"t{i}", i % 3 == 0 ? OrgB : OrgA, i);
        }

        var first = await a.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        var gotA = new[] { first }.Concat(Drain(a.Reader)).ToList();
        var gotB = Drain(b.Reader);

        Assert.Equal([1, 2, 4, 5, 7, 8], gotA.Select(e => (int)e.Data));
        Assert.All(gotA, e => Assert.Equal(OrgA, e.OrganizationId));
        Assert.Equal(gotA.Select(e => e.Id).Order(), gotA.Select(e => e.Id));
        Assert.Equal([0, 3, 6, 9], gotB.Select(e => (int)e.Data));
        Assert.All(gotB, e => Assert.Equal(OrgB, e.OrganizationId));
    }

    [Fact]
    public void Subscriber_without_after_id_gets_only_later_events()
    {
        var bus = new EventBus(_time);
        bus.Publish("before", OrgA, 0);

        using var s = bus.Subscribe(OrgA);
        bus.Publish("after", OrgA, 1);

        Assert.Equal(["after"], Drain(s.Reader).Select(e => e.Type));
        Assert.False(s.Gap);
    }

    [Fact]
    public void Subscribe_after_id_replays_buffered_events_after_it_then_continues_live()
    {
        var bus = new EventBus(_time);
        for (var i = 1; i <= 6; i++)
        {
            bus.Publish("t", i % 2 == 0 ? OrgA : OrgB, i);
        }

        using var s = bus.Subscribe(OrgA, afterId: 2);
        bus.Publish("live", OrgA, 7);
        bus.Publish("live", OrgB, 8);

        Assert.False(s.Gap);
        Assert.Equal([4L, 6L, 7L], Drain(s.Reader).Select(e => e.Id));
    }

    [Fact]
    public void Subscribe_after_the_last_id_replays_nothing()
    {
        var bus = new EventBus(_time);
        bus.Publish("t", OrgA, 1);
        bus.Publish("t", OrgA, 2);

        using var s = bus.Subscribe(OrgA, afterId: bus.LastId);

        Assert.Empty(Drain(s.Reader));
        Assert.False(s.Gap);
    }

    [Fact]
    public void Subscribe_after_zero_replays_everything_buffered()
    {
        var bus = new EventBus(_time);
        bus.Publish("t", OrgA, 1);
        bus.Publish("t", OrgA, 2);

        using var s = bus.Subscribe(OrgA, afterId: 0);

        Assert.Equal([1L, 2L], Drain(s.Reader).Select(e => e.Id));
        Assert.False(s.Gap);
    }

    [Fact]
    public void Resume_from_too_far_back_sets_gap_and_replays_only_what_is_left()
    {
        var bus = new EventBus(_time, bufferSize: 4);
        for (var i = 1; i <= 10; i++)
        {
            bus.Publish("t", OrgA, i);
        }

        using var s = bus.Subscribe(OrgA, afterId: 2);

        Assert.True(s.Gap);
        Assert.Equal([7L, 8L, 9L, 10L], Drain(s.Reader).Select(e => e.Id));
    }

    [Fact]
    public void Resume_from_just_inside_the_buffer_has_no_gap()
    {
        var bus = new EventBus(_time, bufferSize: 4);
        for (var i = 1; i <= 10; i++)
        {
            bus.Publish("t", OrgA, i);
        }

        using var s = bus.Subscribe(OrgA, afterId: 6);

        Assert.False(s.Gap);
        Assert.Equal([7L, 8L, 9L, 10L], Drain(s.Reader).Select(e => e.Id));
    }

    [Fact]
    public void Resume_one_event_too_far_back_has_a_gap()
    {
        var bus = new EventBus(_time, bufferSize: 4);
        for (var i = 1; i <= 10; i++)
        {
            bus.Publish("t", OrgA, i);
        }

        using var s = bus.Subscribe(OrgA, afterId: 5);

        Assert.True(s.Gap);
        Assert.Equal([7L, 8L, 9L, 10L], Drain(s.Reader).Select(e => e.Id));
    }

    [Fact]
    public void Replay_with_a_small_buffer_filters_other_organizations()
    {
        var bus = new EventBus(_time, bufferSize: 4);
        for (var i = 1; i <= 10; i++)
        {
            bus.Publish("t", i % 2 == 0 ? OrgA : OrgB, i);
        }

        using var s = bus.Subscribe(OrgA, afterId: 1);

        Assert.True(s.Gap);
        Assert.Equal([8L, 10L], Drain(s.Reader).Select(e => e.Id));
    }

    [Fact]
    public async Task Disposed_subscription_completes_and_gets_nothing_more()
    {
        var bus = new EventBus(_time);
        var s = bus.Subscribe(OrgA);
        bus.Publish("t", OrgA, 1);

        s.Dispose();
        bus.Publish("t", OrgA, 2);

        Assert.Equal([1L], Drain(s.Reader).Select(e => e.Id));
        await s.Reader.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Subscriber_that_cannot_keep_up_is_closed_after_what_it_holds()
    {
        var bus = new EventBus(_time);
        using var slow = bus.Subscribe(OrgA, capacity: 2);
        using var other = bus.Subscribe(OrgA);

        for (var i = 1; i <= 5; i++)
        {
            bus.Publish("t", OrgA, i);
        }

        Assert.Equal([1L, 2L], Drain(slow.Reader).Select(e => e.Id));
        await slow.Reader.Completion.WaitAsync(Timeout);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Drain(other.Reader).Select(e => e.Id));
    }

    [Fact]
    public void Subscriber_that_fell_behind_resumes_from_the_buffer_with_its_last_id()
    {
        var bus = new EventBus(_time);
        long lastSeen;
        using (var slow = bus.Subscribe(OrgA, capacity: 2))
        {
            for (var i = 1; i <= 5; i++)
            {
                bus.Publish("t", OrgA, i);
            }
            lastSeen = Drain(slow.Reader).Last().Id;
        }

        using var resumed = bus.Subscribe(OrgA, afterId: lastSeen);

        Assert.False(resumed.Gap);
        Assert.Equal([3L, 4L, 5L], Drain(resumed.Reader).Select(e => e.Id));
    }
}
