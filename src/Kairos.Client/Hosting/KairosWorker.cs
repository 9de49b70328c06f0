using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kairos.Client.Hosting;

/// <summary>
/// The worker host: registers, long-polls each queue for jobs, runs each job's handler in its own DI scope, heartbeats
/// the worker and (in one call per tick) every lease it holds, reports outcomes in batches, and on shutdown stops
/// fetching, waits for running handlers (up to <see cref="KairosWorkerOptions.ShutdownTimeout"/>), cancels the rest and
/// fails them as retryable, then deregisters.
/// </summary>
/// <remarks>
/// Fetching: a queue is fetched for when it has no job at all, when a slot is free and nothing waits for one, or when
/// at least a batch's worth of room is free (min(<see cref="KairosWorkerOptions.FetchBatchSize"/>, half of what the
/// queue may hold)), so fast jobs come in large fetches rather than one fetch per freed slot. What a queue may hold is
/// its concurrency plus a small prefetch buffer, sized from the handlers' recent pace to about
/// <see cref="KairosWorkerOptions.PrefetchWindow"/> of work (so slow jobs are not held back from other workers) and at
/// most <see cref="KairosWorkerOptions.Prefetch"/> jobs. Buffered jobs are leased: their leases are heartbeated like
/// the running ones, a cancel or a lost lease reaches them before they start, and at shutdown what is still buffered
/// after the shutdown timeout goes back to its queue as a retryable failure without having started.
/// </remarks>
public sealed class KairosWorker : BackgroundService
{
    private static readonly string SdkVersion = "kairos-dotnet/" +
        (typeof(KairosWorker).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0");

    private readonly KairosClient _client;
    private readonly KairosWorkerOptions _options;
    private readonly IServiceScopeFactory _scopes;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger<KairosWorker> _logger;
    /// <summary>Every job this worker holds a lease for: running, or waiting in a queue's buffer.</summary>
    private readonly ConcurrentDictionary<Guid, RunningJob> _held = new();
    private readonly Channel<Outcome> _outcomes = Channel.CreateUnbounded<Outcome>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _registering = new(1, 1);
    private readonly List<Lane> _lanes;
    private bool _singleHeartbeats;
    private readonly JsonSerializerOptions _serializer;
    private CancellationTokenSource? _fetching;
    private Guid _workerId;
    private TimeSpan _heartbeatInterval = TimeSpan.FromSeconds(10);

    public KairosWorker(KairosClient client, IOptions<KairosWorkerOptions> options, IServiceScopeFactory scopes, ILogger<KairosWorker> logger,
        IHostApplicationLifetime? lifetime = null)
    {
        _client = client;
        _options = options.Value;
        _scopes = scopes;
        _logger = logger;
        _lifetime = lifetime;
        _serializer = _options.PayloadSerializerOptions ?? client.Options.PayloadSerializerOptions;
        if (_options.Queues.Count == 0) _options.AddQueue("default", Environment.ProcessorCount);
        var batch = Math.Clamp(_options.FetchBatchSize, 1, 1000);
        var prefetch = Math.Clamp(_options.Prefetch ?? batch, 0, 10_000);
        _lanes = [.. _options.Queues.Select(q => new Lane(q.Key, q.Value, batch, prefetch, _options.PrefetchWindow.TotalMilliseconds))];
    }

    /// <summary>The id the server gave this worker; empty until registered.</summary>
    public Guid WorkerId => _workerId;

    /// <summary>How many jobs run now.</summary>
    public int RunningCount => _lanes.Sum(l => l.RunningCount);

    /// <summary>How many leased jobs wait in the queues' prefetch buffers for a free slot.</summary>
    public int BufferedCount => _lanes.Sum(l => l.BufferedCount);

    /// <summary>Completes once the worker is registered and fetching.</summary>
    public Task Started => _started.Task;

    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int LeaseMs => (int)Math.Clamp(_options.LeaseDuration.TotalMilliseconds, 100, 24 * 3600 * 1000);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Handlers.Count == 0)
        {
            _logger.LogWarning("Kairos worker has no handlers: register them with AddKairosWorker(...).AddHandler<THandler, TPayload>(\"type\")");
        }
        if (!await RegisterAsync(stoppingToken)) return;

        using var fetching = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _fetching = fetching;
        using var background = new CancellationTokenSource();
        var heartbeats = Task.Run(() => WorkerHeartbeatLoopAsync(background.Token), CancellationToken.None);
        var leases = Task.Run(() => LeaseHeartbeatLoopAsync(background.Token), CancellationToken.None);
        var acks = Task.Run(AckLoopAsync, CancellationToken.None);
        var fetchers = _lanes.Select(lane => Task.Run(() => FetchLoopAsync(lane, fetching.Token), CancellationToken.None)).ToList();
        _started.TrySetResult();
        _logger.LogInformation("Kairos worker {WorkerId} fetching from {Queues}", _workerId,
            string.Join(", ", _options.Queues.Select(q => $"{q.Key} ({q.Value})")));

        await Task.WhenAll(fetchers);
        if (!stoppingToken.IsCancellationRequested)
        {
            // Quiet: finish what runs, fetch nothing more, stay registered until the host stops.
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await DrainAsync();
        _outcomes.Writer.TryComplete();
        await Task.WhenAny(acks, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
        await background.CancelAsync();
        await Task.WhenAll(heartbeats, leases);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _client.DeregisterWorkerAsync(_workerId, timeout.Token);
            _logger.LogInformation("Kairos worker {WorkerId} deregistered", _workerId);
        }
        catch (Exception ex) when (ex is KairosException or OperationCanceledException)
        {
            _logger.LogWarning("Kairos worker {WorkerId} could not deregister: {Message}", _workerId, ex.Message);
        }
        foreach (var lane in _lanes) lane.Dispose();
    }

    public override void Dispose()
    {
        _registering.Dispose();
        base.Dispose();
    }

    private async Task<bool> RegisterAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (true)
        {
            try
            {
                var registered = await _client.RegisterWorkerAsync(new WorkerRegistration
                {
                    Name = _options.Name ?? $"{AppDomain.CurrentDomain.FriendlyName}@{Environment.MachineName}",
                    Host = Environment.MachineName,
                    Pid = Environment.ProcessId,
                    Queues = [.. _options.Queues.Keys],
                    Capacity = Math.Clamp(_options.Queues.Values.Sum(), 1, 10_000),
                    Labels = _options.Labels.Count == 0 ? null : new Dictionary<string, string>(_options.Labels),
                    Version = SdkVersion,
                }, stoppingToken);
                _workerId = registered.Id;
                _heartbeatInterval = _options.HeartbeatInterval
                    ?? TimeSpan.FromMilliseconds(Math.Max(100, registered.HeartbeatTimeoutMs / 3.0));
                return true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return false;
            }
            catch (KairosException ex)
            {
                failures++;
                _logger.LogError("Kairos worker cannot register with {Server}: {Message}", _client.BaseAddress, ex.Message);
                if (!await DelayAsync(Backoff(failures), stoppingToken)) return false;
            }
        }
    }

    /// <summary>Registers again when the server forgot this worker (lost, or removed by an admin).</summary>
    private async Task ReRegisterAsync(Guid staleId, CancellationToken cancellationToken)
    {
        await _registering.WaitAsync(cancellationToken);
        try
        {
            if (_workerId != staleId) return;
            _logger.LogWarning("The server does not know worker {WorkerId} any more; registering again", staleId);
            await RegisterAsync(cancellationToken);
        }
        finally
        {
            _registering.Release();
        }
    }

    private async Task FetchLoopAsync(Lane lane, CancellationToken stop)
    {
        var waitMs = (int)Math.Clamp(_options.FetchWait.TotalMilliseconds, 0, 60_000);
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var n = lane.ToFetch();
            if (n == 0)
            {
                try
                {
                    await lane.Changed.WaitAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            var workerId = _workerId;
            var started = Stopwatch.GetTimestamp();
            IReadOnlyList<FetchedJob> jobs;
            try
            {
                jobs = await _client.FetchAsync(new FetchRequest { WorkerId = workerId, Queues = [lane.Name], Max = n, WaitMs = waitMs, LeaseMs = LeaseMs }, stop);
                failures = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (KairosException ex)
            {
                if (ex.IsNotFound)
                {
                    try
                    {
                        await ReRegisterAsync(workerId, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    continue;
                }
                failures++;
                _logger.LogWarning("Fetch from queue {Queue} failed: {Message}", lane.Name, ex.Message);
                if (!await DelayAsync(Backoff(failures), stop)) break;
                continue;
            }
            foreach (var job in jobs)
            {
                var run = new RunningJob(job, Math.Max(50, LeaseMs / 3));
                _held[job.Id] = run;
                if (lane.StartOrBuffer(run)) _ = Task.Run(() => RunSlotAsync(lane, run, workerId), CancellationToken.None);
            }
            if (jobs.Count == 0 && waitMs > 100 && Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(20))
            {
                // An empty answer that came at once (the server is stopping): do not spin.
                if (!await DelayAsync(TimeSpan.FromMilliseconds(250), stop)) break;
            }
        }
    }

    /// <summary>One handler slot of a queue: runs its first job, then what waits in the queue's buffer, until it is empty.</summary>
    private async Task RunSlotAsync(Lane lane, RunningJob first, Guid workerId)
    {
        for (RunningJob? run = first; run is not null;)
        {
            var started = Stopwatch.GetTimestamp();
            await RunAsync(run, workerId);
            run = lane.Next(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private async Task RunAsync(RunningJob run, Guid workerId)
    {
        var job = run.Job;
        try
        {
            run.Started = true;
            JsonElement? result = null;
            Exception? error = null;
            // The server counts the timeout from the lease, so time spent in the buffer counts too.
            var left = job.TimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) - Stopwatch.GetElapsedTime(run.FetchedAt) : (TimeSpan?)null;
            if (left <= TimeSpan.Zero) run.Cancel(JobCancelReason.TimedOut);
            using var timeout = left > TimeSpan.Zero ? new CancellationTokenSource(left.Value) : null;
            using var onTimeout = timeout?.Token.Register(() => run.Cancel(JobCancelReason.TimedOut));
            try
            {
                // Cancelled, timed out or lost while it waited for a slot: the handler never sees it.
                run.Token.ThrowIfCancellationRequested();
                if (!_options.Handlers.TryGetValue(job.Type, out var handler))
                {
                    throw new InvalidOperationException($"This worker has no handler for job type '{job.Type}' (it has: {string.Join(", ", _options.Handlers.Keys)}).");
                }
                var scope = _scopes.CreateAsyncScope();
                await using (scope)
                {
                    var context = new JobContext(run, _client, workerId, LeaseMs);
                    result = await handler.Invoke(scope.ServiceProvider, job.Payload, context, _serializer);
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }
            Report(run, result, error);
        }
        finally
        {
            Release(run);
        }
    }

    /// <summary>The worker holds the job no more.</summary>
    private void Release(RunningJob run)
    {
        _held.TryRemove(run.Job.Id, out _);
        run.Finish();
    }

    private void Report(RunningJob run, JsonElement? result, Exception? error)
    {
        var job = run.Job;
        if (run.Reason == JobCancelReason.LeaseLost)
        {
            _logger.LogWarning("Job {JobId} lost its lease; its outcome is not reported", job.Id);
            return;
        }
        if (!run.TryMarkReported()) return;
        if (error is null)
        {
            _outcomes.Writer.TryWrite(new Outcome(new JobAck { Id = job.Id, LeaseToken = job.LeaseToken, Result = result }, null));
            return;
        }
        _outcomes.Writer.TryWrite(new Outcome(null, Failure(run, error)));
    }

    private static JobFailure Failure(RunningJob run, Exception error)
    {
        var job = run.Job;
        if (error is OperationCanceledException && run.Token.IsCancellationRequested && run.Reason is { } reason)
        {
            var (message, type) = reason switch
            {
                JobCancelReason.Cancelled => ("cancelled on the server", "Kairos.Cancelled"),
                JobCancelReason.TimedOut => ($"timed out after {job.TimeoutMs} ms", "Kairos.Timeout"),
                _ => ("the worker shut down before the job finished", "Kairos.Shutdown"),
            };
            if (reason == JobCancelReason.Shutdown && !run.Started) message = "the worker shut down before the job started";
            return new JobFailure
            {
                Id = job.Id,
                LeaseToken = job.LeaseToken,
                Error = new JobError { Message = message, Type = type },
                Retryable = true,
                RetryInMs = reason == JobCancelReason.Shutdown ? 0 : null,
            };
        }
        return new JobFailure
        {
            Id = job.Id,
            LeaseToken = job.LeaseToken,
            Error = new JobError
            {
                Message = Cap(string.IsNullOrEmpty(error.Message) ? error.GetType().Name : error.Message, 10_000),
                Type = error.GetType().FullName,
                Stack = Cap(error.ToString(), 100_000),
            },
            Retryable = error is not NonRetryableException,
            RetryInMs = error is RetryJobException { RetryIn: { } retryIn } ? KairosClient.ToMs(retryIn) : null,
        };
    }

    private static string Cap(string s, int max) => s.Length <= max ? s : s[..max];

    /// <summary>Sends outcomes in batches: while one batch is in flight, the next gathers.</summary>
    private async Task AckLoopAsync()
    {
        var reader = _outcomes.Reader;
        var acks = new List<JobAck>();
        var fails = new List<JobFailure>();
        var max = Math.Clamp(_options.AckBatchSize, 1, 1000);
        while (await reader.WaitToReadAsync())
        {
            while (acks.Count + fails.Count < max && reader.TryRead(out var outcome))
            {
                if (outcome.Ack is { } a) acks.Add(a);
                else fails.Add(outcome.Fail!);
            }
            try
            {
                var results = await _client.CompleteManyAsync([.. acks], [.. fails]);
                foreach (var r in results)
                {
                    if (r.Status != "ok") _logger.LogWarning("The server refused the outcome of job {JobId}: {Status} ({State})", r.Id, r.Status, r.State);
                }
            }
            catch (KairosException ex)
            {
                // The leases run out and the jobs are tried again.
                _logger.LogError("Could not report {Count} job outcomes: {Message}", acks.Count + fails.Count, ex.Message);
            }
            acks.Clear();
            fails.Clear();
        }
    }

    private async Task WorkerHeartbeatLoopAsync(CancellationToken stop)
    {
        var quiet = false;
        while (await DelayAsync(_heartbeatInterval, stop))
        {
            var workerId = _workerId;
            try
            {
                var beat = await _client.HeartbeatWorkerAsync(workerId, stop);
                foreach (var id in beat.CancelJobIds)
                {
                    if (_held.TryGetValue(id, out var run)) run.Cancel(JobCancelReason.Cancelled);
                }
                if (beat.Commands.Contains("terminate"))
                {
                    if (!quiet) _logger.LogInformation("The server asked worker {WorkerId} to stop", workerId);
                    quiet = true;
                    await (_fetching?.CancelAsync() ?? Task.CompletedTask);
                    if (_options.StopApplicationOnTerminate) _lifetime?.StopApplication();
                }
                else if (beat.Commands.Contains("quiet") && !quiet)
                {
                    _logger.LogInformation("The server asked worker {WorkerId} to go quiet: no more fetching", workerId);
                    quiet = true;
                    await (_fetching?.CancelAsync() ?? Task.CompletedTask);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (KairosException ex) when (ex.IsNotFound)
            {
                try
                {
                    await ReRegisterAsync(workerId, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            catch (KairosException ex)
            {
                _logger.LogWarning("Worker heartbeat failed: {Message}", ex.Message);
            }
        }
    }

    /// <summary>
    /// Extends the leases of the jobs it holds (running and buffered) at a third of their length, all that are due (or
    /// nearly) in one call per tick; a cancel request or a lost lease fires the job's token.
    /// </summary>
    private async Task LeaseHeartbeatLoopAsync(CancellationToken stop)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(LeaseMs / 12.0, 20, 1000));
        while (await DelayAsync(tick, stop))
        {
            var now = Environment.TickCount64;
            if (!_held.Values.Any(r => r.NextHeartbeatAt <= now)) continue;
            // Those due within half a period come along, so that one call covers them all for a while.
            var due = _held.Values.Where(r => r.NextHeartbeatAt <= now + r.HeartbeatEveryMs / 2).ToList();
            foreach (var chunk in due.Chunk(1000))
            {
                if (!await HeartbeatAsync(chunk, stop)) return;
            }
        }
    }

    /// <summary>False when the worker stops.</summary>
    private async Task<bool> HeartbeatAsync(RunningJob[] runs, CancellationToken stop)
    {
        if (_singleHeartbeats)
        {
            foreach (var run in runs)
            {
                if (!await HeartbeatOneAsync(run, stop)) return false;
            }
            return true;
        }
        try
        {
            var results = await _client.HeartbeatJobsAsync([.. runs.Select(r => new JobLease { Id = r.Job.Id, LeaseToken = r.Job.LeaseToken })], LeaseMs, stop);
            for (var i = 0; i < runs.Length && i < results.Count; i++)
            {
                if (results[i].Status == "ok")
                {
                    runs[i].Heartbeated();
                    if (results[i].CancelRequested) runs[i].Cancel(JobCancelReason.Cancelled);
                }
                else
                {
                    runs[i].Cancel(JobCancelReason.LeaseLost);
                }
            }
        }
        catch (KairosException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            // A server from before the batch heartbeat: one call per lease.
            _logger.LogInformation("The server has no batch lease heartbeat ({Status}); heartbeating each lease on its own", ex.StatusCode);
            _singleHeartbeats = true;
            return await HeartbeatAsync(runs, stop);
        }
        catch (KairosException ex)
        {
            _logger.LogWarning("Lease heartbeat of {Count} jobs failed: {Message}", runs.Length, ex.Message);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
        return true;
    }

    private async Task<bool> HeartbeatOneAsync(RunningJob run, CancellationToken stop)
    {
        try
        {
            var result = await _client.HeartbeatJobAsync(run.Job.Id, run.Job.LeaseToken, LeaseMs, null, stop);
            run.Heartbeated();
            if (result.CancelRequested) run.Cancel(JobCancelReason.Cancelled);
        }
        catch (KairosException ex) when (ex.IsConflict || ex.IsNotFound)
        {
            run.Cancel(JobCancelReason.LeaseLost);
        }
        catch (KairosException ex)
        {
            _logger.LogWarning("Lease heartbeat of job {JobId} failed: {Message}", run.Job.Id, ex.Message);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
        return true;
    }

    private async Task DrainAsync()
    {
        var held = _held.Values.ToArray();
        if (held.Length == 0) return;
        // Slots go on taking buffered jobs meanwhile: the buffer holds about PrefetchWindow of work.
        _logger.LogInformation("Waiting up to {Timeout} for {Count} jobs (running and buffered)", _options.ShutdownTimeout, held.Length);
        await Task.WhenAny(Task.WhenAll(held.Select(r => r.Done)), Task.Delay(_options.ShutdownTimeout));
        foreach (var lane in _lanes)
        {
            // Never started: back to the queue at once.
            foreach (var run in lane.Close())
            {
                run.Cancel(JobCancelReason.Shutdown);
                Report(run, null, new OperationCanceledException(run.Token));
                Release(run);
            }
        }
        var left = _held.Values.ToArray();
        if (left.Length == 0) return;
        _logger.LogWarning("Cancelling {Count} jobs still running at shutdown", left.Length);
        foreach (var run in left) run.Cancel(JobCancelReason.Shutdown);
        await Task.WhenAny(Task.WhenAll(left.Select(r => r.Done)), Task.Delay(_options.CancellationGracePeriod));
        foreach (var run in _held.Values)
        {
            if (!run.TryMarkReported()) continue;
            _logger.LogWarning("Job {JobId} ignored its cancellation; failing it as retryable", run.Job.Id);
            _outcomes.Writer.TryWrite(new Outcome(null, Failure(run, new OperationCanceledException(run.Token))));
        }
    }

    private static TimeSpan Backoff(int failures) => TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures, 8))));

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private sealed record Outcome(JobAck? Ack, JobFailure? Fail);

    /// <summary>
    /// One queue of this worker: its slots, its prefetch buffer and what decides a fetch. The buffer is sized from the
    /// handlers' recent pace (an average of their durations): Little's law gives how many jobs the queue starts within
    /// the prefetch window.
    /// </summary>
    private sealed class Lane(string name, int concurrency, int batch, int prefetch, double windowMs) : IDisposable
    {
        private readonly Lock _gate = new();
        private readonly Queue<RunningJob> _buffer = new();
        private int _running;
        private bool _closed;
        private double _avgMs = -1;

        public string Name { get; } = name;

        /// <summary>Set when a slot freed or a job left the buffer and the queue should now be fetched for.</summary>
        public Signal Changed { get; } = new();

        public int RunningCount
        {
            get { lock (_gate) return _running; }
        }

        public int BufferedCount
        {
            get { lock (_gate) return _buffer.Count; }
        }

        /// <summary>How many jobs to fetch now; 0 to wait for <see cref="Changed"/>.</summary>
        public int ToFetch()
        {
            lock (_gate) return ToFetchLocked();
        }

        private int ToFetchLocked()
        {
            if (_closed) return 0;
            var room = concurrency + BufferCap();
            var held = _running + _buffer.Count;
            var free = room - held;
            if (free <= 0) return 0;
            var starving = _buffer.Count == 0 && _running < concurrency;
            var enough = free >= Math.Min(batch, Math.Max(1, room / 2));
            return held == 0 || starving || enough ? Math.Min(free, batch) : 0;
        }

        /// <summary>True when the job takes a free slot (the caller runs it); false when it waits in the buffer.</summary>
        public bool StartOrBuffer(RunningJob run)
        {
            lock (_gate)
            {
                if (_running < concurrency)
                {
                    _running++;
                    return true;
                }
                _buffer.Enqueue(run);
                return false;
            }
        }

        /// <summary>A slot finished a job that took <paramref name="ms"/>: the next buffered job for it, or null (the slot is free).</summary>
        public RunningJob? Next(double ms)
        {
            RunningJob? next;
            bool fetch;
            lock (_gate)
            {
                _avgMs = _avgMs < 0 ? ms : _avgMs * 0.9 + ms * 0.1;
                if (_closed || !_buffer.TryDequeue(out next))
                {
                    next = null;
                    _running--;
                }
                // Only this changes what ToFetch answers, so the fetcher is woken when it would fetch, not per job.
                fetch = ToFetchLocked() > 0;
            }
            if (fetch) Changed.Set();
            return next;
        }

        /// <summary>Takes no more jobs from the buffer; answers those still in it.</summary>
        public List<RunningJob> Close()
        {
            lock (_gate)
            {
                _closed = true;
                var left = _buffer.ToList();
                _buffer.Clear();
                return left;
            }
        }

        private int BufferCap() =>
            prefetch == 0 || _avgMs < 0 ? 0 : (int)Math.Min(prefetch, concurrency * windowMs / Math.Max(_avgMs, 0.001));

        public void Dispose() => Changed.Dispose();
    }

    /// <summary>An auto-reset signal for one waiter: a set while nobody waits is kept for the next wait.</summary>
    private sealed class Signal : IDisposable
    {
        private readonly SemaphoreSlim _semaphore = new(0, 1);
        private int _set;

        public void Set()
        {
            if (Interlocked.Exchange(ref _set, 1) != 0) return;
            try
            {
                _semaphore.Release();
            }
            catch (ObjectDisposedException)
            {
                // the worker has stopped; a handler that ignored its cancellation finished late
            }
        }

        /// <summary>The waiter looks at the state after this returns, so a set racing with the reset is not lost.</summary>
        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            await _semaphore.WaitAsync(cancellationToken);
            Volatile.Write(ref _set, 0);
        }

        public void Dispose() => _semaphore.Dispose();
    }
}
