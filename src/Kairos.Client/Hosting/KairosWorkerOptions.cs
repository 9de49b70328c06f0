using System.Text.Json;

namespace Kairos.Client.Hosting;

/// <summary>The worker host's settings: queues with their concurrency, fetch, lease, heartbeat and shutdown timing.</summary>
public sealed class KairosWorkerOptions
{
    /// <summary>How the worker shows in lists; the process name and host when null.</summary>
    public string? Name { get; set; }

    /// <summary>Queue name → how many of its jobs run at once. <c>default</c> with one slot per core when empty.</summary>
    public IDictionary<string, int> Queues { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>Free-form labels shown with the worker.</summary>
    public IDictionary<string, string> Labels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The most jobs one fetch leases. A queue is fetched for once it has room for this many (or half of what it may
    /// hold, if less), or when a slot is free and no job waits for one.
    /// </summary>
    public int FetchBatchSize { get; set; } = 50;

    /// <summary>
    /// The most jobs per queue leased ahead of a free slot, in a local buffer (null: <see cref="FetchBatchSize"/>; 0: none).
    /// The buffer only grows as far as the queue's handlers, at their recent pace, start jobs within
    /// <see cref="PrefetchWindow"/>: fast jobs come in large fetches, slow ones are not held back from other workers.
    /// Buffered jobs count as running on the server, their leases are heartbeated, and their timeout runs from the fetch.
    /// </summary>
    public int? Prefetch { get; set; }

    /// <summary>About how long a prefetched job waits for a slot, which sizes the buffer (see <see cref="Prefetch"/>).</summary>
    public TimeSpan PrefetchWindow { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a fetch waits on the server for a job before it answers empty (at most 60 s).</summary>
    public TimeSpan FetchWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a lease lasts without a heartbeat; the leases of held jobs are heartbeated (all in one call) at a third of it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the worker heartbeats (commands and cancellations arrive with it); a third of the server's timeout when null.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>On shutdown, how long running handlers may take to finish before their tokens fire.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>After the tokens fired, how long handlers get to return before their jobs are failed as retryable anyway.</summary>
    public TimeSpan CancellationGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most outcomes sent in one batch ack.</summary>
    public int AckBatchSize { get; set; } = 500;

    /// <summary>Stop the application when the server sends <c>terminate</c> (<c>kairos workers stop</c>).</summary>
    public bool StopApplicationOnTerminate { get; set; } = true;

    /// <summary>Payload and result JSON; the client's <see cref="KairosClientOptions.PayloadSerializerOptions"/> when null.</summary>
    public JsonSerializerOptions? PayloadSerializerOptions { get; set; }

    /// <summary>Adds a queue with its concurrency.</summary>
    public KairosWorkerOptions AddQueue(string name, int concurrency = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        Queues[name] = concurrency;
        return this;
    }

    internal Dictionary<string, HandlerDescriptor> Handlers { get; } = new(StringComparer.Ordinal);
}

/// <summary>How to run a job type: resolve the handler from the scope, read the payload, call it, write the result.</summary>
internal sealed record HandlerDescriptor(
    string Type,
    Type HandlerType,
    Func<IServiceProvider, JsonElement, JobContext, JsonSerializerOptions, Task<JsonElement?>> Invoke);
