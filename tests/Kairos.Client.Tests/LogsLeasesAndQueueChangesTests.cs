namespace Kairos.Client.Tests;

/// <summary>The client's incremental log read, batch lease heartbeat and queue PATCH against the real server.</summary>
[Collection(ServerCollection.Name)]
public sealed class LogsLeasesAndQueueChangesTests(ServerFixture server) : IDisposable
{
    private readonly KairosClient _client = server.Client();
    private readonly string _queue = "l-" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose() => _client.Dispose();

    private async Task<(Guid WorkerId, IReadOnlyList<FetchedJob> Jobs)> LeaseAsync(int count, int leaseMs = 10_000)
    {
        await _client.EnqueueManyAsync(Enumerable.Range(0, count).Select(i => JobRequest.Create("t", new { i }, new EnqueueOptions { Queue = _queue })));
        var worker = await _client.RegisterWorkerAsync(new WorkerRegistration { Name = "w-" + _queue, Queues = [_queue] });
        var jobs = await _client.FetchAsync(new FetchRequest { WorkerId = worker.Id, Queues = [_queue], Max = count, WaitMs = 1000, LeaseMs = leaseMs });
        Assert.Equal(count, jobs.Count);
        return (worker.Id, jobs);
    }

    [Fact]
    public async Task Job_logs_are_read_after_the_last_id_seen()
    {
        var (_, jobs) = await LeaseAsync(1);
        var job = jobs[0];
        await _client.AppendLogsAsync(job.Id, job.LeaseToken, ["one", "two", "three"]);

        var first = await _client.GetJobLogsAsync(job.Id, limit: 2);
        Assert.Equal(["one", "two"], first.Items.Select(l => l.Line));
        Assert.NotNull(first.NextCursor);
        Assert.Equal(JobStates.Running, first.JobState);
        Assert.All(first.Items, l => Assert.Equal(1, l.Attempt));
        var rest = await _client.GetJobLogsAsync(job.Id, after: first.Items[^1].Id);
        Assert.Equal(["three"], rest.Items.Select(l => l.Line));
        Assert.Null(rest.NextCursor);

        await _client.AppendLogsAsync(job.Id, job.LeaseToken, ["four"]);
        await _client.AckAsync(job.Id, job.LeaseToken);
        var last = await _client.GetJobLogsAsync(job.Id, after: rest.Items[^1].Id);
        Assert.Equal(["four"], last.Items.Select(l => l.Line));
        Assert.True(JobStates.IsFinished(last.JobState));

        Assert.True((await Assert.ThrowsAsync<KairosException>(() => _client.GetJobLogsAsync(Guid.NewGuid()))).IsNotFound);
        var bad = await Assert.ThrowsAsync<KairosException>(() => _client.GetJobLogsAsync(job.Id, limit: 0));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("limit", bad.Errors.Keys);
    }

    [Fact]
    public async Task Many_leases_are_heartbeated_in_one_call_with_an_answer_per_lease()
    {
        var (workerId, jobs) = await LeaseAsync(3, leaseMs: 5_000);
        await _client.CancelJobAsync(jobs[1].Id);

        var results = await _client.HeartbeatJobsAsync(
        [
            new JobLease { Id = jobs[0].Id, LeaseToken = jobs[0].LeaseToken },
            new JobLease { Id = jobs[1].Id, LeaseToken = jobs[1].LeaseToken },
            new JobLease { Id = jobs[2].Id, LeaseToken = Guid.NewGuid() },
        ], extendMs: 600_000);

        Assert.Equal(["ok", "ok", "stale_lease"], results.Select(r => r.Status));
        Assert.Equal([jobs[0].Id, jobs[1].Id, jobs[2].Id], results.Select(r => r.Id));
        Assert.Equal([false, true, false], results.Select(r => r.CancelRequested));
        Assert.True(results[0].LeaseExpiresAt > DateTimeOffset.UtcNow.AddMinutes(9));
        Assert.Null(results[2].LeaseExpiresAt);
        Assert.Equal(jobs[2].LeaseExpiresAt, (await _client.GetJobAsync(jobs[2].Id)).LeaseExpiresAt);
        await _client.DeregisterWorkerAsync(workerId);
    }

    [Fact]
    public async Task Update_queue_changes_only_the_named_settings()
    {
        await _client.ConfigureQueueAsync(_queue, new QueueSettings
        {
            ConcurrencyLimit = 2,
            RateLimit = new RateLimit { Limit = 10, PeriodMs = 1000 },
            DefaultMaxAttempts = 3,
            DefaultTimeoutMs = 5000,
        });

        var concurrency = await _client.UpdateQueueAsync(_queue, new QueueChanges().ConcurrencyLimit(9));
        Assert.Equal(9, concurrency.ConcurrencyLimit);
        Assert.Equal(10, concurrency.RateLimit!.Limit);
        Assert.Equal(3, concurrency.DefaultMaxAttempts);
        Assert.Equal(5000, concurrency.DefaultTimeoutMs);

        var cleared = await _client.UpdateQueueAsync(_queue, new QueueChanges().RateLimit(null, null).DefaultTimeout(null).DefaultMaxAttempts(4));
        Assert.Null(cleared.RateLimit);
        Assert.Null(cleared.DefaultTimeoutMs);
        Assert.Equal(4, cleared.DefaultMaxAttempts);
        Assert.Equal(9, cleared.ConcurrencyLimit);

        var rate = await _client.UpdateQueueAsync(_queue, new QueueChanges().RateLimit(5, TimeSpan.FromMinutes(1)).DefaultTimeout(TimeSpan.FromSeconds(30)));
        Assert.Equal(5, rate.RateLimit!.Limit);
        Assert.Equal(60_000, rate.RateLimit.PeriodMs);
        Assert.Equal(30_000, rate.DefaultTimeoutMs);

        Assert.Throws<ArgumentException>(() => new QueueChanges().RateLimit(5, null));
        var bad = await Assert.ThrowsAsync<KairosException>(() => _client.UpdateQueueAsync(_queue, new QueueChanges().ConcurrencyLimit(0)));
        Assert.Contains("concurrency_limit", bad.Errors.Keys);
        Assert.Equal(9, (await _client.GetQueueAsync(_queue)).ConcurrencyLimit);
    }
}
