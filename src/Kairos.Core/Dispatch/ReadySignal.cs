using System.Collections.Concurrent;

namespace Kairos.Core.Dispatch;

/// <summary>
/// Wakes long-polling fetchers when jobs become ready in a queue. A notification for n jobs wakes at most n waiters,
/// oldest first, so a single enqueue does not stampede a hundred idle workers into the store.
/// </summary>
public sealed class ReadySignal
{
    private readonly ConcurrentDictionary<(Guid Org, string Queue), WaitList> _lists = new();
    private long _version;

    /// <summary>
    /// Grows with every notification. A fetcher that reads it before looking for jobs and finds it unchanged after
    /// registering knows that nothing became ready in between, and need not look again.
    /// </summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Registers a waiter on every queue it fetches from. Register before looking for jobs, so no wake-up is missed.</summary>
    public Waiter Register(Guid organizationId, IReadOnlyList<string> queues)
    {
        var waiter = new Waiter();
        foreach (var queue in queues)
        {
            _lists.GetOrAdd((organizationId, queue), static _ => new WaitList()).Add(waiter);
        }
        return waiter;
    }

    /// <summary>Wakes up to <paramref name="count"/> waiters of the queue.</summary>
    public void Notify(Guid organizationId, string queue, int count = 1)
    {
        if (count <= 0) return;
        Interlocked.Increment(ref _version);
        if (_lists.TryGetValue((organizationId, queue), out var list))
        {
            list.Wake(queue, count);
        }
    }

    public sealed class Waiter
    {
        private readonly TaskCompletionSource<string?> _woken = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes with the queue that woke it, or null when the waiter was withdrawn.</summary>
        public Task<string?> Woken => _woken.Task;

        internal bool TryWake(string queue) => _woken.TrySetResult(queue);

        /// <summary>Withdraws the waiter; returns the queue that woke it if it was woken first.</summary>
        public string? Withdraw()
        {
            _woken.TrySetResult(null);
            return _woken.Task.Result;
        }

        internal bool Done => _woken.Task.IsCompleted;
    }

    private sealed class WaitList
    {
        private readonly Lock _gate = new();
        private Queue<Waiter> _waiters = new();

        public void Add(Waiter waiter)
        {
            lock (_gate)
            {
                if (_waiters.Count >= 64)
                {
                    // Withdrawn waiters are dropped lazily; compact when many have piled up.
                    _waiters = new Queue<Waiter>(_waiters.Where(w => !w.Done));
                }
                _waiters.Enqueue(waiter);
            }
        }

        public void Wake(string queue, int count)
        {
            lock (_gate)
            {
                while (count > 0 && _waiters.TryDequeue(out var w))
                {
                    if (w.TryWake(queue))
                    {
                        count--;
                    }
                }
            }
        }
    }
}
