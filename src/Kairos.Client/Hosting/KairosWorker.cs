using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kairos.Client.Hosting;

/// <summary>
/// The worker host: registers, long-polls each queue for as many jobs as it has free slots, runs each job's handler in
/// its own DI scope, heartbeats the worker and the leases, reports outcomes in batches, and on shutdown stops fetching,
/// waits for running handlers (up to <see cref="KairosWorkerOptions.ShutdownTimeout"/>), cancels the rest and fails them
/// as retryable, then deregisters.
/// </summary>
public sealed class KairosWorker : BackgroundService
{
    private static readonly string SdkVersion = "kairos-dotnet/" +
        (typeof(KairosWorker).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0");

    private readonly KairosClient _client;
    private readonly KairosWorkerOptions _options;
    private readonly IServiceScopeFactory _scopes;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger<KairosWorker> _logger;
    private readonly ConcurrentDictionary<Guid, RunningJob> _running = new();
    private readonly Channel<Outcome> _outcomes = Channel.CreateUnbounded<Outcome>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _registering = new(1, 1);
    private readonly List<SemaphoreSlim> _slots = [];
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
    }

    /// <summary>The id the server gave this worker; empty until registered.</summary>
    public Guid WorkerId => _workerId;

    /// <summary>How many jobs run now.</summary>
    public int RunningCount => _running.Count;

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
        var fetchers = _options.Queues.Select(q => Task.Run(() => FetchLoopAsync(q.Key, q.Value, fetching.Token), CancellationToken.None)).ToList();
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
        foreach (var s in _slots) s.Dispose();
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

    private async Task FetchLoopAsync(string queue, int concurrency, CancellationToken stop)
    {
        var slots = new SemaphoreSlim(concurrency, concurrency);
        lock (_slots) _slots.Add(slots);
        var waitMs = (int)Math.Clamp(_options.FetchWait.TotalMilliseconds, 0, 60_000);
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var n = 1;
            while (n < _options.FetchBatchSize && n < 1000 && slots.Wait(0, CancellationToken.None)) n++;
            var workerId = _workerId;
            var started = Stopwatch.GetTimestamp();
            IReadOnlyList<FetchedJob> jobs;
            try
            {
                jobs = await _client.FetchAsync(new FetchRequest { WorkerId = workerId, Queues = [queue], Max = n, WaitMs = waitMs, LeaseMs = LeaseMs }, stop);
                failures = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                slots.Release(n);
                break;
            }
            catch (KairosException ex)
            {
                slots.Release(n);
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
                _logger.LogWarning("Fetch from queue {Queue} failed: {Message}", queue, ex.Message);
                if (!await DelayAsync(Backoff(failures), stop)) break;
                continue;
            }
            if (jobs.Count < n) slots.Release(n - jobs.Count);
            foreach (var job in jobs) Start(job, slots, workerId);
            if (jobs.Count == 0 && waitMs > 100 && Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(20))
            {
                // An empty answer that came at once (the server is stopping): do not spin.
                if (!await DelayAsync(TimeSpan.FromMilliseconds(250), stop)) break;
            }
        }
    }

    private void Start(FetchedJob job, SemaphoreSlim slots, Guid workerId)
    {
        var run = new RunningJob(job, Math.Max(50, LeaseMs / 3));
        _running[job.Id] = run;
        run.Completion = Task.Run(() => RunAsync(run, slots, workerId));
    }

    private async Task RunAsync(RunningJob run, SemaphoreSlim slots, Guid workerId)
    {
        var job = run.Job;
        try
        {
            JsonElement? result = null;
            Exception? error = null;
            using var timeout = job.TimeoutMs is { } ms ? new CancellationTokenSource(TimeSpan.FromMilliseconds(ms)) : null;
            using var onTimeout = timeout?.Token.Register(() => run.Cancel(JobCancelReason.TimedOut));
            try
            {
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
            _running.TryRemove(job.Id, out _);
            try
            {
                slots.Release();
            }
            catch (ObjectDisposedException)
            {
                // the worker has stopped
            }
            run.Dispose();
        }
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
                    if (_running.TryGetValue(id, out var run)) run.Cancel(JobCancelReason.Cancelled);
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

    /// <summary>Extends each running job's lease at a third of its length; a cancel request or a lost lease fires its token.</summary>
    private async Task LeaseHeartbeatLoopAsync(CancellationToken stop)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(LeaseMs / 12.0, 20, 1000));
        while (await DelayAsync(tick, stop))
        {
            var now = Environment.TickCount64;
            foreach (var run in _running.Values)
            {
                if (run.NextHeartbeatAt > now || !run.TryBeginHeartbeat()) continue;
                _ = HeartbeatAsync(run, stop);
            }
        }
    }

    private async Task HeartbeatAsync(RunningJob run, CancellationToken stop)
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
        catch (OperationCanceledException)
        {
        }
        finally
        {
            run.EndHeartbeat();
        }
    }

    private async Task DrainAsync()
    {
        var running = _running.Values.ToArray();
        if (running.Length == 0) return;
        _logger.LogInformation("Waiting up to {Timeout} for {Count} running jobs", _options.ShutdownTimeout, running.Length);
        await Task.WhenAny(Task.WhenAll(running.Select(r => r.Completion)), Task.Delay(_options.ShutdownTimeout));
        var left = _running.Values.ToArray();
        if (left.Length == 0) return;
        _logger.LogWarning("Cancelling {Count} jobs still running at shutdown", left.Length);
        foreach (var run in left) run.Cancel(JobCancelReason.Shutdown);
        await Task.WhenAny(Task.WhenAll(left.Select(r => r.Completion)), Task.Delay(_options.CancellationGracePeriod));
        foreach (var run in _running.Values)
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
}
