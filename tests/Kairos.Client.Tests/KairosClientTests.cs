using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Kairos.Client.Tests;

/// <summary>The client against the real server: enqueue with every option, management calls, errors and retries.</summary>
[Collection(ServerCollection.Name)]
public sealed class KairosClientTests(ServerFixture server) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly KairosClient _client = server.Client();
    private readonly string _queue = "q-" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose() => _client.Dispose();

    public sealed record Email(string To, string Subject, int Retries);

    [Fact]
    public async Task Enqueue_with_every_option_is_stored_as_given()
    {
        var runAt = DateTimeOffset.UtcNow.AddHours(1);
        var job = await _client.EnqueueAsync("email.send", new Email("a@example.com", "Hi", 2), new EnqueueOptions
        {
            Queue = _queue,
            Priority = 7,
            RunAt = runAt,
            MaxAttempts = 4,
            Timeout = TimeSpan.FromSeconds(90),
            UniqueKey = "email-" + _queue,
            Tags = ["mail", "welcome"],
        });

        var read = await _client.GetJobAsync(job.Id);
        Assert.Equal(_queue, read.Queue);
        Assert.Equal("email.send", read.Type);
        Assert.Equal(JobStates.Scheduled, read.State);
        Assert.Equal(7, read.Priority);
        Assert.Equal(4, read.MaxAttempts);
        Assert.Equal(90_000, read.TimeoutMs);
        Assert.Equal("email-" + _queue, read.UniqueKey);
        Assert.Equal(["mail", "welcome"], read.Tags);
        Assert.InRange(read.RunAt, runAt.AddMilliseconds(-1), runAt.AddMilliseconds(1));
        // snake_case payload by default, read back typed
        Assert.Equal("a@example.com", read.Payload.GetProperty("to").GetString());
        Assert.Equal(new Email("a@example.com", "Hi", 2), read.PayloadAs<Email>());

        var again = await _client.EnqueueAsync("email.send", new Email("b@example.com", "Other", 0), new EnqueueOptions { Queue = _queue, UniqueKey = "email-" + _queue });
        Assert.Equal(job.Id, again.Id);
        Assert.True(again.Deduplicated);
    }

    [Fact]
    public async Task Delay_schedules_the_job_that_far_ahead()
    {
        var before = DateTimeOffset.UtcNow;
        var job = await _client.EnqueueAsync("later", new { n = 1 }, new EnqueueOptions { Queue = _queue, Delay = TimeSpan.FromMinutes(10) });
        Assert.Equal(JobStates.Scheduled, job.State);
        Assert.InRange(job.RunAt, before.AddMinutes(10).AddSeconds(-1), DateTimeOffset.UtcNow.AddMinutes(10).AddSeconds(1));
    }

    [Fact]
    public async Task Bulk_enqueue_returns_the_ids_in_order_and_lists_filter_by_tag()
    {
        var requests = Enumerable.Range(0, 25)
            .Select(i => JobRequest.Create("bulk.item", new { index = i }, new EnqueueOptions { Queue = _queue, Tags = [i % 2 == 0 ? "even" : "odd"] }))
            .ToList();
        var ids = await _client.EnqueueManyAsync(requests);
        Assert.Equal(25, ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal(i, (await _client.GetJobAsync(ids[i])).Payload.GetProperty("index").GetInt32());
        }

        var even = new List<Job>();
        await foreach (var j in _client.ListAllJobsAsync(new JobQuery { Queue = _queue, Tag = "even", Limit = 5 })) even.Add(j);
        Assert.Equal(13, even.Count);
        Assert.All(even, j => Assert.Contains("even", j.Tags));
        var page = await _client.ListJobsAsync(new JobQuery { Queue = _queue, Limit = 10, Sort = "created_at" });
        Assert.Equal(ids.Take(10), page.Items.Select(j => j.Id));
        Assert.NotNull(page.NextCursor);
    }

    [Fact]
    public async Task Cancel_retry_and_delete_change_the_job()
    {
        var job = await _client.EnqueueAsync("x", new { }, new EnqueueOptions { Queue = _queue });
        Assert.Equal(JobStates.Cancelled, (await _client.CancelJobAsync(job.Id)).State);
        Assert.Equal(JobStates.Queued, (await _client.RetryJobAsync(job.Id)).State);
        await _client.DeleteJobAsync(job.Id);
        var gone = await Assert.ThrowsAsync<KairosException>(() => _client.GetJobAsync(job.Id));
        Assert.True(gone.IsNotFound);
    }

    [Fact]
    public async Task Server_problems_surface_as_one_exception_with_the_details()
    {
        var missing = Guid.NewGuid();
        var notFound = await Assert.ThrowsAsync<KairosException>(() => _client.GetJobAsync(missing));
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("Not found", notFound.Title);
        Assert.Contains(missing.ToString(), notFound.Detail, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(notFound.RequestId));
        Assert.False(notFound.IsTransient);

        var invalid = await Assert.ThrowsAsync<KairosException>(() =>
            _client.EnqueueAsync("t", new { }, new EnqueueOptions { Queue = _queue, MaxAttempts = 0 }));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.True(invalid.Errors.ContainsKey("max_attempts"), string.Join(", ", invalid.Errors.Keys));

        var conflict = await _client.EnqueueAsync("t", new { }, new EnqueueOptions { Queue = _queue });
        var refused = await Assert.ThrowsAsync<KairosException>(() => _client.RetryJobAsync(conflict.Id));
        Assert.True(refused.IsConflict);

        using var noKey = server.Client(o => o.ApiKey = null);
        var unauthorized = await Assert.ThrowsAsync<KairosException>(() => noKey.GetStatsAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task An_unreachable_server_is_a_KairosException_without_status()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new KairosClient(new HttpClient(), new KairosClientOptions
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"), ApiKey = ServerFixture.AdminKey, MaxRetries = 1, RetryDelay = TimeSpan.FromMilliseconds(1),
        });
        var ex = await Assert.ThrowsAsync<KairosException>(() => client.GetStatsAsync());
        Assert.Null(ex.StatusCode);
        Assert.True(ex.IsTransient);
        Assert.IsType<HttpRequestException>(ex.InnerException);
    }

    [Fact]
    public async Task Idempotent_calls_are_retried_on_transient_failures_and_plain_enqueues_are_not()
    {
        using var flaky = new FlakyHandler(failures: 2);
        using var client = server.Client(handler: flaky);

        var stats = await client.GetStatsAsync();
        Assert.False(string.IsNullOrEmpty(stats.System.Version));
        Assert.Equal(3, flaky.Requests);

        flaky.Reset(failures: 1);
        var ex = await Assert.ThrowsAsync<KairosException>(() => client.EnqueueAsync("t", new { }, new EnqueueOptions { Queue = _queue }));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Equal(1, flaky.Requests);

        flaky.Reset(failures: 1);
        var unique = await client.EnqueueAsync("t", new { }, new EnqueueOptions { Queue = _queue, UniqueKey = "u-" + _queue });
        Assert.Equal(2, flaky.Requests);
        Assert.Equal(JobStates.Queued, unique.State);
    }

    [Fact]
    public async Task Queues_pause_resume_take_limits_and_purge()
    {
        await _client.EnqueueManyAsync(Enumerable.Range(0, 3).Select(i => JobRequest.Create("p", new { i }, new EnqueueOptions { Queue = _queue })));

        var paused = await _client.PauseQueueAsync(_queue, "maintenance");
        Assert.True(paused.Paused);
        Assert.Equal("maintenance", paused.PauseReason);
        Assert.Equal(3, paused.Counts[JobStates.Queued]);

        var settings = paused.Settings();
        settings.ConcurrencyLimit = 2;
        settings.RateLimit = new RateLimit { Limit = 10, PeriodMs = 1000 };
        var limited = await _client.ConfigureQueueAsync(_queue, settings);
        Assert.Equal(2, limited.ConcurrencyLimit);
        Assert.Equal(10, limited.RateLimit!.Limit);

        Assert.False((await _client.ResumeQueueAsync(_queue)).Paused);
        Assert.Contains(_queue, (await _client.ListQueuesAsync(limit: 500)).Items.Select(q => q.Name));
        Assert.Equal(3, await _client.PurgeQueueAsync(_queue));
        Assert.Equal(0, (await _client.GetQueueAsync(_queue)).Counts.GetValueOrDefault(JobStates.Queued));
    }

    [Fact]
    public async Task Workers_are_listed_quieted_stopped_and_removed()
    {
        var registered = await _client.RegisterWorkerAsync(new WorkerRegistration { Name = "w-" + _queue, Queues = [_queue], Capacity = 3 });
        Assert.True(registered.HeartbeatTimeoutMs > 0);
        var listed = (await _client.ListWorkersAsync(limit: 500)).Items.Single(w => w.Id == registered.Id);
        Assert.Equal("w-" + _queue, listed.Name);
        Assert.Equal(3, listed.Capacity);

        Assert.Equal("quiet", (await _client.QuietWorkerAsync(registered.Id)).State);
        Assert.Equal(["quiet"], (await _client.HeartbeatWorkerAsync(registered.Id)).Commands);
        Assert.Equal("stopped", (await _client.StopWorkerAsync(registered.Id)).State);
        Assert.Equal(["terminate"], (await _client.HeartbeatWorkerAsync(registered.Id)).Commands);

        await _client.RemoveWorkerAsync(registered.Id);
        Assert.True((await Assert.ThrowsAsync<KairosException>(() => _client.GetWorkerAsync(registered.Id))).IsNotFound);
    }

    [Fact]
    public async Task The_raw_protocol_fetches_heartbeats_logs_and_acks_in_a_batch()
    {
        var ids = await _client.EnqueueManyAsync(Enumerable.Range(0, 3).Select(i => JobRequest.Create("proto", new { i }, new EnqueueOptions { Queue = _queue })));
        var worker = await _client.RegisterWorkerAsync(new WorkerRegistration { Name = "proto", Queues = [_queue] });
        var jobs = await _client.FetchAsync(new FetchRequest { WorkerId = worker.Id, Queues = [_queue], Max = 10, WaitMs = 1000, LeaseMs = 10_000 });
        Assert.Equal(ids.ToHashSet(), jobs.Select(j => j.Id).ToHashSet());

        var first = jobs[0];
        var beat = await _client.HeartbeatJobAsync(first.Id, first.LeaseToken, 20_000, new JobProgress { Percent = 40, Message = "half-ish" });
        Assert.False(beat.CancelRequested);
        await _client.AppendLogsAsync(first.Id, first.LeaseToken, ["one", "two"]);

        using var result = JsonDocument.Parse("""{"ok":true}""");
        var results = await _client.CompleteManyAsync(
            [new JobAck { Id = jobs[0].Id, LeaseToken = jobs[0].LeaseToken, Result = result.RootElement }, new JobAck { Id = jobs[1].Id, LeaseToken = Guid.NewGuid() }],
            [new JobFailure { Id = jobs[2].Id, LeaseToken = jobs[2].LeaseToken, Error = new JobError { Message = "nope", Type = "Test" }, Retryable = false }]);
        Assert.Equal("ok", results.Single(r => r.Id == jobs[0].Id).Status);
        Assert.Equal("stale_lease", results.Single(r => r.Id == jobs[1].Id).Status);
        Assert.Equal(JobStates.Failed, results.Single(r => r.Id == jobs[2].Id).State);

        var done = await _client.GetJobAsync(first.Id);
        Assert.Equal(JobStates.Succeeded, done.State);
        Assert.True(done.Result!.Value.GetProperty("ok").GetBoolean());
        Assert.Equal(["one", "two"], done.Logs!.Select(l => l.Line));
        Assert.Equal(40, done.Progress!.Percent);
        await _client.DeregisterWorkerAsync(worker.Id);
    }

    [Fact]
    public async Task The_event_stream_yields_job_events_and_resumes_after_an_id()
    {
        var job = await _client.EnqueueAsync("evented", new { }, new EnqueueOptions { Queue = _queue });
        using var cts = new CancellationTokenSource(Timeout);
        KairosEvent? seen = null;
        await foreach (var e in _client.StreamEventsAsync(lastEventId: 0, cancellationToken: cts.Token))
        {
            if (e.Type == "job.enqueued" && e.Data.GetProperty("job_id").GetGuid() == job.Id)
            {
                seen = e;
                break;
            }
        }
        Assert.NotNull(seen);
        Assert.True(seen.Id > 0);
        Assert.Equal(_queue, seen.Data.GetProperty("queue").GetString());

        // After that id, the next event of the job is the cancel.
        await _client.CancelJobAsync(job.Id);
        await foreach (var e in _client.StreamEventsAsync(lastEventId: seen.Id, cancellationToken: cts.Token))
        {
            Assert.True(e.Id > seen.Id);
            if (e.Data.TryGetProperty("job_id", out var id) && id.GetGuid() == job.Id)
            {
                Assert.Equal("job.cancelled", e.Type);
                break;
            }
        }
    }

    /// <summary>Answers 503 to the first requests, then lets them through to the server.</summary>
    private sealed class FlakyHandler(int failures) : DelegatingHandler(new HttpClientHandler())
    {
        private int _failures = failures;
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public void Reset(int failures)
        {
            _failures = failures;
            _requests = 0;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            if (Interlocked.Decrement(ref _failures) >= 0)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request });
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
