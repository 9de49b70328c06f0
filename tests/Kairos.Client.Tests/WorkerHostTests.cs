using System.Collections.Concurrent;
using System.Diagnostics;
using Kairos.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Kairos.Client.Tests;

/// <summary>The SDK worker host on a generic host against the real server.</summary>
[Collection(ServerCollection.Name)]
public sealed class WorkerHostTests(ServerFixture server, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly KairosClient _client = server.Client();
    private readonly string _queue = "w-" + Guid.NewGuid().ToString("N")[..12];
    private readonly Probe _probe = new();
    private IHost? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _probe.Gate.TrySetResult();
        _probe.Stubborn.TrySetResult();
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
        _client.Dispose();
    }

    public sealed record Order(string Sku, int Quantity);
    public sealed record Receipt(string Sku, int Total, int Attempt);

    /// <summary>What the handlers saw, shared with the test.</summary>
    public sealed class Probe
    {
        public ConcurrentQueue<(Order Payload, Guid JobId, int Attempt, string Queue, IReadOnlyList<string> Tags)> Seen { get; } = new();
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Stubborn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentDictionary<Guid, TaskCompletionSource<(JobCancelReason? Reason, long At)>> Cancelled { get; } = new();
        public ConcurrentDictionary<Guid, TaskCompletionSource> Started { get; } = new();
        public ConcurrentBag<int> HandlerInstances { get; } = [];
        internal int Running;
        internal int MaxRunning;

        public TaskCompletionSource StartedFor(Guid id) => Started.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        public TaskCompletionSource<(JobCancelReason? Reason, long At)> CancelledFor(Guid id) =>
            Cancelled.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    public sealed class OrderHandler(Probe probe) : IJobHandler<Order, Receipt>
    {
        public Task<Receipt> HandleAsync(Order payload, JobContext context)
        {
            probe.HandlerInstances.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this));
            probe.Seen.Enqueue((payload, context.JobId, context.Attempt, context.Queue, context.Tags));
            return Task.FromResult(new Receipt(payload.Sku, payload.Quantity * 10, context.Attempt));
        }
    }

    /// <summary>Behaves as its payload's sku says.</summary>
    public sealed class ScriptedHandler(Probe probe) : IJobHandler<Order>
    {
        public async Task HandleAsync(Order payload, JobContext context)
        {
            var now = Interlocked.Increment(ref probe.Running);
            InterlockedMax(ref probe.MaxRunning, now);
            probe.StartedFor(context.JobId).TrySetResult();
            try
            {
                switch (payload.Sku)
                {
                    case "progress":
                        await context.ReportProgressAsync(50, "half way");
                        await context.LogAsync("first line");
                        await context.LogAsync(["second line", "third line"]);
                        await probe.Gate.Task;
                        break;
                    case "wait-for-cancel":
                        using (context.CancellationToken.Register(() => probe.CancelledFor(context.JobId).TrySetResult((context.CancelReason, Stopwatch.GetTimestamp()))))
                        {
                            await Task.Delay(System.Threading.Timeout.Infinite, context.CancellationToken);
                        }
                        break;
                    case "throw-once":
                        if (context.Attempt == 1) throw new InvalidOperationException("boom on attempt 1");
                        break;
                    case "non-retryable":
                        throw new NonRetryableException("this input can never work");
                    case "gate":
                        await probe.Gate.Task;
                        break;
                    case "stubborn":
                        await probe.Stubborn.Task; // ignores its token
                        break;
                }
            }
            finally
            {
                Interlocked.Decrement(ref probe.Running);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    /// <summary>Counts the host's HTTP calls by method and path ("POST api/v1/fetch"; job ids as {id}).</summary>
    public sealed class CallCounter(ConcurrentDictionary<string, int> calls) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var path = string.Join('/', request.RequestUri!.AbsolutePath.Trim('/').Split('/').Select(p => Guid.TryParse(p, out _) ? "{id}" : p));
            calls.AddOrUpdate($"{request.Method} {path}", 1, (_, n) => n + 1);
            return response;
        }
    }

    private readonly ConcurrentDictionary<string, int> _calls = new();

    private int Calls(string call) => _calls.GetValueOrDefault(call);

    private async Task<KairosWorker> StartAsync(Action<KairosWorkerOptions>? configure = null)
    {
        _host = server.WorkerHost(output, o =>
        {
            o.AddQueue(_queue, 4);
            configure?.Invoke(o);
        }, b => b.AddHandler<OrderHandler, Order, Receipt>("order.place").AddHandler<ScriptedHandler, Order>("scripted"),
        s =>
        {
            s.AddSingleton(_probe);
            s.AddHttpClient<KairosClient>().AddHttpMessageHandler(() => new CallCounter(_calls));
        });
        await _host.StartAsync();
        var worker = _host.Services.GetRequiredService<KairosWorker>();
        await worker.Started.Within(Timeout, "the worker registers");
        return worker;
    }

    private Task<Job> Enqueue(string sku, EnqueueOptions? options = null, string type = "scripted")
    {
        options ??= new EnqueueOptions();
        options.Queue = _queue;
        return _client.EnqueueAsync(type, new Order(sku, 3), options);
    }

    private Task<Job> WaitForState(Guid id, string state) =>
        Eventually.WaitAsync(() => _client.GetJobAsync(id), j => j.State == state, Timeout, $"job {id} becomes {state}");

    [Fact]
    public async Task Typed_enqueue_runs_the_handler_with_the_payload_and_stores_its_result()
    {
        await StartAsync();
        var job = await Enqueue("sku-1", new EnqueueOptions { Tags = ["shop"] }, type: "order.place");

        var done = await WaitForState(job.Id, JobStates.Succeeded);
        var (payload, jobId, attempt, queue, tags) = Assert.Single(_probe.Seen);
        Assert.Equal(new Order("sku-1", 3), payload);
        Assert.Equal(job.Id, jobId);
        Assert.Equal(1, attempt);
        Assert.Equal(_queue, queue);
        Assert.Equal(["shop"], tags);
        Assert.Equal(new Receipt("sku-1", 30, 1), done.ResultAs<Receipt>());
    }

    [Fact]
    public async Task Each_job_gets_its_own_handler_from_a_new_scope()
    {
        await StartAsync();
        var a = await Enqueue("a", type: "order.place");
        var b = await Enqueue("b", type: "order.place");
        await WaitForState(a.Id, JobStates.Succeeded);
        await WaitForState(b.Id, JobStates.Succeeded);
        Assert.Equal(2, _probe.HandlerInstances.Distinct().Count());
    }

    [Fact]
    public async Task Progress_and_logs_are_visible_through_the_API_while_the_job_runs()
    {
        await StartAsync();
        var job = await Enqueue("progress");

        var running = await Eventually.WaitAsync(() => _client.GetJobAsync(job.Id),
            j => j.Progress is not null && j.Logs?.Count == 3, Timeout, "progress and three log lines");
        Assert.Equal(JobStates.Running, running.State);
        Assert.Equal(50, running.Progress!.Percent);
        Assert.Equal("half way", running.Progress.Message);
        Assert.Equal(["first line", "second line", "third line"], running.Logs!.Select(l => l.Line));

        _probe.Gate.SetResult();
        await WaitForState(job.Id, JobStates.Succeeded);
    }

    [Fact]
    public async Task A_cancel_on_the_server_fires_the_handlers_token_within_one_heartbeat()
    {
        var worker = await StartAsync(o => o.HeartbeatInterval = TimeSpan.FromMilliseconds(500));
        var job = await Enqueue("wait-for-cancel");
        await _probe.StartedFor(job.Id).Task.Within(Timeout, "the handler starts");

        var cancelledAt = Stopwatch.GetTimestamp();
        var cancel = await _client.CancelJobAsync(job.Id);
        Assert.True(cancel.CancelRequested);
        var (reason, firedAt) = await _probe.CancelledFor(job.Id).Task.Within(Timeout, "the handler's token fires");

        Assert.Equal(JobCancelReason.Cancelled, reason);
        var elapsed = Stopwatch.GetElapsedTime(cancelledAt, firedAt);
        // One worker heartbeat (500 ms) plus room for a loaded machine; the lease heartbeat alone would take 10 s.
        Assert.True(elapsed < TimeSpan.FromMilliseconds(500) + TimeSpan.FromMilliseconds(1500), $"the token fired {elapsed.TotalMilliseconds:0} ms after the cancel");
        var cancelled = await WaitForState(job.Id, JobStates.Cancelled);
        Assert.Equal(1, cancelled.Attempt);
        await Eventually.WaitAsync(() => worker.RunningCount == 0, Timeout, "the worker frees the slot");
    }

    [Fact]
    public async Task A_handler_that_throws_is_retried_with_its_error_recorded()
    {
        await StartAsync();
        var job = await Enqueue("throw-once", new EnqueueOptions { MaxAttempts = 3 });

        var done = await WaitForState(job.Id, JobStates.Succeeded);
        Assert.Equal(2, done.Attempt);
        var first = done.Attempts!.Single(a => a.Number == 1);
        Assert.Equal("System.InvalidOperationException", first.Error!.Type);
        Assert.Equal("boom on attempt 1", first.Error.Message);
        Assert.Contains(nameof(ScriptedHandler), first.Error.Stack, StringComparison.Ordinal);
        Assert.Null(done.Attempts!.Single(a => a.Number == 2).Error);
    }

    [Fact]
    public async Task A_NonRetryableException_fails_the_job_at_once()
    {
        await StartAsync();
        var job = await Enqueue("non-retryable", new EnqueueOptions { MaxAttempts = 5 });

        var failed = await WaitForState(job.Id, JobStates.Failed);
        Assert.Equal(1, failed.Attempt);
        Assert.Equal(typeof(NonRetryableException).FullName, failed.LastError!.Type);
        Assert.Equal("this input can never work", failed.LastError.Message);
    }

    [Fact]
    public async Task A_job_past_its_timeout_is_cancelled_and_failed_as_timed_out()
    {
        await StartAsync();
        var job = await Enqueue("wait-for-cancel", new EnqueueOptions { MaxAttempts = 1, Timeout = TimeSpan.FromMilliseconds(300) });

        var (reason, _) = await _probe.CancelledFor(job.Id).Task.Within(Timeout, "the token fires at the timeout");
        Assert.Equal(JobCancelReason.TimedOut, reason);
        var failed = await WaitForState(job.Id, JobStates.Failed);
        Assert.Equal("Kairos.Timeout", failed.LastError!.Type);
    }

    [Fact]
    public async Task Per_queue_concurrency_bounds_the_jobs_running_at_once()
    {
        var other = _queue + "-b";
        await StartAsync(o =>
        {
            o.Queues[_queue] = 2;
            o.AddQueue(other, 1);
        });
        var ids = new List<Guid>();
        for (var i = 0; i < 6; i++) ids.Add((await Enqueue("gate")).Id);
        var extra = await _client.EnqueueAsync("scripted", new Order("gate", 1), new EnqueueOptions { Queue = other });

        await Eventually.WaitAsync(() => Volatile.Read(ref _probe.Running) == 3, Timeout, "two jobs of the first queue and one of the second run");
        // The server agrees: only two of the first queue are leased, the rest still wait.
        var queue = await _client.GetQueueAsync(_queue);
        Assert.Equal(2, queue.Counts.GetValueOrDefault(JobStates.Running));
        Assert.Equal(4, queue.Counts.GetValueOrDefault(JobStates.Queued));
        Assert.Equal(1, (await _client.GetQueueAsync(other)).Counts.GetValueOrDefault(JobStates.Running));

        _probe.Gate.SetResult();
        foreach (var id in ids) await WaitForState(id, JobStates.Succeeded);
        await WaitForState(extra.Id, JobStates.Succeeded);
        Assert.Equal(3, _probe.MaxRunning);
    }

    [Fact]
    public async Task Graceful_shutdown_finishes_what_it_can_fails_the_rest_as_retryable_and_leaves_no_job_running()
    {
        var worker = await StartAsync(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(500);
            o.CancellationGracePeriod = TimeSpan.FromMilliseconds(500);
        });
        var finishes = await Enqueue("gate");
        var cooperative = await Enqueue("wait-for-cancel");
        var stubborn = await Enqueue("stubborn");
        foreach (var id in new[] { finishes.Id, cooperative.Id, stubborn.Id })
        {
            await _probe.StartedFor(id).Task.Within(Timeout, $"job {id} starts");
        }
        var workerId = worker.WorkerId;

        var stopping = _host!.StopAsync();
        _probe.Gate.SetResult(); // finishes within the shutdown timeout
        await stopping.Within(Timeout, "the host stops");
        var late = await Enqueue("gate");

        Assert.Equal(JobStates.Succeeded, (await _client.GetJobAsync(finishes.Id)).State);
        var (reason, _) = await _probe.CancelledFor(cooperative.Id).Task.Within(Timeout, "the running handler's token fires");
        Assert.Equal(JobCancelReason.Shutdown, reason);
        foreach (var id in new[] { cooperative.Id, stubborn.Id })
        {
            var job = await _client.GetJobAsync(id);
            Assert.True(job.State is JobStates.Queued or JobStates.Retrying, $"job {id} is {job.State}");
            Assert.Equal("Kairos.Shutdown", job.LastError!.Type);
        }
        Assert.Empty((await _client.ListJobsAsync(new JobQuery { Queue = _queue, State = JobStates.Running })).Items);
        Assert.Equal(JobStates.Queued, (await _client.GetJobAsync(late.Id)).State);
        Assert.True((await Assert.ThrowsAsync<KairosException>(() => _client.GetWorkerAsync(workerId))).IsNotFound);
        _host.Dispose();
        _host = null;
    }

    // ------------------------------------------------------------------ prefetch and batch lease heartbeats

    /// <summary>One slot, one job of prefetch, sized generously: after a first job the buffer may hold one.</summary>
    private async Task<KairosWorker> StartWithOneSlotAndABufferAsync(Action<KairosWorkerOptions>? configure = null)
    {
        var worker = await StartAsync(o =>
        {
            o.Queues[_queue] = 1;
            o.Prefetch = 1;
            o.PrefetchWindow = TimeSpan.FromHours(1);
            configure?.Invoke(o);
        });
        // The buffer follows the handlers' pace, which one finished job gives.
        await WaitForState((await Enqueue("quick")).Id, JobStates.Succeeded);
        return worker;
    }

    /// <summary>A gate job runs in the only slot and a second job waits in the buffer.</summary>
    private async Task<(Job Running, Job Buffered)> RunningAndBufferedAsync(KairosWorker worker, string running = "gate", string buffered = "quick")
    {
        var first = await Enqueue(running);
        await _probe.StartedFor(first.Id).Task.Within(Timeout, "the first job starts");
        var second = await Enqueue(buffered);
        await Eventually.WaitAsync(() => worker.BufferedCount == 1, Timeout, "the second job waits in the buffer");
        Assert.Equal(JobStates.Running, (await _client.GetJobAsync(second.Id)).State);
        Assert.False(_probe.Started.ContainsKey(second.Id));
        return (first, second);
    }

    [Fact]
    public async Task Fast_jobs_come_in_large_fetches_not_one_fetch_per_freed_slot()
    {
        const int jobs = 200;
        await _client.EnqueueManyAsync(Enumerable.Range(0, jobs).Select(i => JobRequest.Create("scripted", new Order("quick", i), new EnqueueOptions { Queue = _queue })));
        await StartAsync(o =>
        {
            o.FetchBatchSize = 50;
            o.PrefetchWindow = TimeSpan.FromSeconds(1);
        });

        await Eventually.WaitAsync(() => _client.GetQueueAsync(_queue), q => q.Counts.GetValueOrDefault(JobStates.Succeeded) == jobs, Timeout, "every job succeeds");
        // Four slots: fetching per freed slot takes 50 fetches or more; batches of up to 50 take a handful.
        var fetches = Calls("POST api/v1/fetch");
        Assert.True(fetches <= 20, $"{fetches} fetches for {jobs} jobs");
        Assert.True(_probe.MaxRunning <= 4, $"{_probe.MaxRunning} handlers ran at once in four slots");
        Assert.Equal(jobs, _probe.Started.Count);
        Assert.Empty((await _client.ListJobsAsync(new JobQuery { Queue = _queue, State = JobStates.Retrying })).Items);
    }

    [Fact]
    public async Task A_buffered_job_keeps_its_lease_through_batch_heartbeats_and_runs_when_the_slot_frees()
    {
        var worker = await StartWithOneSlotAndABufferAsync(o => o.LeaseDuration = TimeSpan.FromSeconds(2));
        var (running, buffered) = await RunningAndBufferedAsync(worker);
        var leasedUntil = (await _client.GetJobAsync(buffered.Id)).LeaseExpiresAt!.Value;

        // Leases of two seconds: only heartbeats keep it past a second lease length.
        await Eventually.WaitAsync(() => _client.GetJobAsync(buffered.Id), j => j.LeaseExpiresAt > leasedUntil.AddSeconds(2.5), Timeout,
            "the buffered job's lease is extended");
        Assert.True(Calls("POST api/v1/jobs/heartbeat") > 0);
        Assert.Equal(0, Calls("POST api/v1/jobs/{id}/heartbeat"));

        _probe.Gate.SetResult();
        var done = await WaitForState(buffered.Id, JobStates.Succeeded);
        Assert.Single(done.Attempts!);
        Assert.Equal(1, (await WaitForState(running.Id, JobStates.Succeeded)).Attempt);
    }

    [Fact]
    public async Task A_job_cancelled_while_it_waits_in_the_buffer_never_reaches_its_handler()
    {
        var worker = await StartWithOneSlotAndABufferAsync();
        var (running, buffered) = await RunningAndBufferedAsync(worker);

        await _client.CancelJobAsync(buffered.Id);
        // Two worker heartbeats (every 300 ms here) after the cancel: the worker has read the cancel in one answer.
        var beats = Calls("POST api/v1/workers/{id}/heartbeat");
        await Eventually.WaitAsync(() => Calls("POST api/v1/workers/{id}/heartbeat") >= beats + 2, Timeout, "two more worker heartbeats");
        _probe.Gate.SetResult();

        var cancelled = await WaitForState(buffered.Id, JobStates.Cancelled);
        Assert.Equal(1, cancelled.Attempt);
        Assert.False(_probe.Started.ContainsKey(buffered.Id));
        await WaitForState(running.Id, JobStates.Succeeded);
    }

    [Fact]
    public async Task At_shutdown_a_job_still_in_the_buffer_goes_back_without_having_run()
    {
        var worker = await StartWithOneSlotAndABufferAsync(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromMilliseconds(300);
            o.CancellationGracePeriod = TimeSpan.FromMilliseconds(300);
        });
        var (running, buffered) = await RunningAndBufferedAsync(worker, running: "wait-for-cancel");

        await _host!.StopAsync().Within(Timeout, "the host stops");

        var back = await _client.GetJobAsync(buffered.Id);
        Assert.True(back.State is JobStates.Queued or JobStates.Retrying, $"the buffered job is {back.State} ({back.LastError?.Type}: {back.LastError?.Message})");
        Assert.Equal("Kairos.Shutdown", back.LastError!.Type);
        Assert.Equal("the worker shut down before the job started", back.LastError.Message);
        Assert.False(_probe.Started.ContainsKey(buffered.Id));
        Assert.Equal("Kairos.Shutdown", (await _client.GetJobAsync(running.Id)).LastError!.Type);
        Assert.Empty((await _client.ListJobsAsync(new JobQuery { Queue = _queue, State = JobStates.Running })).Items);
        _host.Dispose();
        _host = null;
    }

    [Fact]
    public async Task Quiet_from_the_server_stops_fetching_but_finishes_running_jobs()
    {
        var worker = await StartAsync();
        var running = await Enqueue("gate");
        await _probe.StartedFor(running.Id).Task.Within(Timeout, "the job starts");

        await _client.QuietWorkerAsync(worker.WorkerId);
        // The fetch loop ends once the heartbeat brings the command; the long poll in flight is cancelled.
        await Eventually.WaitAsync(() => _client.GetWorkerAsync(worker.WorkerId), w => w.State == "quiet", Timeout, "worker is quiet");
        _probe.Gate.SetResult();
        await WaitForState(running.Id, JobStates.Succeeded);
    }
}
