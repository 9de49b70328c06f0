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
    /// Grows with every notification that found fewer waiters than it had jobs to announce. A fetcher that reads it
    /// before looking for jobs and finds it unchanged after registering knows that every job that became ready in
    /// between went to a waiter (who looks for it), and need not look again itself. The count grows inside the queue's
    /// lock that registration also takes, so a fetcher that registered too late to be woken sees it grown.
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
        // Always through the queue's list (made if missing): a fetcher registering now either is in it before the
        // wake-up, or registers after the version grew.
        _lists.GetOrAdd((organizationId, queue), static _ => new WaitList()).Wake(queue, count, this);
    }

    private void Missed() => Interlocked.Increment(ref _version);

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

        public void Wake(string queue, int count, ReadySignal signal)
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
                if (count > 0)
                {
                    signal.Missed();
                }
            }
        }
    }
}
