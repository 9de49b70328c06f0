using System.Threading.Channels;

namespace Kairos.Core.Events;

/// <summary>
/// In-process fan-out of domain events with a bounded replay buffer, so that a subscriber that reconnects with the
/// id of the last event it saw gets what it missed (while the buffer still holds it).
/// </summary>
public sealed class EventBus(TimeProvider time, int bufferSize = 10_000)
{
    private readonly Lock _gate = new();
    private readonly DomainEvent?[] _ring = new DomainEvent?[bufferSize];
    private readonly List<Subscription> _subscribers = [];
    private long _lastId;

    public long LastId => Volatile.Read(ref _lastId);

    /// <summary>Called with every event published on this node (not those received from peers), e.g. to forward it to other nodes.</summary>
    public Action<DomainEvent>? Forward { get; set; }

    /// <summary>Publishes an event that happened on this node.</summary>
    public DomainEvent Publish(string type, Guid organizationId, object data)
    {
        var e = Deliver(type, time.GetUtcNow(), organizationId, data, local: true);
        Forward?.Invoke(e);
        return e;
    }

    /// <summary>Publishes an event that happened on another node; it gets an id of this node's sequence and is not forwarded again.</summary>
    public DomainEvent PublishFromPeer(string type, DateTimeOffset at, Guid organizationId, object data) =>
        Deliver(type, at, organizationId, data, local: false);

    private DomainEvent Deliver(string type, DateTimeOffset at, Guid organizationId, object data, bool local)
    {
        lock (_gate)
        {
            // Delivered under the lock so every subscriber sees ids in order; TryWrite never blocks.
            var e = new DomainEvent(++_lastId, type, at, organizationId, data);
            _ring[e.Id % _ring.Length] = e;
            foreach (var s in _subscribers)
            {
                if ((s.All ? local || !s.LocalOnly : s.OrganizationId == organizationId) && !s.Channel.Writer.TryWrite(e))
                {
                    // A subscriber that cannot keep up is closed; it reconnects and resumes from the buffer.
                    s.Channel.Writer.TryComplete();
                }
            }
            return e;
        }
    }

    /// <summary>
    /// Subscribes to an organization's events. With <paramref name="afterId"/>, the events after it that are still
    /// buffered come first; <see cref="Subscription.Gap"/> tells when some were already gone.
    /// </summary>
    public Subscription Subscribe(Guid organizationId, long? afterId = null, int capacity = 4096)
    {
        var s = new Subscription(this, organizationId, NewChannel(capacity));
        lock (_gate)
        {
            if (afterId is { } requested && requested < _lastId)
            {
                var after = Math.Max(requested, 0);
                var oldest = Math.Max(after + 1, _lastId - _ring.Length + 1);
                s.Gap = oldest > after + 1;
                for (var id = oldest; id <= _lastId; id++)
                {
                    if (_ring[id % _ring.Length] is { } e && e.Id == id && e.OrganizationId == organizationId && !s.Channel.Writer.TryWrite(e))
                    {
                        s.Gap = true;
                        s.Channel.Writer.TryComplete();
                        break;
                    }
                }
            }
            _subscribers.Add(s);
        }
        return s;
    }

    /// <summary>
    /// Subscribes to every organization's events from now on (server work: alert evaluation, webhook deliveries). With
    /// <paramref name="localOnly"/>, only the events that happened on this node, not those received from peers.
    /// </summary>
    public Subscription SubscribeAll(bool localOnly, int capacity = 16_384)
    {
        var s = new Subscription(this, Guid.Empty, NewChannel(capacity))
        {
            All = true,
            LocalOnly = localOnly,
        };
        lock (_gate)
        {
            _subscribers.Add(s);
        }
        return s;
    }

    private static Channel<DomainEvent> NewChannel(int capacity) => Channel.CreateBounded<DomainEvent>(new BoundedChannelOptions(capacity)
    {
        FullMode = BoundedChannelFullMode.Wait, // TryWrite answers false when full
        SingleReader = true,
    });

    private void Unsubscribe(Subscription s)
    {
        lock (_gate)
        {
            _subscribers.Remove(s);
        }
        s.Channel.Writer.TryComplete();
    }

    public sealed class Subscription : IDisposable
    {
        private readonly EventBus _bus;

        internal Subscription(EventBus bus, Guid organizationId, Channel<DomainEvent> channel)
        {
            _bus = bus;
            OrganizationId = organizationId;
            Channel = channel;
        }

        public Guid OrganizationId { get; }
        /// <summary>Every organization's events (<see cref="SubscribeAll"/>).</summary>
        public bool All { get; internal init; }
        /// <summary>With <see cref="All"/>: only events published on this node.</summary>
        public bool LocalOnly { get; internal init; }
        internal Channel<DomainEvent> Channel { get; }
        /// <summary>Events after the requested id had already left the buffer.</summary>
        public bool Gap { get; internal set; }
        public ChannelReader<DomainEvent> Reader => Channel.Reader;

        public void Dispose() => _bus.Unsubscribe(this);
    }
}
