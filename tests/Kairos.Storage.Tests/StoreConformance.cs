using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kairos.Core.Auth;
using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Kairos.Core.Workers;
using Microsoft.Extensions.Time.Testing;

namespace Kairos.Storage.Tests;

/// <summary>
/// What every <see cref="IKairosStore"/> must do, whatever database is behind it. Each store subclasses this once and
/// supplies fresh, migrated, empty stores; every test gets its own (xUnit makes a new instance per test).
/// Time is a <see cref="FakeTimeProvider"/> that only moves when a test advances it.
/// </summary>
public abstract partial class StoreConformance : IAsyncLifetime
{
    protected static readonly Guid OrgA = Organizations.Default;
    protected static readonly Guid OrgB = new("0190f000-0000-7000-8000-0000000000bb");
    protected static readonly DateTimeOffset Start = new(2030, 1, 15, 12, 0, 0, TimeSpan.Zero);
    /// <summary>The guard on every group of concurrent tasks: a deadlock fails the test instead of hanging the run.</summary>
    protected static readonly TimeSpan ConcurrencyTimeout = TimeSpan.FromSeconds(60);
    protected static CancellationToken None => CancellationToken.None;

    private readonly List<IKairosStore> _stores = [];

    protected FakeTimeProvider Time { get; } = new(Start);

    /// <summary>The store of the test, made by <see cref="CreateStoreAsync"/> with <see cref="Time"/>.</summary>
    protected IKairosStore Store { get; private set; } = null!;

    /// <summary>A new store on its own empty database, already migrated, taking "now" from <paramref name="time"/>.</summary>
    protected abstract Task<IKairosStore> CreateStoreAsync(TimeProvider time);

    /// <summary>Runs after every store of the test was disposed: remove files, schemas, ...</summary>
    protected virtual Task CleanupAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => Store = await OpenStoreAsync(Time);

    /// <summary>Creates a store that is disposed with the test.</summary>
    protected async Task<IKairosStore> OpenStoreAsync(TimeProvider time)
    {
        var store = await CreateStoreAsync(time);
        _stores.Add(store);
        return store;
    }

    public async Task DisposeAsync()
    {
        try
        {
            foreach (var store in _stores)
            {
                await store.DisposeAsync();
            }
        }
        finally
        {
            await CleanupAsync();
        }
    }

    // ------------------------------------------------------------------ basics

    [SkippableFact]
    public async Task Store_is_ready_after_migration()
    {
        Assert.True(await Store.IsReadyAsync(None));
        Assert.False(string.IsNullOrWhiteSpace(Store.Driver));
        Assert.NotNull(Store.Capabilities);
    }

    [SkippableFact]
    public async Task Enqueue_lease_ack_runs_a_job_to_success_with_its_attempt_and_result()
    {
        var worker = await RegisterAsync("w1", OrgA, "emails");
        const string payload = """{"to":"a@example.com","n":[1,2,3]}""";
        var enqueued = await Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, new NewJob
        {
            Queue = "emails",
            Type = "email.send",
            Payload = payload,
            Priority = 3,
            TimeoutMs = 300_000,
            Tags = ["welcome", "eu"],
        }), None);

        Assert.False(enqueued.Deduplicated);
        var job = enqueued.Job;
        Assert.NotEqual(Guid.Empty, job.Id);
        Assert.Equal(OrgA, job.OrganizationId);
        Assert.Equal("emails", job.Queue);
        Assert.Equal("email.send", job.Type);
        AssertJsonEqual(payload, job.Payload);
        Assert.Equal(3, job.Priority);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Equal(RetryPolicy.DefaultMaxAttempts, job.MaxAttempts);
        Assert.Equal(300_000, job.TimeoutMs);
        Assert.Equal(["eu", "welcome"], job.Tags.Order());
        Assert.Equal(Start, job.CreatedAt);
        Assert.Equal(Start, job.RunAt);

        Time.Advance(TimeSpan.FromSeconds(1));
        var startedAt = Time.GetUtcNow();
        var leased = await LeaseOneAsync(worker, "emails", leaseMs: 30_000);
        Assert.Equal(job.Id, leased.Job.Id);
        Assert.Equal(JobState.Running, leased.Job.State);
        Assert.Equal(1, leased.Job.Attempt);
        Assert.Equal(worker.Id, leased.Job.WorkerId);
        Assert.NotEqual(Guid.Empty, leased.LeaseToken);
        Assert.Equal(startedAt.AddSeconds(30), leased.LeaseExpiresAt);
        AssertJsonEqual(payload, leased.Job.Payload);

        var running = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Running, running.State);
        Assert.Equal(worker.Id, running.WorkerId);
        Assert.Equal(startedAt, running.StartedAt);
        Assert.Equal(leased.LeaseExpiresAt, running.LeaseExpiresAt);
        var runningAttempt = Assert.Single(running.Attempts);
        Assert.Equal(1, runningAttempt.Number);
        Assert.Equal(worker.Id, runningAttempt.WorkerId);
        Assert.Equal(startedAt, runningAttempt.StartedAt);
        Assert.Null(runningAttempt.FinishedAt);

        Time.Advance(TimeSpan.FromSeconds(2));
        var ack = await Store.Jobs.AckAsync(new AckParams(OrgA, job.Id, leased.LeaseToken, """{"sent":true}"""), None);
        Assert.Equal(CommandStatus.Applied, ack.Status);
        Assert.Equal(JobState.Succeeded, ack.CurrentState);
        Assert.NotNull(ack.Change);
        Assert.Equal(job.Id, ack.Change.JobId);
        Assert.Equal(JobState.Running, ack.Change.From);
        Assert.Equal(JobState.Succeeded, ack.Change.To);

        var done = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Succeeded, done.State);
        AssertJsonEqual("""{"sent":true}""", done.Result);
        Assert.Equal(Time.GetUtcNow(), done.FinishedAt);
        Assert.Equal(1, done.Attempt);
        var attempt = Assert.Single(done.Attempts);
        Assert.Equal(1, attempt.Number);
        Assert.Equal(worker.Id, attempt.WorkerId);
        Assert.Equal(startedAt, attempt.StartedAt);
        Assert.Equal(Time.GetUtcNow(), attempt.FinishedAt);
        Assert.Null(attempt.Error);

        // The lease ended with the ack: the same token cannot ack twice.
        var again = await Store.Jobs.AckAsync(new AckParams(OrgA, job.Id, leased.LeaseToken, null), None);
        Assert.Equal(CommandStatus.StaleLease, again.Status);
    }

    [SkippableFact]
    public async Task Lease_requires_a_registered_worker()
    {
        var job = await EnqueueAsync(MakeJob());

        var result = await Store.Jobs.LeaseAsync(new LeaseParams(OrgA, Guid.NewGuid(), ["default"], 5, 30_000), None);

        Assert.False(result.WorkerFound);
        Assert.Empty(result.Jobs);
        Assert.Equal(JobState.Queued, (await GetJobAsync(job.Id)).State);
    }

    [SkippableFact]
    public async Task Lease_hands_out_at_most_max_jobs_and_only_from_the_asked_queues()
    {
        var worker = await RegisterAsync("w");
        var inA = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            inA.Add((await EnqueueAsync(MakeJob("a"))).Id);
        }
        var inB = (await EnqueueAsync(MakeJob("b"))).Id;
        var inC = (await EnqueueAsync(MakeJob("c"))).Id;

        var first = await LeaseAsync(worker, ["a"], max: 3);
        Assert.Equal(3, first.Count);
        Assert.Equal(3, first.Select(l => l.Job.Id).Distinct().Count());
        Assert.All(first, l => Assert.Contains(l.Job.Id, inA));
        Assert.Equal(3, first.Select(l => l.LeaseToken).Distinct().Count());

        var second = await LeaseAsync(worker, ["a", "b"], max: 10);
        Assert.Equal(3, second.Count);
        Assert.Contains(second, l => l.Job.Id == inB);
        Assert.DoesNotContain(second, l => l.Job.Id == inC);
        Assert.Empty(first.Select(l => l.Job.Id).Intersect(second.Select(l => l.Job.Id)));

        Assert.Empty(await LeaseAsync(worker, ["a", "b"], max: 10));
        Assert.Equal(JobState.Queued, (await GetJobAsync(inC)).State);
    }

    // ------------------------------------------------------------------ failures and retries

    [SkippableFact]
    public async Task Retryable_failure_makes_the_job_retrying_until_run_at_then_promote_queues_it()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob() with { MaxAttempts = 3 });
        var leased = await LeaseOneAsync(worker);

        Time.Advance(TimeSpan.FromSeconds(1));
        var failedAt = Time.GetUtcNow();
        var fail = await Store.Jobs.FailAsync(new FailParams(OrgA, job.Id, leased.LeaseToken,
            new Failure(new JobError("boom", "IOException", "at Handler.Run()"), Retryable: true, RetryInMs: 5_000)), None);

        Assert.Equal(CommandStatus.Applied, fail.Status);
        Assert.Equal(JobState.Retrying, fail.CurrentState);
        Assert.NotNull(fail.Change);
        Assert.Equal(JobState.Running, fail.Change.From);
        Assert.Equal(JobState.Retrying, fail.Change.To);
        Assert.Equal(failedAt.AddSeconds(5), fail.Change.RunAt);

        var retrying = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Retrying, retrying.State);
        Assert.Equal(failedAt.AddSeconds(5), retrying.RunAt);
        Assert.Equal(1, retrying.Attempt);
        Assert.NotNull(retrying.LastError);
        Assert.Equal("boom", retrying.LastError.Message);
        Assert.Equal("IOException", retrying.LastError.Type);
        Assert.Equal("at Handler.Run()", retrying.LastError.Stack);
        var attempt = Assert.Single(retrying.Attempts);
        Assert.Equal(failedAt, attempt.FinishedAt);
        Assert.NotNull(attempt.Error);
        Assert.Equal("boom", attempt.Error.Message);

        // Not due yet: not leasable and not promoted.
        Assert.Empty(await LeaseAsync(worker, ["default"], 5));
        Assert.DoesNotContain(await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None), c => c.JobId == job.Id);
        Assert.Equal(failedAt.AddSeconds(5), (await Store.Jobs.NextDueAsync(None)).NextRunAt);

        Time.Advance(TimeSpan.FromSeconds(5));
        var promoted = await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None);
        var change = Assert.Single(promoted, c => c.JobId == job.Id);
        Assert.Equal(JobState.Retrying, change.From);
        Assert.Equal(JobState.Queued, change.To);
        Assert.Equal(JobState.Queued, (await GetJobAsync(job.Id)).State);
        Assert.Null((await Store.Jobs.NextDueAsync(None)).NextRunAt);

        var second = await LeaseOneAsync(worker);
        Assert.Equal(job.Id, second.Job.Id);
        Assert.Equal(2, second.Job.Attempt);
        Assert.NotEqual(leased.LeaseToken, second.LeaseToken);
        var withTwo = await GetJobAsync(job.Id);
        Assert.Equal(2, withTwo.Attempts.Count);
    }

    [SkippableFact]
    public async Task Retryable_failure_without_a_delay_backs_off_into_the_future()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob());
        var leased = await LeaseOneAsync(worker);

        var fail = await FailAsync(job.Id, leased.LeaseToken, "flaky", retryable: true);

        Assert.Equal(JobState.Retrying, fail.CurrentState);
        var retrying = await GetJobAsync(job.Id);
        Assert.True(retrying.RunAt > Time.GetUtcNow(), $"run_at {retrying.RunAt:O} should lie after now {Time.GetUtcNow():O}");
        Assert.True(retrying.RunAt <= Time.GetUtcNow() + RetryPolicy.Default.MaxDelay);
    }

    [SkippableFact]
    public async Task Non_retryable_failure_fails_the_job()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob() with { MaxAttempts = 5 });
        var leased = await LeaseOneAsync(worker);

        var fail = await FailAsync(job.Id, leased.LeaseToken, "bad input", retryable: false);

        Assert.Equal(CommandStatus.Applied, fail.Status);
        Assert.Equal(JobState.Failed, fail.CurrentState);
        var failed = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal(Time.GetUtcNow(), failed.FinishedAt);
        Assert.Equal("bad input", failed.LastError?.Message);
        Assert.DoesNotContain(await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None), c => c.JobId == job.Id);
        Assert.Empty(await LeaseAsync(worker, ["default"], 5));
    }

    [SkippableFact]
    public async Task Failure_on_the_last_attempt_fails_the_job()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob() with { MaxAttempts = 1 });
        Assert.Equal(1, job.MaxAttempts);
        var leased = await LeaseOneAsync(worker);

        var fail = await FailAsync(job.Id, leased.LeaseToken, "flaky", retryable: true);

        Assert.Equal(JobState.Failed, fail.CurrentState);
        Assert.Equal(JobState.Failed, (await GetJobAsync(job.Id)).State);
    }

    [SkippableFact]
    public async Task Retry_of_a_failed_job_queues_it_and_keeps_earlier_attempts()
    {
        var w1 = await RegisterAsync("w1");
        var w2 = await RegisterAsync("w2");
        var job = await EnqueueAsync(MakeJob() with { MaxAttempts = 1 });
        var first = await LeaseOneAsync(w1);
        await FailAsync(job.Id, first.LeaseToken, "first", retryable: true);
        Assert.Equal(JobState.Failed, (await GetJobAsync(job.Id)).State);

        Time.Advance(TimeSpan.FromMinutes(1));
        var retry = await Store.Jobs.RetryAsync(new JobCommandParams(OrgA, job.Id), None);
        Assert.Equal(CommandStatus.Applied, retry.Status);
        Assert.Equal(JobState.Queued, retry.CurrentState);
        Assert.Equal(JobState.Failed, retry.Change?.From);
        Assert.Equal(JobState.Queued, retry.Change?.To);

        var queued = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Queued, queued.State);
        var kept = Assert.Single(queued.Attempts);
        Assert.Equal("first", kept.Error?.Message);

        var second = await LeaseOneAsync(w2);
        Assert.Equal(job.Id, second.Job.Id);
        Assert.Equal(2, second.Job.Attempt);
        await FailAsync(job.Id, second.LeaseToken, "second", retryable: false);

        var failed = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal(2, failed.Attempts.Count);
        Assert.Equal(1, failed.Attempts[0].Number);
        Assert.Equal(w1.Id, failed.Attempts[0].WorkerId);
        Assert.Equal("first", failed.Attempts[0].Error?.Message);
        Assert.Equal(2, failed.Attempts[1].Number);
        Assert.Equal(w2.Id, failed.Attempts[1].WorkerId);
        Assert.Equal("second", failed.Attempts[1].Error?.Message);
        Assert.Equal("second", failed.LastError?.Message);
    }

    [SkippableFact]
    public async Task Retry_of_a_cancelled_job_queues_it()
    {
        var job = await EnqueueAsync(MakeJob());
        await CancelAsync(job.Id);

        var retry = await Store.Jobs.RetryAsync(new JobCommandParams(OrgA, job.Id), None);

        Assert.Equal(CommandStatus.Applied, retry.Status);
        Assert.Equal(JobState.Queued, (await GetJobAsync(job.Id)).State);
    }

    [SkippableFact]
    public async Task Retry_is_refused_for_running_queued_and_succeeded_jobs()
    {
        var worker = await RegisterAsync("w");
        var done = await EnqueueAsync(MakeJob());
        var doneLease = await LeaseOneAsync(worker);
        await AckAsync(done.Id, doneLease.LeaseToken);
        var running = await EnqueueAsync(MakeJob());
        await LeaseOneAsync(worker);
        var queued = await EnqueueAsync(MakeJob());

        foreach (var (id, state) in new[] { (running.Id, JobState.Running), (queued.Id, JobState.Queued), (done.Id, JobState.Succeeded) })
        {
            var result = await Store.Jobs.RetryAsync(new JobCommandParams(OrgA, id), None);
            Assert.Equal(CommandStatus.InvalidState, result.Status);
            Assert.Equal(state, result.CurrentState);
            Assert.Null(result.Change);
            Assert.Equal(state, (await GetJobAsync(id)).State);
        }
    }

    // ------------------------------------------------------------------ leases

    [SkippableFact]
    public async Task Expired_lease_puts_the_job_back_as_a_failed_attempt_and_the_old_token_is_refused()
    {
        var w1 = await RegisterAsync("w1");
        var w2 = await RegisterAsync("w2");
        var job = await EnqueueAsync(MakeJob());
        var leased = await LeaseOneAsync(w1, leaseMs: 1_000);
        Assert.Equal(Start.AddSeconds(1), leased.LeaseExpiresAt);
        Assert.Equal(Start.AddSeconds(1), (await Store.Jobs.NextDueAsync(None)).NextLeaseExpiry);

        Time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.DoesNotContain(await Store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), None), c => c.JobId == job.Id);
        Assert.Equal(JobState.Running, (await GetJobAsync(job.Id)).State);

        Time.Advance(TimeSpan.FromMilliseconds(1_500));
        var expired = await Store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), None);
        var change = Assert.Single(expired, c => c.JobId == job.Id);
        Assert.Equal(JobState.Running, change.From);
        Assert.Equal(JobState.Retrying, change.To);
        Assert.Equal("lease expired", change.Error?.Message);
        Assert.Null((await Store.Jobs.NextDueAsync(None)).NextLeaseExpiry);

        var back = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Retrying, back.State);
        Assert.Equal("lease expired", back.LastError?.Message);
        var attempt = Assert.Single(back.Attempts);
        Assert.Equal("lease expired", attempt.Error?.Message);
        Assert.NotNull(attempt.FinishedAt);

        // The worker that lost its lease can no longer touch the job.
        await AssertTokenRefusedAsync(job.Id, leased.LeaseToken, CommandStatus.StaleLease);
        var untouched = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Retrying, untouched.State);
        Assert.Null(untouched.Result);
        Assert.Empty(untouched.Logs);

        // Not even once someone else runs it.
        Time.Advance(RetryPolicy.Default.MaxDelay + TimeSpan.FromSeconds(1));
        Assert.Contains(await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None), c => c.JobId == job.Id);
        var again = await LeaseOneAsync(w2, leaseMs: 60_000);
        Assert.Equal(job.Id, again.Job.Id);
        Assert.NotEqual(leased.LeaseToken, again.LeaseToken);
        await AssertTokenRefusedAsync(job.Id, leased.LeaseToken, CommandStatus.StaleLease);
        var runningForW2 = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Running, runningForW2.State);
        Assert.Equal(w2.Id, runningForW2.WorkerId);
        Assert.Equal(CommandStatus.Applied, (await AckAsync(job.Id, again.LeaseToken)).Status);
    }

    [SkippableFact]
    public async Task Expired_lease_on_the_last_attempt_fails_the_job()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob() with { MaxAttempts = 1 });
        await LeaseOneAsync(worker, leaseMs: 1_000);

        Time.Advance(TimeSpan.FromSeconds(2));
        var change = Assert.Single(await Store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), None), c => c.JobId == job.Id);

        Assert.Equal(JobState.Failed, change.To);
        var failed = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal("lease expired", failed.LastError?.Message);
    }

    [SkippableFact]
    public async Task Wrong_lease_token_is_refused_as_stale()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob());
        var leased = await LeaseOneAsync(worker);

        await AssertTokenRefusedAsync(job.Id, Guid.NewGuid(), CommandStatus.StaleLease);

        var still = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Running, still.State);
        Assert.Equal(1, still.Attempt);
        Assert.Null(still.Result);
        Assert.Null(still.Progress);
        Assert.Empty(still.Logs);
        Assert.Equal(leased.LeaseExpiresAt, still.LeaseExpiresAt);
        Assert.Equal(CommandStatus.Applied, (await AckAsync(job.Id, leased.LeaseToken)).Status);
    }

    [SkippableFact]
    public async Task Token_for_a_job_that_is_not_running_is_refused_as_stale()
    {
        var job = await EnqueueAsync(MakeJob());

        await AssertTokenRefusedAsync(job.Id, Guid.NewGuid(), CommandStatus.StaleLease);

        Assert.Equal(JobState.Queued, (await GetJobAsync(job.Id)).State);
    }

    [SkippableFact]
    public async Task Unknown_job_is_not_found()
    {
        var id = Guid.NewGuid();

        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(OrgA, id), None));
        await AssertTokenRefusedAsync(id, Guid.NewGuid(), CommandStatus.NotFound);
        Assert.Equal(CommandStatus.NotFound, (await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, id), None)).Status);
        Assert.Equal(CommandStatus.NotFound, (await Store.Jobs.RetryAsync(new JobCommandParams(OrgA, id), None)).Status);
        Assert.Equal(CommandStatus.NotFound, (await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, id), None)).Status);
        var many = await Store.Jobs.CompleteManyAsync(new CompleteManyParams(OrgA, [new AckParams(OrgA, id, Guid.NewGuid(), null)], []), None);
        Assert.Equal(CommandStatus.NotFound, Assert.Single(many).Status);
    }

    [SkippableFact]
    public async Task Heartbeat_extends_the_lease_and_stores_progress()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob());
        var leased = await LeaseOneAsync(worker, leaseMs: 1_000);

        Time.Advance(TimeSpan.FromMilliseconds(800));
        var beat = await Store.Jobs.HeartbeatAsync(new JobHeartbeatParams(OrgA, job.Id, leased.LeaseToken, 5_000, new JobProgress(40, "halfway")), None);

        Assert.Equal(CommandStatus.Applied, beat.Status);
        Assert.False(beat.CancelRequested);
        Assert.Equal(Time.GetUtcNow().AddSeconds(5), beat.LeaseExpiresAt);
        var running = await GetJobAsync(job.Id);
        Assert.Equal(new JobProgress(40, "halfway"), running.Progress);
        Assert.Equal(beat.LeaseExpiresAt, running.LeaseExpiresAt);

        // Past the original expiry, but within the extension.
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(await Store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), None), c => c.JobId == job.Id);
        Assert.Equal(JobState.Running, (await GetJobAsync(job.Id)).State);

        // Past the extension.
        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Contains(await Store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), None), c => c.JobId == job.Id);
        Assert.NotEqual(JobState.Running, (await GetJobAsync(job.Id)).State);
    }

    [SkippableFact]
    public async Task Logs_are_appended_and_returned_in_order()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob());
        var leased = await LeaseOneAsync(worker);

        var firstAt = Time.GetUtcNow();
        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, job.Id, leased.LeaseToken, ["one", "two"]), None)).Status);
        Time.Advance(TimeSpan.FromMilliseconds(10));
        var secondAt = Time.GetUtcNow();
        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, job.Id, leased.LeaseToken, ["three"]), None)).Status);
        Time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, job.Id, leased.LeaseToken, ["four", "five", "six"]), None)).Status);

        var running = await GetJobAsync(job.Id);
        Assert.Equal(["one", "two", "three", "four", "five", "six"], running.Logs.Select(l => l.Line));
        Assert.Equal(firstAt, running.Logs[0].At);
        Assert.Equal(secondAt, running.Logs[2].At);

        await AckAsync(job.Id, leased.LeaseToken);
        var done = await GetJobAsync(job.Id);
        Assert.Equal(["one", "two", "three", "four", "five", "six"], done.Logs.Select(l => l.Line));
    }

    [SkippableFact]
    public async Task Heartbeat_many_extends_each_current_lease_and_refuses_stale_tokens_and_other_organizations()
    {
        var worker = await RegisterAsync("w");
        var a = await EnqueueAsync(MakeJob());
        var b = await EnqueueAsync(MakeJob());
        var c = await EnqueueAsync(MakeJob());
        var d = await EnqueueAsync(MakeJob() with { TimeoutMs = 2_000 });
        var leases = (await LeaseAsync(worker, ["default"], 4, leaseMs: 1_000)).ToDictionary(l => l.Job.Id);
        Assert.Equal(4, leases.Count);
        var otherWorker = await RegisterAsync("other", OrgB);
        var theirs = await EnqueueAsync(MakeJob(), OrgB);
        var theirLease = await LeaseOneAsync(otherWorker, leaseMs: 1_000);
        await CancelAsync(c.Id);
        var unknown = Guid.NewGuid();

        Time.Advance(TimeSpan.FromMilliseconds(800));
        var results = await Store.Jobs.HeartbeatManyAsync(new HeartbeatManyParams(OrgA,
        [
            new LeaseRef(a.Id, leases[a.Id].LeaseToken),
            new LeaseRef(b.Id, Guid.NewGuid()),
            new LeaseRef(c.Id, leases[c.Id].LeaseToken),
            new LeaseRef(unknown, Guid.NewGuid()),
            new LeaseRef(theirs.Id, theirLease.LeaseToken),
            new LeaseRef(a.Id, Guid.NewGuid()),
            new LeaseRef(d.Id, leases[d.Id].LeaseToken),
        ], 5_000), None);

        Assert.Equal(
            [CommandStatus.Applied, CommandStatus.StaleLease, CommandStatus.Applied, CommandStatus.NotFound, CommandStatus.NotFound, CommandStatus.StaleLease, CommandStatus.Applied],
            results.Select(r => r.Status));
        Assert.Equal(Time.GetUtcNow().AddSeconds(5), results[0].LeaseExpiresAt);
        Assert.False(results[0].CancelRequested);
        Assert.True(results[2].CancelRequested);
        Assert.All([results[1], results[3], results[4], results[5]], r => Assert.Null(r.LeaseExpiresAt));
        // A lease never runs past the job's timeout.
        Assert.Equal(Start.AddSeconds(2), results[6].LeaseExpiresAt);
        Assert.Equal(Time.GetUtcNow().AddSeconds(5), (await GetJobAsync(a.Id)).LeaseExpiresAt);
        Assert.Equal(leases[b.Id].LeaseExpiresAt, (await GetJobAsync(b.Id)).LeaseExpiresAt);
        Assert.Equal(theirLease.LeaseExpiresAt, (await GetJobAsync(theirs.Id, OrgB)).LeaseExpiresAt);

        // Past the first leases: the stale item's job and the other organization's job expire, the extended ones do not.
        Time.Advance(TimeSpan.FromMilliseconds(300));
        var expired = (await Store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), None)).Select(x => x.JobId).ToHashSet();
        Assert.Contains(b.Id, expired);
        Assert.Contains(theirs.Id, expired);
        Assert.DoesNotContain(a.Id, expired);
        Assert.DoesNotContain(c.Id, expired);
        Assert.DoesNotContain(d.Id, expired);
        Assert.Equal(JobState.Running, (await GetJobAsync(a.Id)).State);

        Assert.Empty(await Store.Jobs.HeartbeatManyAsync(new HeartbeatManyParams(OrgA, [], null), None));
    }

    [SkippableFact]
    public async Task Log_lines_are_listed_after_an_id_in_pages_with_their_attempt_and_the_jobs_state()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob() with { MaxAttempts = 2 });
        var empty = await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgA, job.Id), None);
        Assert.NotNull(empty);
        Assert.Equal(JobState.Queued, empty.JobState);
        Assert.Empty(empty.Lines);
        Assert.False(empty.HasMore);

        var first = await LeaseOneAsync(worker);
        var at = Time.GetUtcNow();
        await Store.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, job.Id, first.LeaseToken, ["one", "two"]), None);
        await Store.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, job.Id, first.LeaseToken, ["three"]), None);

        var page1 = await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgA, job.Id, 0, 2), None);
        Assert.NotNull(page1);
        Assert.Equal(JobState.Running, page1.JobState);
        Assert.Equal(["one", "two"], page1.Lines.Select(l => l.Line));
        Assert.All(page1.Lines, l => Assert.Equal(1, l.Attempt));
        Assert.All(page1.Lines, l => Assert.Equal(at, l.At));
        Assert.True(page1.HasMore);
        Assert.True(page1.Lines[0].Id < page1.Lines[1].Id);
        var page2 = await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgA, job.Id, page1.Lines[^1].Id, 2), None);
        Assert.Equal(["three"], page2!.Lines.Select(l => l.Line));
        Assert.False(page2.HasMore);
        var caughtUp = await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgA, job.Id, page2.Lines[^1].Id, 2), None);
        Assert.Empty(caughtUp!.Lines);

        // A second attempt appends after the first one's lines, and says which attempt wrote them.
        await FailAsync(job.Id, first.LeaseToken, "again", retryable: true, retryInMs: 0);
        await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None);
        var second = await LeaseOneAsync(worker);
        await Store.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, job.Id, second.LeaseToken, ["four"]), None);
        var after = await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgA, job.Id, page2.Lines[^1].Id), None);
        var four = Assert.Single(after!.Lines);
        Assert.Equal(("four", 2), (four.Line, four.Attempt));
        Assert.True(four.Id > page2.Lines[^1].Id);

        await AckAsync(job.Id, second.LeaseToken);
        var done = await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgA, job.Id, 0, 50), None);
        Assert.Equal(JobState.Succeeded, done!.JobState);
        Assert.Equal(["one", "two", "three", "four"], done.Lines.Select(l => l.Line));

        Assert.Null(await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgB, job.Id), None));
        Assert.Null(await Store.Jobs.ListLogsAsync(new ListLogsParams(OrgA, Guid.NewGuid()), None));
    }

    [SkippableFact]
    public async Task Complete_many_applies_each_item_on_its_own()
    {
        var worker = await RegisterAsync("w");
        var a = await EnqueueAsync(MakeJob());
        var b = await EnqueueAsync(MakeJob());
        var c = await EnqueueAsync(MakeJob());
        var d = await EnqueueAsync(MakeJob());
        var leases = (await LeaseAsync(worker, ["default"], 4)).ToDictionary(l => l.Job.Id);
        Assert.Equal(4, leases.Count);
        var unknown = Guid.NewGuid();

        var results = await Store.Jobs.CompleteManyAsync(new CompleteManyParams(OrgA,
            [
                new AckParams(OrgA, a.Id, leases[a.Id].LeaseToken, """{"a":1}"""),
                new AckParams(OrgA, b.Id, Guid.NewGuid(), """{"b":1}"""),
                new AckParams(OrgA, unknown, Guid.NewGuid(), null),
            ],
            [
                new FailParams(OrgA, c.Id, leases[c.Id].LeaseToken, new Failure(new JobError("c broke", null, null), Retryable: false)),
                new FailParams(OrgA, d.Id, Guid.NewGuid(), new Failure(new JobError("d broke", null, null), Retryable: false)),
            ]), None);

        Assert.Equal(5, results.Count);
        var byId = results.ToDictionary(r => r.JobId);
        Assert.Equal(CommandStatus.Applied, byId[a.Id].Status);
        Assert.Equal(CommandStatus.StaleLease, byId[b.Id].Status);
        Assert.Equal(CommandStatus.NotFound, byId[unknown].Status);
        Assert.Equal(CommandStatus.Applied, byId[c.Id].Status);
        Assert.Equal(CommandStatus.StaleLease, byId[d.Id].Status);

        var doneA = await GetJobAsync(a.Id);
        Assert.Equal(JobState.Succeeded, doneA.State);
        AssertJsonEqual("""{"a":1}""", doneA.Result);
        var runningB = await GetJobAsync(b.Id);
        Assert.Equal(JobState.Running, runningB.State);
        Assert.Null(runningB.Result);
        Assert.Equal(JobState.Failed, (await GetJobAsync(c.Id)).State);
        Assert.Equal(JobState.Running, (await GetJobAsync(d.Id)).State);
    }

    [SkippableFact]
    public async Task Complete_many_with_many_acks_applies_each_with_its_own_token_once()
    {
        var worker = await RegisterAsync("w");
        var jobs = new List<Job>();
        for (var i = 0; i < 12; i++) jobs.Add(await EnqueueAsync(MakeJob()));
        var leases = (await LeaseAsync(worker, ["default"], 12)).ToDictionary(l => l.Job.Id);
        Assert.Equal(12, leases.Count);
        var other = await EnqueueAsync(MakeJob(), OrgB);
        var otherWorker = await RegisterAsync("wb", OrgB);
        var otherLease = Assert.Single(await LeaseAsync(otherWorker, ["default"], 1));
        var unknown = Guid.NewGuid();

        // 10 good acks, one of them twice, one stale token, one unknown job, one job of another organization.
        var acks = jobs.Take(10).Select((j, i) => new AckParams(OrgA, j.Id, leases[j.Id].LeaseToken, $$"""{"i":{{i}}}""")).ToList();
        acks.Add(new AckParams(OrgA, jobs[3].Id, leases[jobs[3].Id].LeaseToken, """{"again":true}"""));
        acks.Add(new AckParams(OrgA, jobs[10].Id, Guid.NewGuid(), null));
        acks.Add(new AckParams(OrgA, unknown, Guid.NewGuid(), null));
        acks.Add(new AckParams(OrgA, other.Id, otherLease.LeaseToken, null));
        var results = await Store.Jobs.CompleteManyAsync(new CompleteManyParams(OrgA, acks, []), None);

        Assert.Equal(acks.Count, results.Count);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(jobs[i].Id, results[i].JobId);
            Assert.Equal(CommandStatus.Applied, results[i].Status);
        }
        Assert.Equal((jobs[3].Id, CommandStatus.StaleLease), (results[10].JobId, results[10].Status));
        Assert.Equal((jobs[10].Id, CommandStatus.StaleLease), (results[11].JobId, results[11].Status));
        Assert.Equal((unknown, CommandStatus.NotFound), (results[12].JobId, results[12].Status));
        Assert.Equal((other.Id, CommandStatus.NotFound), (results[13].JobId, results[13].Status));

        for (var i = 0; i < 10; i++)
        {
            var done = await GetJobAsync(jobs[i].Id);
            Assert.Equal(JobState.Succeeded, done.State);
            AssertJsonEqual($$"""{"i":{{i}}}""", done.Result);
            var attempt = Assert.Single(done.Attempts);
            Assert.Equal((Time.GetUtcNow(), "succeeded"), (attempt.FinishedAt, attempt.Outcome));
        }
        Assert.Equal(JobState.Running, (await GetJobAsync(jobs[10].Id)).State);
        Assert.Equal(JobState.Running, (await GetJobAsync(jobs[11].Id)).State);
        Assert.Equal(JobState.Running, (await GetJobAsync(other.Id, OrgB)).State);
    }

    // ------------------------------------------------------------------ ordering and scheduling

    [SkippableFact]
    public async Task Lease_takes_higher_priority_first_then_oldest_first()
    {
        var worker = await RegisterAsync("w");
        var order = new Dictionary<string, int> { ["a"] = 0, ["b"] = 5, ["c"] = 0, ["d"] = 10, ["e"] = 5, ["f"] = -1, ["g"] = 10 };
        var ids = new Dictionary<Guid, string>();
        foreach (var (name, priority) in order)
        {
            var job = await EnqueueAsync(MakeJob(type: name) with { Priority = priority });
            ids[job.Id] = name;
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var leasedInOrder = new List<string>();
        for (var i = 0; i < order.Count; i++)
        {
            leasedInOrder.Add(ids[(await LeaseOneAsync(worker)).Job.Id]);
        }

        Assert.Equal(["d", "g", "b", "e", "a", "c", "f"], leasedInOrder);
    }

    [SkippableFact]
    public async Task Lease_is_fifo_within_a_priority_even_within_the_same_millisecond()
    {
        var worker = await RegisterAsync("w");
        var enqueued = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            enqueued.Add((await EnqueueAsync(MakeJob())).Id);
        }
        var batch = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA, [.. Enumerable.Range(0, 10).Select(_ => MakeJob())]), None);
        enqueued.AddRange(batch.Select(r => r.Job.Id));

        var leased = new List<Guid>();
        for (var i = 0; i < enqueued.Count; i++)
        {
            leased.Add((await LeaseOneAsync(worker)).Job.Id);
        }

        Assert.Equal(enqueued, leased);
    }

    [SkippableFact]
    public async Task Scheduled_job_is_not_leased_until_due_and_promoted()
    {
        var worker = await RegisterAsync("w");
        var runAt = Start.AddMinutes(10);
        var job = await EnqueueAsync(MakeJob() with { RunAt = runAt });
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(runAt, job.RunAt);
        Assert.Equal(runAt, (await Store.Jobs.NextDueAsync(None)).NextRunAt);

        Assert.Empty(await LeaseAsync(worker, ["default"], 5));
        Time.Advance(TimeSpan.FromMinutes(9));
        Assert.DoesNotContain(await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None), c => c.JobId == job.Id);
        Assert.Empty(await LeaseAsync(worker, ["default"], 5));
        Assert.Equal(JobState.Scheduled, (await GetJobAsync(job.Id)).State);

        Time.Advance(TimeSpan.FromMinutes(1));
        var change = Assert.Single(await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None), c => c.JobId == job.Id);
        Assert.Equal(JobState.Scheduled, change.From);
        Assert.Equal(JobState.Queued, change.To);
        Assert.Equal(JobState.Queued, (await GetJobAsync(job.Id)).State);
        Assert.Equal(job.Id, (await LeaseOneAsync(worker)).Job.Id);
    }

    [SkippableFact]
    public async Task Job_with_run_at_in_the_past_is_queued_at_once()
    {
        var job = await EnqueueAsync(MakeJob() with { RunAt = Start.AddMinutes(-5) });

        Assert.Equal(JobState.Queued, job.State);
    }

    // ------------------------------------------------------------------ cancel and delete

    [SkippableFact]
    public async Task Cancel_of_a_queued_job_cancels_it()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob());

        var cancel = await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, job.Id), None);

        Assert.Equal(CommandStatus.Applied, cancel.Status);
        Assert.Equal(JobState.Cancelled, cancel.CurrentState);
        Assert.Equal(JobState.Queued, cancel.Change?.From);
        Assert.Equal(JobState.Cancelled, cancel.Change?.To);
        Assert.Equal(JobState.Cancelled, (await GetJobAsync(job.Id)).State);
        Assert.Empty(await LeaseAsync(worker, ["default"], 5));
        Assert.Equal(CommandStatus.InvalidState, (await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, job.Id), None)).Status);
    }

    [SkippableFact]
    public async Task Cancel_of_a_scheduled_job_keeps_it_from_running()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob() with { RunAt = Start.AddMinutes(1) });

        Assert.Equal(JobState.Cancelled, (await CancelAsync(job.Id)).CurrentState);

        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.DoesNotContain(await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None), c => c.JobId == job.Id);
        Assert.Empty(await LeaseAsync(worker, ["default"], 5));
        Assert.Equal(JobState.Cancelled, (await GetJobAsync(job.Id)).State);
    }

    [SkippableFact]
    public async Task Cancel_of_a_running_job_is_requested_delivered_to_the_worker_and_completed_by_its_fail()
    {
        var worker = await RegisterAsync("w");
        var other = await EnqueueAsync(MakeJob());
        var job = await EnqueueAsync(MakeJob());
        var leases = (await LeaseAsync(worker, ["default"], 2)).ToDictionary(l => l.Job.Id);
        var leased = leases[job.Id];

        var cancel = await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, job.Id), None);
        Assert.Equal(CommandStatus.Applied, cancel.Status);
        Assert.Equal(JobState.Running, cancel.CurrentState);
        Assert.NotNull(cancel.Change);
        Assert.True(cancel.Change.CancelRequested);
        Assert.Equal(JobState.Running, cancel.Change.To);

        var requested = await GetJobAsync(job.Id);
        Assert.Equal(JobState.Running, requested.State);
        Assert.True(requested.CancelRequested);
        Assert.False((await GetJobAsync(other.Id)).CancelRequested);

        var beat = await Store.Jobs.HeartbeatAsync(new JobHeartbeatParams(OrgA, job.Id, leased.LeaseToken, 30_000, null), None);
        Assert.Equal(CommandStatus.Applied, beat.Status);
        Assert.True(beat.CancelRequested);
        var otherBeat = await Store.Jobs.HeartbeatAsync(new JobHeartbeatParams(OrgA, other.Id, leases[other.Id].LeaseToken, 30_000, null), None);
        Assert.False(otherBeat.CancelRequested);

        var workerBeat = await Store.Workers.HeartbeatAsync(new WorkerParams(OrgA, worker.Id), None);
        Assert.NotNull(workerBeat);
        Assert.Equal([job.Id], workerBeat.CancelJobIds);

        var fail = await FailAsync(job.Id, leased.LeaseToken, "stopped on request", retryable: true);
        Assert.Equal(CommandStatus.Applied, fail.Status);
        Assert.Equal(JobState.Cancelled, fail.CurrentState);
        Assert.Equal(JobState.Cancelled, (await GetJobAsync(job.Id)).State);

        var after = await Store.Workers.HeartbeatAsync(new WorkerParams(OrgA, worker.Id), None);
        Assert.NotNull(after);
        Assert.Empty(after.CancelJobIds);
    }

    [SkippableFact]
    public async Task Delete_removes_a_queued_job_but_is_refused_for_a_running_one()
    {
        var worker = await RegisterAsync("w");
        var running = await EnqueueAsync(MakeJob());
        await LeaseOneAsync(worker);
        var queued = await EnqueueAsync(MakeJob());

        var refused = await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, running.Id), None);
        Assert.Equal(CommandStatus.InvalidState, refused.Status);
        Assert.Equal(JobState.Running, refused.CurrentState);
        Assert.Equal(JobState.Running, (await GetJobAsync(running.Id)).State);

        var deleted = await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, queued.Id), None);
        Assert.Equal(CommandStatus.Applied, deleted.Status);
        Assert.True(deleted.Change?.Removed);
        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(OrgA, queued.Id), None));
        Assert.DoesNotContain(await ListAllAsync(new ListJobsParams(OrgA)), j => j.Id == queued.Id);
        Assert.Equal(CommandStatus.NotFound, (await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, queued.Id), None)).Status);
    }

    [SkippableFact]
    public async Task Delete_removes_a_finished_job_with_its_history()
    {
        var worker = await RegisterAsync("w");
        var job = await EnqueueAsync(MakeJob());
        var leased = await LeaseOneAsync(worker);
        await Store.Jobs.AppendLogsAsync(new AppendLogsParams(OrgA, job.Id, leased.LeaseToken, ["line"]), None);
        await AckAsync(job.Id, leased.LeaseToken);

        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, job.Id), None)).Status);

        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(OrgA, job.Id), None));
    }

    // ------------------------------------------------------------------ listing

    [SkippableFact]
    public async Task List_filters_by_state_queue_type_tag_and_created_range()
    {
        var worker = await RegisterAsync("w", OrgA, "q3");
        var j1 = await EnqueueAsync(MakeJob("q1", "t1") with { Tags = ["red"] });
        Time.Advance(TimeSpan.FromSeconds(1));
        var j2 = await EnqueueAsync(MakeJob("q1", "t2") with { Tags = ["blue"] });
        Time.Advance(TimeSpan.FromSeconds(1));
        var j3 = await EnqueueAsync(MakeJob("q2", "t1") with { Tags = ["red", "blue"] });
        Time.Advance(TimeSpan.FromSeconds(1));
        var j4 = await EnqueueAsync(MakeJob("q2", "t2") with { RunAt = Start.AddHours(1) });
        Time.Advance(TimeSpan.FromSeconds(1));
        var j5 = await EnqueueAsync(MakeJob("q3", "t1"));
        var lease5 = Assert.Single(await LeaseAsync(worker, ["q3"], 1));
        await AckAsync(j5.Id, lease5.LeaseToken);

        async Task Expect(ListJobsParams p, params Job[] expected)
        {
            var found = await ListAllAsync(p);
            Assert.Equal(expected.Select(j => j.Id).Order(), found.Select(j => j.Id).Order());
        }

        await Expect(new ListJobsParams(OrgA), j1, j2, j3, j4, j5);
        await Expect(new ListJobsParams(OrgA) { State = JobState.Queued }, j1, j2, j3);
        await Expect(new ListJobsParams(OrgA) { State = JobState.Scheduled }, j4);
        await Expect(new ListJobsParams(OrgA) { State = JobState.Succeeded }, j5);
        await Expect(new ListJobsParams(OrgA) { State = JobState.Failed });
        await Expect(new ListJobsParams(OrgA) { Queue = "q1" }, j1, j2);
        await Expect(new ListJobsParams(OrgA) { Queue = "q2" }, j3, j4);
        await Expect(new ListJobsParams(OrgA) { Queue = "nope" });
        await Expect(new ListJobsParams(OrgA) { Type = "t2" }, j2, j4);
        await Expect(new ListJobsParams(OrgA) { Tag = "red" }, j1, j3);
        await Expect(new ListJobsParams(OrgA) { Tag = "blue" }, j2, j3);
        await Expect(new ListJobsParams(OrgA) { Tag = "re" });
        await Expect(new ListJobsParams(OrgA) { CreatedAfter = Start.AddMilliseconds(500), CreatedBefore = Start.AddMilliseconds(2_500) }, j2, j3);
        await Expect(new ListJobsParams(OrgA) { CreatedAfter = Start.AddMilliseconds(2_500) }, j4, j5);
        await Expect(new ListJobsParams(OrgA) { CreatedBefore = Start.AddMilliseconds(500) }, j1);
        await Expect(new ListJobsParams(OrgA) { Queue = "q2", Type = "t1" }, j3);
        await Expect(new ListJobsParams(OrgA) { Type = "t1", Tag = "red", State = JobState.Queued, CreatedAfter = Start.AddMilliseconds(500) }, j3);
    }

    [SkippableFact]
    public async Task List_pages_walk_every_job_exactly_once_newest_first_by_default()
    {
        var enqueued = new List<Guid>();
        for (var i = 0; i < 23; i++)
        {
            enqueued.Add((await EnqueueAsync(MakeJob(i % 2 == 0 ? "even" : "odd"))).Id);
            Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var newestFirst = await ListAllAsync(new ListJobsParams(OrgA) { Limit = 5 }, expectedPages: 5);
        Assert.Equal(Enumerable.Reverse(enqueued), newestFirst.Select(j => j.Id));

        var oldestFirst = await ListAllAsync(new ListJobsParams(OrgA) { Limit = 5, Sort = JobSort.OldestFirst }, expectedPages: 5);
        Assert.Equal(enqueued, oldestFirst.Select(j => j.Id));

        var even = await ListAllAsync(new ListJobsParams(OrgA) { Limit = 5, Queue = "even" }, expectedPages: 3);
        Assert.Equal(Enumerable.Reverse(enqueued.Where((_, i) => i % 2 == 0)), even.Select(j => j.Id));

        var firstPage = await Store.Jobs.ListAsync(new ListJobsParams(OrgA) { Limit = 50 }, None);
        Assert.Equal(23, firstPage.Items.Count);
        Assert.Null(firstPage.NextCursor);
    }

    [SkippableFact]
    public async Task List_pages_walk_every_job_exactly_once_when_many_share_a_creation_time()
    {
        var enqueued = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            enqueued.Add((await EnqueueAsync(MakeJob())).Id);
        }
        var batch = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA, [.. Enumerable.Range(0, 9).Select(_ => MakeJob())]), None);
        enqueued.AddRange(batch.Select(r => r.Job.Id));

        foreach (var oldestFirst in new[] { false, true })
        {
            foreach (var limit in new[] { 1, 4, 5 })
            {
                var all = await ListAllAsync(new ListJobsParams(OrgA) { Limit = limit, Sort = oldestFirst ? JobSort.OldestFirst : JobSort.NewestFirst });
                Assert.Equal(enqueued.Count, all.Count);
                Assert.Equal(enqueued.Order(), all.Select(j => j.Id).Order());
            }
        }
    }

    // ------------------------------------------------------------------ queues: pause and limits

    [SkippableFact]
    public async Task Paused_queue_hands_out_nothing_until_resumed()
    {
        var worker = await RegisterAsync("w");
        await UpsertQueueAsync("default", new QueueSettings());
        var job = await EnqueueAsync(MakeJob());
        var elsewhere = await EnqueueAsync(MakeJob("other"));

        Assert.True(await Store.Queues.SetPausedAsync(new PauseQueueParams(OrgA, "default", true, "maintenance"), None));
        var info = await Store.Queues.GetAsync(new QueueParams(OrgA, "default"), None);
        Assert.NotNull(info);
        Assert.True(info.Paused);
        Assert.Equal("maintenance", info.PauseReason);

        var whilePaused = await Store.Jobs.LeaseAsync(new LeaseParams(OrgA, worker.Id, ["default"], 5, 30_000), None);
        Assert.True(whilePaused.WorkerFound);
        Assert.Empty(whilePaused.Jobs);
        var mixed = await LeaseAsync(worker, ["default", "other"], 5);
        Assert.Equal(elsewhere.Id, Assert.Single(mixed).Job.Id);
        Assert.Equal(JobState.Queued, (await GetJobAsync(job.Id)).State);

        Assert.True(await Store.Queues.SetPausedAsync(new PauseQueueParams(OrgA, "default", false, null), None));
        Assert.False((await Store.Queues.GetAsync(new QueueParams(OrgA, "default"), None))?.Paused);
        Assert.Equal(job.Id, (await LeaseOneAsync(worker)).Job.Id);

        Assert.False(await Store.Queues.SetPausedAsync(new PauseQueueParams(OrgA, "no-such-queue", true, null), None));
    }

    [SkippableFact]
    public async Task Concurrency_limit_caps_running_jobs_of_a_queue()
    {
        var worker = await RegisterAsync("w", OrgA, "limited");
        await UpsertQueueAsync("limited", new QueueSettings { ConcurrencyLimit = 2 });
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync(MakeJob("limited"));
        }

        var first = await LeaseAsync(worker, ["limited"], 5);
        Assert.Equal(2, first.Count);
        Assert.Empty(await LeaseAsync(worker, ["limited"], 5));

        await AckAsync(first[0].Job.Id, first[0].LeaseToken);
        var second = await LeaseAsync(worker, ["limited"], 5);
        Assert.Single(second);

        Assert.Equal(2, (await ListAllAsync(new ListJobsParams(OrgA) { Queue = "limited", State = JobState.Queued })).Count);
    }

    [SkippableFact]
    public async Task Concurrency_limit_holds_with_fifty_concurrent_fetchers()
    {
        const int Limit = 3;
        const int JobCount = 200;
        const int FetcherCount = 50;
        const string Queue = "limited";
        await UpsertQueueAsync(Queue, new QueueSettings { ConcurrencyLimit = Limit });
        var enqueued = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA,
            [.. Enumerable.Range(0, JobCount).Select(i => MakeJob(Queue, payload: $$"""{"i":{{i}}}"""))]), None);
        Assert.Equal(JobCount, enqueued.Count);
        var workers = new List<Worker>();
        for (var i = 0; i < FetcherCount; i++)
        {
            workers.Add(await RegisterAsync($"fetcher-{i}", OrgA, Queue));
        }

        var held = 0;
        var maxHeld = 0;
        var succeeded = 0;
        long maxRunningInStats = 0;
        var statSamples = 0;
        var leasedIds = new ConcurrentQueue<Guid>();

        async Task FetchLoop(Worker worker, CancellationToken stop)
        {
            while (Volatile.Read(ref succeeded) < JobCount && !stop.IsCancellationRequested)
            {
                var result = await Store.Jobs.LeaseAsync(new LeaseParams(OrgA, worker.Id, [Queue], 2, 60_000), None);
                Assert.True(result.WorkerFound);
                if (result.Jobs.Count == 0)
                {
                    await Task.Yield();
                    continue;
                }
                // Counted after the lease committed and uncounted before the ack is sent, so this counter is never
                // above the true number of held leases: a value over the limit is a real violation.
                // (Uncounting after the ack returned would let another fetcher's new lease be counted first.)
                UpdateMax(ref maxHeld, Interlocked.Add(ref held, result.Jobs.Count));
                foreach (var leased in result.Jobs)
                {
                    leasedIds.Enqueue(leased.Job.Id);
                    Interlocked.Decrement(ref held);
                    var ack = await Store.Jobs.AckAsync(new AckParams(OrgA, leased.Job.Id, leased.LeaseToken, null), None);
                    Assert.Equal(CommandStatus.Applied, ack.Status);
                    Interlocked.Increment(ref succeeded);
                }
            }
        }

        async Task SampleStats(CancellationToken stop)
        {
            do
            {
                var stats = await Store.Jobs.StatsAsync(new StatsParams(OrgA), None);
                UpdateMax(ref maxRunningInStats, CountOf(stats, Queue, JobState.Running));
                Interlocked.Increment(ref statSamples);
                await Task.Yield();
            }
            while (Volatile.Read(ref succeeded) < JobCount && !stop.IsCancellationRequested);
        }

        await RunConcurrentlyAsync([.. workers.Select(w => (Func<CancellationToken, Task>)(stop => FetchLoop(w, stop))), SampleStats]);

        Assert.True(maxHeld <= Limit, $"{maxHeld} leases were held at once; the limit is {Limit}");
        Assert.True(maxRunningInStats <= Limit, $"stats showed {maxRunningInStats} running jobs; the limit is {Limit}");
        Assert.True(statSamples > 0);
        Assert.Equal(JobCount, Volatile.Read(ref succeeded));
        Assert.Equal(JobCount, leasedIds.Count);
        Assert.Equal(JobCount, leasedIds.Distinct().Count());
        var done = await ListAllAsync(new ListJobsParams(OrgA) { Queue = Queue, State = JobState.Succeeded, Limit = 100 });
        Assert.Equal(JobCount, done.Count);
    }

    [SkippableFact]
    public async Task Rate_limit_allows_only_its_starts_per_period()
    {
        var worker = await RegisterAsync("w", OrgA, "rated");
        await UpsertQueueAsync("rated", new QueueSettings { RateLimit = new RateLimit(5, 60_000) });
        for (var i = 0; i < 12; i++)
        {
            await EnqueueAsync(MakeJob("rated"));
        }

        var started = new List<LeasedJob>();
        LeaseResult last = null!;
        for (var i = 0; i < 4; i++)
        {
            last = await Store.Jobs.LeaseAsync(new LeaseParams(OrgA, worker.Id, ["rated"], 3, 30_000), None);
            started.AddRange(last.Jobs);
            foreach (var leased in last.Jobs)
            {
                await AckAsync(leased.Job.Id, leased.LeaseToken);
            }
        }
        Assert.Equal(5, started.Count);
        Assert.Empty(last.Jobs);
        Assert.NotNull(last.LimitedUntil);
        var limitedUntil = last.LimitedUntil.Value;
        Assert.True(limitedUntil > Time.GetUtcNow() && limitedUntil <= Time.GetUtcNow().AddSeconds(61),
            $"limited until {limitedUntil:O}, now {Time.GetUtcNow():O}");

        Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(await LeaseAsync(worker, ["rated"], 10));

        // The moment it named is one where starts are allowed again.
        Time.SetUtcNow(limitedUntil);
        var secondWindow = await LeaseAsync(worker, ["rated"], 10);
        Assert.Equal(5, secondWindow.Count);
        Assert.Empty(await LeaseAsync(worker, ["rated"], 10));

        Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(2, (await LeaseAsync(worker, ["rated"], 10)).Count);
    }

    // ------------------------------------------------------------------ enqueue: unique keys and bulk

    [SkippableFact]
    public async Task Unique_key_deduplicates_concurrent_enqueues_until_the_job_finishes()
    {
        var worker = await RegisterAsync("w");
        var unique = MakeJob() with { UniqueKey = "report-2030-01" };

        var results = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(_ => Task.Run(() => Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, unique), None))))
            .WaitAsync(ConcurrencyTimeout);

        var created = Assert.Single(results, r => !r.Deduplicated);
        Assert.All(results, r => Assert.Equal(created.Job.Id, r.Job.Id));
        Assert.Equal("report-2030-01", created.Job.UniqueKey);
        Assert.Single(await ListAllAsync(new ListJobsParams(OrgA)));

        // Another queue has its own keys.
        var otherQueue = await Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, unique with { Queue = "other" }), None);
        Assert.False(otherQueue.Deduplicated);

        // Still unfinished while running.
        var leased = await LeaseOneAsync(worker);
        Assert.Equal(created.Job.Id, leased.Job.Id);
        var whileRunning = await Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, unique), None);
        Assert.True(whileRunning.Deduplicated);
        Assert.Equal(created.Job.Id, whileRunning.Job.Id);

        await AckAsync(created.Job.Id, leased.LeaseToken);
        var afterFinish = await Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, unique), None);
        Assert.False(afterFinish.Deduplicated);
        Assert.NotEqual(created.Job.Id, afterFinish.Job.Id);
        Assert.Equal(JobState.Queued, afterFinish.Job.State);

        var again = await Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, unique), None);
        Assert.True(again.Deduplicated);
        Assert.Equal(afterFinish.Job.Id, again.Job.Id);
        Assert.Equal(3, (await ListAllAsync(new ListJobsParams(OrgA))).Count);
    }

    [SkippableFact]
    public async Task Enqueue_many_inserts_all_jobs_in_order()
    {
        var jobs = Enumerable.Range(0, 10).Select(i => MakeJob(type: $"t{i}")).ToList();

        var results = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA, jobs), None);

        Assert.Equal(10, results.Count);
        for (var i = 0; i < 10; i++)
        {
            Assert.False(results[i].Deduplicated);
            Assert.Equal($"t{i}", results[i].Job.Type);
            Assert.Equal(JobState.Queued, results[i].Job.State);
        }
        Assert.Equal(10, results.Select(r => r.Job.Id).Distinct().Count());
        Assert.Equal(10, (await ListAllAsync(new ListJobsParams(OrgA))).Count);
    }

    [SkippableFact]
    public async Task Enqueue_many_keeps_every_field_and_the_order_of_a_mixed_batch()
    {
        await UpsertQueueAsync("mixed", new QueueSettings { DefaultMaxAttempts = 7, DefaultTimeoutMs = 30_000 });
        var later = Time.GetUtcNow().AddMinutes(5);
        var jobs = new List<NewJob>();
        for (var i = 0; i < 5; i++) jobs.Add(MakeJob("mixed", $"a{i}", $$"""{"i":{{i}},"s":"ü ✓ <&> \\u0041"}"""));
        jobs.Add(MakeJob("mixed", "tagged") with { Tags = ["x", "y"] });
        for (var i = 0; i < 5; i++) jobs.Add(MakeJob("mixed", $"b{i}", $$"""[{{i}}]""") with { MaxAttempts = 2 + i, TimeoutMs = 1_000 + i });
        jobs.Add(MakeJob("mixed", "later") with { RunAt = later, Priority = 3 });

        var results = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA, jobs), None);

        Assert.Equal(jobs.Count, results.Count);
        for (var i = 0; i < jobs.Count; i++)
        {
            var stored = await GetJobAsync(results[i].Job.Id);
            Assert.Equal((jobs[i].Queue, jobs[i].Type, jobs[i].Priority), (stored.Queue, stored.Type, stored.Priority));
            AssertJsonEqual(jobs[i].Payload, stored.Payload);
            Assert.Equal(jobs[i].Tags, stored.Tags);
            Assert.Equal(jobs[i].MaxAttempts ?? 7, stored.MaxAttempts);
            Assert.Equal(jobs[i].TimeoutMs ?? 30_000, stored.TimeoutMs);
            Assert.Equal(jobs[i].RunAt is null ? JobState.Queued : JobState.Scheduled, stored.State);
            Assert.Equal(stored.State, results[i].Job.State);
            Assert.Equal(stored.MaxAttempts, results[i].Job.MaxAttempts);
        }
        Assert.Equal(later, (await GetJobAsync(results[^1].Job.Id)).RunAt);

        // FIFO within the priority: the ready jobs come out in the order they were given.
        var worker = await RegisterAsync("w", null, "mixed");
        var leased = await LeaseAsync(worker, ["mixed"], 20);
        Assert.Equal(results.Take(11).Select(r => r.Job.Id), leased.Select(l => l.Job.Id));
    }

    [SkippableFact]
    public async Task Enqueue_many_with_an_invalid_job_inserts_none()
    {
        var jobs = Enumerable.Range(0, 10).Select(i => MakeJob(type: $"t{i}")).ToList();
        jobs[3] = jobs[3] with { Queue = "" };

        await Assert.ThrowsAnyAsync<Exception>(() => Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA, jobs), None));

        Assert.Empty(await ListAllAsync(new ListJobsParams(OrgA)));
        Assert.DoesNotContain((await Store.Jobs.StatsAsync(new StatsParams(OrgA), None)).CountsByQueue.Values.SelectMany(c => c.Values), n => n > 0);
    }

    [SkippableFact]
    public async Task Enqueue_rejects_an_empty_queue_or_type()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob() with { Queue = "" }), None));
        await Assert.ThrowsAnyAsync<Exception>(() => Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob() with { Type = "" }), None));

        Assert.Empty(await ListAllAsync(new ListJobsParams(OrgA)));
    }

    [SkippableFact]
    public async Task Enqueue_many_deduplicates_against_unfinished_jobs()
    {
        var existing = await EnqueueAsync(MakeJob() with { UniqueKey = "k" });

        var results = await Store.Jobs.EnqueueManyAsync(new EnqueueManyParams(OrgA,
            [MakeJob(type: "a"), MakeJob() with { UniqueKey = "k" }, MakeJob(type: "c")]), None);

        Assert.Equal(3, results.Count);
        Assert.False(results[0].Deduplicated);
        Assert.True(results[1].Deduplicated);
        Assert.Equal(existing.Id, results[1].Job.Id);
        Assert.False(results[2].Deduplicated);
        Assert.Equal(3, (await ListAllAsync(new ListJobsParams(OrgA))).Count);
    }

    // ------------------------------------------------------------------ queues

    [SkippableFact]
    public async Task Queue_upsert_get_and_list_keep_settings_and_report_counts()
    {
        var settings = new QueueSettings { ConcurrencyLimit = 4, RateLimit = new RateLimit(10, 1_000), DefaultMaxAttempts = 7, DefaultTimeoutMs = 30_000 };
        var created = await UpsertQueueAsync("info", settings);
        Assert.Equal("info", created.Name);
        Assert.False(created.Paused);
        Assert.Equal(settings, created.Settings);
        Assert.Equal(Start, created.CreatedAt);
        Assert.All(JobStates.All, s => Assert.Equal(0, created.Counts[s]));

        var withDefault = await EnqueueAsync(MakeJob("info"));
        Assert.Equal(7, withDefault.MaxAttempts);
        var explicitAttempts = await EnqueueAsync(MakeJob("info") with { MaxAttempts = 2 });
        Assert.Equal(2, explicitAttempts.MaxAttempts);
        await EnqueueAsync(MakeJob("info") with { RunAt = Start.AddHours(1) });
        Assert.Equal(RetryPolicy.DefaultMaxAttempts, (await EnqueueAsync(MakeJob("no-settings"))).MaxAttempts);

        Time.Advance(TimeSpan.FromSeconds(10));
        var info = await Store.Queues.GetAsync(new QueueParams(OrgA, "info"), None);
        Assert.NotNull(info);
        Assert.Equal(settings, info.Settings);
        Assert.Equal(Start, info.CreatedAt);
        Assert.All(JobStates.All, s => Assert.True(info.Counts.ContainsKey(s), $"counts lack {s}"));
        Assert.Equal(2, info.Counts[JobState.Queued]);
        Assert.Equal(1, info.Counts[JobState.Scheduled]);
        Assert.Equal(0, info.Counts[JobState.Running]);
        Assert.Equal(TimeSpan.FromSeconds(10), info.OldestQueuedAge);

        var replaced = await UpsertQueueAsync("info", new QueueSettings { ConcurrencyLimit = 1 });
        Assert.Equal(new QueueSettings { ConcurrencyLimit = 1 }, replaced.Settings);
        Assert.Equal(new QueueSettings { ConcurrencyLimit = 1 }, (await Store.Queues.GetAsync(new QueueParams(OrgA, "info"), None))?.Settings);

        await UpsertQueueAsync("second", new QueueSettings());
        var names = (await Store.Queues.ListAsync(new ListQueuesParams(OrgA), None)).Select(q => q.Name).ToList();
        Assert.Contains("info", names);
        Assert.Contains("second", names);
        Assert.Equal(names.Count, names.Distinct().Count());

        Assert.Null(await Store.Queues.GetAsync(new QueueParams(OrgA, "no-such-queue"), None));
    }

    [SkippableFact]
    public async Task Queue_upsert_of_some_fields_changes_only_those()
    {
        var all = new QueueSettings { ConcurrencyLimit = 4, RateLimit = new RateLimit(10, 1_000), DefaultMaxAttempts = 7, DefaultTimeoutMs = 30_000 };
        await UpsertQueueAsync("partial", all);

        var concurrency = await Store.Queues.UpsertAsync(new UpsertQueueParams(OrgA, "partial",
            new QueueSettings { ConcurrencyLimit = 9, DefaultMaxAttempts = 1 }, QueueSettingFields.ConcurrencyLimit), None);
        Assert.Equal(all with { ConcurrencyLimit = 9 }, concurrency.Settings);

        var cleared = await Store.Queues.UpsertAsync(new UpsertQueueParams(OrgA, "partial",
            new QueueSettings(), QueueSettingFields.RateLimit | QueueSettingFields.DefaultTimeoutMs), None);
        Assert.Equal(all with { ConcurrencyLimit = 9, RateLimit = null, DefaultTimeoutMs = null }, cleared.Settings);
        Assert.Equal(cleared.Settings, (await Store.Queues.GetAsync(new QueueParams(OrgA, "partial"), None))!.Settings);

        // A new queue gets only the fields named; nothing else leaks in.
        var created = await Store.Queues.UpsertAsync(new UpsertQueueParams(OrgA, "fresh",
            new QueueSettings { ConcurrencyLimit = 3, DefaultMaxAttempts = 5 }, QueueSettingFields.DefaultMaxAttempts), None);
        Assert.Equal(new QueueSettings { DefaultMaxAttempts = 5 }, created.Settings);
        var untouched = await Store.Queues.UpsertAsync(new UpsertQueueParams(OrgA, "fresh", new QueueSettings { ConcurrencyLimit = 3 }, QueueSettingFields.None), None);
        Assert.Equal(new QueueSettings { DefaultMaxAttempts = 5 }, untouched.Settings);
        Assert.Null(await Store.Queues.GetAsync(new QueueParams(OrgB, "fresh"), None));
    }

    [SkippableFact]
    public async Task Queue_purge_removes_waiting_jobs_and_leaves_running_and_finished_ones()
    {
        var worker = await RegisterAsync("w", OrgA, "p");
        await UpsertQueueAsync("p", new QueueSettings());
        var retrying = await EnqueueAsync(MakeJob("p"));
        var retryingLease = Assert.Single(await LeaseAsync(worker, ["p"], 1));
        await FailAsync(retrying.Id, retryingLease.LeaseToken, "again", retryable: true, retryInMs: 60_000);
        var succeeded = await EnqueueAsync(MakeJob("p"));
        await AckAsync(succeeded.Id, Assert.Single(await LeaseAsync(worker, ["p"], 1)).LeaseToken);
        var running = await EnqueueAsync(MakeJob("p"));
        Assert.Equal(running.Id, Assert.Single(await LeaseAsync(worker, ["p"], 1)).Job.Id);
        var queued1 = await EnqueueAsync(MakeJob("p"));
        var queued2 = await EnqueueAsync(MakeJob("p"));
        var scheduled = await EnqueueAsync(MakeJob("p") with { RunAt = Start.AddHours(1) });
        var elsewhere = await EnqueueAsync(MakeJob("keep"));

        var purged = await Store.Queues.PurgeAsync(new QueueParams(OrgA, "p"), None);

        Assert.Equal(4, purged);
        foreach (var id in new[] { retrying.Id, queued1.Id, queued2.Id, scheduled.Id })
        {
            Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(OrgA, id), None));
        }
        Assert.Equal(JobState.Running, (await GetJobAsync(running.Id)).State);
        Assert.Equal(JobState.Succeeded, (await GetJobAsync(succeeded.Id)).State);
        Assert.Equal(JobState.Queued, (await GetJobAsync(elsewhere.Id)).State);
        Assert.Null(await Store.Queues.PurgeAsync(new QueueParams(OrgA, "no-such-queue"), None));
    }

    [SkippableFact]
    public async Task Queue_delete_refuses_a_queue_with_jobs_and_removes_an_empty_one()
    {
        await UpsertQueueAsync("busy", new QueueSettings());
        await EnqueueAsync(MakeJob("busy"));
        await UpsertQueueAsync("empty", new QueueSettings());

        Assert.Equal(DeleteQueueOutcome.NotEmpty, await Store.Queues.DeleteAsync(new QueueParams(OrgA, "busy"), None));
        Assert.NotNull(await Store.Queues.GetAsync(new QueueParams(OrgA, "busy"), None));

        Assert.Equal(DeleteQueueOutcome.Deleted, await Store.Queues.DeleteAsync(new QueueParams(OrgA, "empty"), None));
        Assert.Null(await Store.Queues.GetAsync(new QueueParams(OrgA, "empty"), None));
        Assert.DoesNotContain(await Store.Queues.ListAsync(new ListQueuesParams(OrgA), None), q => q.Name == "empty");
        Assert.Equal(DeleteQueueOutcome.NotFound, await Store.Queues.DeleteAsync(new QueueParams(OrgA, "empty"), None));
        Assert.Equal(DeleteQueueOutcome.NotFound, await Store.Queues.DeleteAsync(new QueueParams(OrgA, "never-was"), None));
    }

    [SkippableFact]
    public async Task Stats_count_jobs_per_queue_and_state_and_recent_finishes()
    {
        var worker = await RegisterAsync("w", OrgA, "s1");
        var ok = await EnqueueAsync(MakeJob("s1"));
        await AckAsync(ok.Id, Assert.Single(await LeaseAsync(worker, ["s1"], 1)).LeaseToken);
        var bad = await EnqueueAsync(MakeJob("s1"));
        await FailAsync(bad.Id, Assert.Single(await LeaseAsync(worker, ["s1"], 1)).LeaseToken, "no", retryable: false);
        await EnqueueAsync(MakeJob("s1"));
        Assert.Single(await LeaseAsync(worker, ["s1"], 1));
        await EnqueueAsync(MakeJob("s1"));
        await EnqueueAsync(MakeJob("s1"));
        await EnqueueAsync(MakeJob("s2") with { RunAt = Start.AddHours(1) });

        var stats = await Store.Jobs.StatsAsync(new StatsParams(OrgA), None);

        Assert.Equal(2, CountOf(stats, "s1", JobState.Queued));
        Assert.Equal(1, CountOf(stats, "s1", JobState.Running));
        Assert.Equal(1, CountOf(stats, "s1", JobState.Succeeded));
        Assert.Equal(1, CountOf(stats, "s1", JobState.Failed));
        Assert.Equal(0, CountOf(stats, "s1", JobState.Scheduled));
        Assert.Equal(1, CountOf(stats, "s2", JobState.Scheduled));
        Assert.Equal(0, CountOf(stats, "s2", JobState.Queued));
        Assert.Equal(2, stats.FinishedLastMinuteByQueue.GetValueOrDefault("s1"));
        Assert.Equal(0, stats.FinishedLastMinuteByQueue.GetValueOrDefault("s2"));

        Time.Advance(TimeSpan.FromMinutes(2));
        var later = await Store.Jobs.StatsAsync(new StatsParams(OrgA), None);
        Assert.Equal(0, later.FinishedLastMinuteByQueue.GetValueOrDefault("s1"));
        Assert.Equal(1, CountOf(later, "s1", JobState.Succeeded));
    }

    // ------------------------------------------------------------------ workers

    [SkippableFact]
    public async Task Worker_register_heartbeat_list_and_get_with_running_jobs()
    {
        var registration = new WorkerRegistration
        {
            Name = "w-1",
            Host = "host-a",
            Pid = 4242,
            Queues = ["q1", "q2"],
            Capacity = 8,
            Labels = new Dictionary<string, string> { ["zone"] = "eu" },
            Version = "1.2.3",
        };
        var worker = await Store.Workers.RegisterAsync(new RegisterWorkerParams(OrgA, registration), None);
        Assert.NotEqual(Guid.Empty, worker.Id);
        Assert.Equal(OrgA, worker.OrganizationId);
        Assert.Equal(WorkerState.Active, worker.State);
        Assert.Equal(Start, worker.RegisteredAt);
        Assert.Equal(Start, worker.LastHeartbeatAt);
        AssertRegistration(registration, worker.Registration);
        var other = await RegisterAsync("w-2");

        Time.Advance(TimeSpan.FromSeconds(10));
        var beat = await Store.Workers.HeartbeatAsync(new WorkerParams(OrgA, worker.Id), None);
        Assert.NotNull(beat);
        Assert.Equal(WorkerState.Active, beat.State);
        Assert.Empty(beat.CancelJobIds);

        var loaded = await Store.Workers.GetAsync(new WorkerParams(OrgA, worker.Id), None);
        Assert.NotNull(loaded);
        Assert.Equal(Time.GetUtcNow(), loaded.LastHeartbeatAt);
        Assert.Equal(Start, loaded.RegisteredAt);
        AssertRegistration(registration, loaded.Registration);
        Assert.Empty(loaded.RunningJobIds);

        var listed = await Store.Workers.ListAsync(new ListWorkersParams(OrgA), None);
        Assert.Contains(listed, w => w.Id == worker.Id);
        Assert.Contains(listed, w => w.Id == other.Id);

        var j1 = await EnqueueAsync(MakeJob("q1"));
        var j2 = await EnqueueAsync(MakeJob("q2"));
        Assert.Equal(2, (await LeaseAsync(worker, ["q1", "q2"], 2)).Count);
        var j3 = await EnqueueAsync(MakeJob("q1"));
        Assert.Equal(j3.Id, Assert.Single(await LeaseAsync(other, ["q1"], 1)).Job.Id);

        var busy = await Store.Workers.GetAsync(new WorkerParams(OrgA, worker.Id), None);
        Assert.NotNull(busy);
        Assert.Equal(new[] { j1.Id, j2.Id }.Order(), busy.RunningJobIds.Order());
        var otherLoaded = await Store.Workers.GetAsync(new WorkerParams(OrgA, other.Id), None);
        Assert.NotNull(otherLoaded);
        Assert.Equal([j3.Id], otherLoaded.RunningJobIds);

        Assert.Null(await Store.Workers.HeartbeatAsync(new WorkerParams(OrgA, Guid.NewGuid()), None));
        Assert.Null(await Store.Workers.GetAsync(new WorkerParams(OrgA, Guid.NewGuid()), None));
    }

    [SkippableFact]
    public async Task Worker_state_set_by_an_operator_is_delivered_by_heartbeat()
    {
        var worker = await RegisterAsync("w");

        Assert.True(await Store.Workers.SetStateAsync(new SetWorkerStateParams(OrgA, worker.Id, WorkerState.Quiet), None));
        Assert.Equal(WorkerState.Quiet, (await Store.Workers.HeartbeatAsync(new WorkerParams(OrgA, worker.Id), None))?.State);
        Assert.Equal(WorkerState.Quiet, (await Store.Workers.GetAsync(new WorkerParams(OrgA, worker.Id), None))?.State);
        Assert.False(await Store.Workers.SetStateAsync(new SetWorkerStateParams(OrgA, Guid.NewGuid(), WorkerState.Quiet), None));
    }

    [SkippableFact]
    public async Task Deregistered_worker_leaves_and_its_running_jobs_come_back()
    {
        var worker = await RegisterAsync("leaving");
        var stays = await RegisterAsync("stays");
        var a = await EnqueueAsync(MakeJob());
        var b = await EnqueueAsync(MakeJob());
        var leases = await LeaseAsync(worker, ["default"], 2);
        Assert.Equal(2, leases.Count);

        var changes = await Store.Workers.DeregisterAsync(new WorkerParams(OrgA, worker.Id), None);

        Assert.NotNull(changes);
        Assert.Equal(new[] { a.Id, b.Id }.Order(), changes.Select(c => c.JobId).Order());
        Assert.All(changes, c => Assert.Equal(JobState.Running, c.From));
        foreach (var id in new[] { a.Id, b.Id })
        {
            var job = await GetJobAsync(id);
            Assert.True(job.State is JobState.Retrying or JobState.Queued, $"job is {job.State}");
            var attempt = Assert.Single(job.Attempts);
            Assert.NotNull(attempt.FinishedAt);
        }
        foreach (var leased in leases)
        {
            Assert.Equal(CommandStatus.StaleLease, (await AckAsync(leased.Job.Id, leased.LeaseToken)).Status);
        }
        var listed = await Store.Workers.ListAsync(new ListWorkersParams(OrgA), None);
        Assert.DoesNotContain(listed, w => w.Id == worker.Id);
        Assert.Contains(listed, w => w.Id == stays.Id);
        var gone = await Store.Workers.GetAsync(new WorkerParams(OrgA, worker.Id), None);
        Assert.True(gone is null || gone.State == WorkerState.Stopped, $"deregistered worker is {gone?.State}");
        Assert.Null(await Store.Workers.DeregisterAsync(new WorkerParams(OrgA, Guid.NewGuid()), None));

        // They run again elsewhere.
        Time.Advance(RetryPolicy.Default.MaxDelay + TimeSpan.FromSeconds(1));
        await Store.Jobs.PromoteDueAsync(new PromoteDueParams(), None);
        var again = await LeaseAsync(stays, ["default"], 5);
        Assert.Equal(new[] { a.Id, b.Id }.Order(), again.Select(l => l.Job.Id).Order());
        Assert.All(again, l => Assert.Equal(2, l.Job.Attempt));
    }

    [SkippableFact]
    public async Task Mark_lost_marks_silent_workers_lost_and_ends_their_leases()
    {
        var silent = await RegisterAsync("silent");
        var alive = await RegisterAsync("alive");
        var silentJob = await EnqueueAsync(MakeJob());
        var silentLease = await LeaseOneAsync(silent, leaseMs: 600_000);
        var aliveJob = await EnqueueAsync(MakeJob());
        var aliveLease = await LeaseOneAsync(alive, leaseMs: 600_000);

        Time.Advance(TimeSpan.FromSeconds(60));
        Assert.NotNull(await Store.Workers.HeartbeatAsync(new WorkerParams(OrgA, alive.Id), None));
        var lost = await Store.Workers.MarkLostAsync(new MarkLostParams(Time.GetUtcNow().AddSeconds(-30)), None);

        Assert.Equal(silent.Id, Assert.Single(lost.Workers).Id);
        var change = Assert.Single(lost.Changes);
        Assert.Equal(silentJob.Id, change.JobId);
        Assert.Equal(JobState.Running, change.From);
        Assert.NotEqual(JobState.Running, change.To);
        Assert.NotEqual(JobState.Running, (await GetJobAsync(silentJob.Id)).State);
        Assert.Equal(JobState.Running, (await GetJobAsync(aliveJob.Id)).State);
        Assert.Equal(WorkerState.Lost, (await Store.Workers.GetAsync(new WorkerParams(OrgA, silent.Id), None))?.State);
        Assert.Equal(WorkerState.Active, (await Store.Workers.GetAsync(new WorkerParams(OrgA, alive.Id), None))?.State);
        Assert.Equal(CommandStatus.StaleLease, (await AckAsync(silentJob.Id, silentLease.LeaseToken)).Status);

        // Already lost: not reported again.
        Assert.Empty((await Store.Workers.MarkLostAsync(new MarkLostParams(Time.GetUtcNow().AddSeconds(-30)), None)).Workers);

        // A sign of life brings it back.
        Assert.Equal(WorkerState.Active, (await Store.Workers.HeartbeatAsync(new WorkerParams(OrgA, silent.Id), None))?.State);
        Assert.Equal(WorkerState.Active, (await Store.Workers.GetAsync(new WorkerParams(OrgA, silent.Id), None))?.State);
        Assert.Equal(CommandStatus.Applied, (await AckAsync(aliveJob.Id, aliveLease.LeaseToken)).Status);
    }

    // ------------------------------------------------------------------ API keys

    [SkippableFact]
    public async Task Api_keys_are_created_found_by_hash_listed_touched_and_revoked()
    {
        var secret = ApiKeySecrets.Generate();
        var hash = ApiKeySecrets.Hash(secret);
        var expires = Start.AddDays(30);

        var key = await Store.ApiKeys.CreateAsync(new CreateApiKeyParams(OrgA, "ci", ApiKeySecrets.VisiblePrefix(secret), hash, ApiKeyScopes.Worker | ApiKeyScopes.Read, expires), None);
        Assert.NotEqual(Guid.Empty, key.Id);
        Assert.Equal(OrgA, key.OrganizationId);
        Assert.Equal("ci", key.Name);
        Assert.Equal(ApiKeySecrets.VisiblePrefix(secret), key.Prefix);
        Assert.Equal(hash, key.Hash);
        Assert.Equal(ApiKeyScopes.Worker | ApiKeyScopes.Read, key.Scopes);
        Assert.Equal(Start, key.CreatedAt);
        Assert.Equal(expires, key.ExpiresAt);
        Assert.Null(key.RevokedAt);

        var found = await Store.ApiKeys.FindByHashAsync(hash, None);
        Assert.NotNull(found);
        Assert.Equal(key.Id, found.Id);
        Assert.Equal(OrgA, found.OrganizationId);
        Assert.Equal(ApiKeyScopes.Worker | ApiKeyScopes.Read, found.Scopes);
        Assert.Equal(expires, found.ExpiresAt);
        Assert.Null(await Store.ApiKeys.FindByHashAsync(ApiKeySecrets.Hash(ApiKeySecrets.Generate()), None));

        var otherSecret = ApiKeySecrets.Generate();
        var otherKey = await Store.ApiKeys.CreateAsync(new CreateApiKeyParams(OrgB, "b", ApiKeySecrets.VisiblePrefix(otherSecret), ApiKeySecrets.Hash(otherSecret), ApiKeyScopes.Admin, null), None);
        var listA = await Store.ApiKeys.ListAsync(OrgA, None);
        Assert.Contains(listA, k => k.Id == key.Id);
        Assert.DoesNotContain(listA, k => k.Id == otherKey.Id);
        var listB = await Store.ApiKeys.ListAsync(OrgB, None);
        Assert.Contains(listB, k => k.Id == otherKey.Id);
        Assert.DoesNotContain(listB, k => k.Id == key.Id);

        Time.Advance(TimeSpan.FromMinutes(1));
        await Store.ApiKeys.TouchAsync(new ApiKeyParams(OrgA, key.Id), None);
        Assert.Equal(Time.GetUtcNow(), (await Store.ApiKeys.FindByHashAsync(hash, None))?.LastUsedAt);

        Assert.False(await Store.ApiKeys.RevokeAsync(new ApiKeyParams(OrgB, key.Id), None));
        Assert.Null((await Store.ApiKeys.FindByHashAsync(hash, None))?.RevokedAt);
        Assert.False(await Store.ApiKeys.RevokeAsync(new ApiKeyParams(OrgA, Guid.NewGuid()), None));

        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await Store.ApiKeys.RevokeAsync(new ApiKeyParams(OrgA, key.Id), None));
        var revoked = await Store.ApiKeys.FindByHashAsync(hash, None);
        Assert.NotNull(revoked);
        Assert.Equal(Time.GetUtcNow(), revoked.RevokedAt);
        Assert.Null((await Store.ApiKeys.FindByHashAsync(ApiKeySecrets.Hash(otherSecret), None))?.RevokedAt);
    }

    // ------------------------------------------------------------------ organizations

    [SkippableFact]
    public async Task Jobs_of_one_organization_are_invisible_to_another()
    {
        var workerA = await RegisterAsync("a", OrgA, "shared");
        var workerB = await RegisterAsync("b", OrgB, "shared");
        var jobA = await EnqueueAsync(MakeJob("shared"), OrgA);
        var queuedA = await EnqueueAsync(MakeJob("shared"), OrgA);

        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(OrgB, jobA.Id), None));
        Assert.Empty(await ListAllAsync(new ListJobsParams(OrgB)));
        Assert.Empty(await ListAllAsync(new ListJobsParams(OrgB) { Queue = "shared" }));
        Assert.Empty(await LeaseAsync(workerB, ["shared"], 10));
        Assert.Equal(CommandStatus.NotFound, (await Store.Jobs.CancelAsync(new JobCommandParams(OrgB, queuedA.Id), None)).Status);
        Assert.Equal(CommandStatus.NotFound, (await Store.Jobs.DeleteAsync(new JobCommandParams(OrgB, queuedA.Id), None)).Status);
        Assert.Equal(CommandStatus.NotFound, (await Store.Jobs.RetryAsync(new JobCommandParams(OrgB, queuedA.Id), None)).Status);

        var leasedA = await LeaseOneAsync(workerA, "shared");
        Assert.Equal(jobA.Id, leasedA.Job.Id);
        await AssertTokenRefusedAsync(jobA.Id, leasedA.LeaseToken, CommandStatus.NotFound, OrgB);
        var results = await Store.Jobs.CompleteManyAsync(new CompleteManyParams(OrgB, [new AckParams(OrgB, jobA.Id, leasedA.LeaseToken, null)], []), None);
        Assert.Equal(CommandStatus.NotFound, Assert.Single(results).Status);

        var stillA = await GetJobAsync(jobA.Id, OrgA);
        Assert.Equal(JobState.Running, stillA.State);
        Assert.Empty(stillA.Logs);
        Assert.Null(stillA.Progress);
        Assert.Equal(JobState.Queued, (await GetJobAsync(queuedA.Id, OrgA)).State);

        var statsB = await Store.Jobs.StatsAsync(new StatsParams(OrgB), None);
        Assert.Equal(0, CountOf(statsB, "shared", JobState.Running));
        Assert.Equal(0, CountOf(statsB, "shared", JobState.Queued));

        // Unique keys are per organization.
        var keyedA = await Store.Jobs.EnqueueAsync(new EnqueueParams(OrgA, MakeJob("shared") with { UniqueKey = "k" }), None);
        var keyedB = await Store.Jobs.EnqueueAsync(new EnqueueParams(OrgB, MakeJob("shared") with { UniqueKey = "k" }), None);
        Assert.False(keyedA.Deduplicated);
        Assert.False(keyedB.Deduplicated);
        Assert.NotEqual(keyedA.Job.Id, keyedB.Job.Id);
        Assert.Equal(OrgB, keyedB.Job.OrganizationId);

        var leasedB = await LeaseOneAsync(workerB, "shared");
        Assert.Equal(keyedB.Job.Id, leasedB.Job.Id);
        Assert.Equal([keyedB.Job.Id], (await ListAllAsync(new ListJobsParams(OrgB))).Select(j => j.Id));
        Assert.Equal(3, (await ListAllAsync(new ListJobsParams(OrgA))).Count);
    }

    [SkippableFact]
    public async Task Workers_of_one_organization_are_invisible_to_another()
    {
        var workerA = await RegisterAsync("a", OrgA);
        var workerB = await RegisterAsync("b", OrgB);
        await EnqueueAsync(MakeJob(), OrgA);
        await EnqueueAsync(MakeJob(), OrgB);

        Assert.Null(await Store.Workers.GetAsync(new WorkerParams(OrgB, workerA.Id), None));
        Assert.Equal([workerB.Id], (await Store.Workers.ListAsync(new ListWorkersParams(OrgB, IncludeStopped: true), None)).Select(w => w.Id));
        Assert.Equal([workerA.Id], (await Store.Workers.ListAsync(new ListWorkersParams(OrgA, IncludeStopped: true), None)).Select(w => w.Id));
        Assert.Null(await Store.Workers.HeartbeatAsync(new WorkerParams(OrgB, workerA.Id), None));
        Assert.False(await Store.Workers.SetStateAsync(new SetWorkerStateParams(OrgB, workerA.Id, WorkerState.Stopped), None));
        Assert.Null(await Store.Workers.DeregisterAsync(new WorkerParams(OrgB, workerA.Id), None));

        var crossLease = await Store.Jobs.LeaseAsync(new LeaseParams(OrgB, workerA.Id, ["default"], 5, 30_000), None);
        Assert.False(crossLease.WorkerFound);
        Assert.Empty(crossLease.Jobs);

        var stillA = await Store.Workers.GetAsync(new WorkerParams(OrgA, workerA.Id), None);
        Assert.NotNull(stillA);
        Assert.Equal(WorkerState.Active, stillA.State);
    }

    [SkippableFact]
    public async Task Queues_of_one_organization_are_invisible_to_another()
    {
        var workerB = await RegisterAsync("b", OrgB, "shared");
        await UpsertQueueAsync("shared", new QueueSettings { ConcurrencyLimit = 1 }, OrgA);
        Assert.True(await Store.Queues.SetPausedAsync(new PauseQueueParams(OrgA, "shared", true, "a only"), None));
        var jobA = await EnqueueAsync(MakeJob("shared"), OrgA);

        Assert.Null(await Store.Queues.GetAsync(new QueueParams(OrgB, "shared"), None));
        Assert.DoesNotContain(await Store.Queues.ListAsync(new ListQueuesParams(OrgB), None), q => q.Name == "shared");
        Assert.False(await Store.Queues.SetPausedAsync(new PauseQueueParams(OrgB, "shared", false, null), None));
        Assert.Null(await Store.Queues.PurgeAsync(new QueueParams(OrgB, "shared"), None));
        Assert.Equal(DeleteQueueOutcome.NotFound, await Store.Queues.DeleteAsync(new QueueParams(OrgB, "shared"), None));

        var infoA = await Store.Queues.GetAsync(new QueueParams(OrgA, "shared"), None);
        Assert.NotNull(infoA);
        Assert.True(infoA.Paused);
        Assert.Equal(1, infoA.Counts[JobState.Queued]);
        Assert.Equal(JobState.Queued, (await GetJobAsync(jobA.Id, OrgA)).State);

        // B's queue of the same name is B's own: not paused, no limit of A's, A's jobs not counted.
        var b1 = await EnqueueAsync(MakeJob("shared"), OrgB);
        var b2 = await EnqueueAsync(MakeJob("shared"), OrgB);
        var leasedB = await LeaseAsync(workerB, ["shared"], 5);
        Assert.Equal(new[] { b1.Id, b2.Id }.Order(), leasedB.Select(l => l.Job.Id).Order());
        var infoB = await Store.Queues.GetAsync(new QueueParams(OrgB, "shared"), None);
        if (infoB is not null)
        {
            Assert.False(infoB.Paused);
            Assert.Equal(0, infoB.Counts[JobState.Queued]);
            Assert.Equal(2, infoB.Counts[JobState.Running]);
        }
        Assert.Equal(JobState.Queued, (await GetJobAsync(jobA.Id, OrgA)).State);
    }

    // ------------------------------------------------------------------ helpers

    protected static NewJob MakeJob(string queue = "default", string type = "test.job", string payload = "{}") =>
        new() { Queue = queue, Type = type, Payload = payload };

    protected async Task<Job> EnqueueAsync(NewJob job, Guid? organizationId = null)
    {
        var result = await Store.Jobs.EnqueueAsync(new EnqueueParams(organizationId ?? OrgA, job), None);
        Assert.False(result.Deduplicated);
        return result.Job;
    }

    protected async Task<Worker> RegisterAsync(string name, Guid? organizationId = null, params string[] queues) =>
        await Store.Workers.RegisterAsync(new RegisterWorkerParams(organizationId ?? OrgA, new WorkerRegistration
        {
            Name = name,
            Queues = queues.Length == 0 ? ["default"] : queues,
        }), None);

    protected async Task<IReadOnlyList<LeasedJob>> LeaseAsync(Worker worker, IReadOnlyList<string> queues, int max, int leaseMs = 30_000)
    {
        var result = await Store.Jobs.LeaseAsync(new LeaseParams(worker.OrganizationId, worker.Id, queues, max, leaseMs), None);
        Assert.True(result.WorkerFound);
        Assert.True(result.Jobs.Count <= max, $"asked for at most {max}, got {result.Jobs.Count}");
        return result.Jobs;
    }

    protected async Task<LeasedJob> LeaseOneAsync(Worker worker, string queue = "default", int leaseMs = 30_000) =>
        Assert.Single(await LeaseAsync(worker, [queue], 1, leaseMs));

    protected async Task<Job> GetJobAsync(Guid id, Guid? organizationId = null)
    {
        var job = await Store.Jobs.GetAsync(new GetJobParams(organizationId ?? OrgA, id), None);
        Assert.NotNull(job);
        return job;
    }

    protected async Task<CommandResult> AckAsync(Guid id, Guid token, string? result = null) =>
        await Store.Jobs.AckAsync(new AckParams(OrgA, id, token, result), None);

    protected async Task<CommandResult> FailAsync(Guid id, Guid token, string message, bool retryable, int? retryInMs = null) =>
        await Store.Jobs.FailAsync(new FailParams(OrgA, id, token, new Failure(new JobError(message, "TestError", null), retryable, retryInMs)), None);

    protected async Task<CommandResult> CancelAsync(Guid id)
    {
        var result = await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, id), None);
        Assert.Equal(CommandStatus.Applied, result.Status);
        return result;
    }

    protected async Task<QueueInfo> UpsertQueueAsync(string name, QueueSettings settings, Guid? organizationId = null) =>
        await Store.Queues.UpsertAsync(new UpsertQueueParams(organizationId ?? OrgA, name, settings), None);

    /// <summary>Ack, fail, heartbeat and log with this token must all answer <paramref name="expected"/>.</summary>
    protected async Task AssertTokenRefusedAsync(Guid id, Guid token, CommandStatus expected, Guid? organizationId = null)
    {
        var org = organizationId ?? OrgA;
        var ack = await Store.Jobs.AckAsync(new AckParams(org, id, token, """{"stale":true}"""), None);
        Assert.Equal(expected, ack.Status);
        Assert.Null(ack.Change);
        var fail = await Store.Jobs.FailAsync(new FailParams(org, id, token, new Failure(new JobError("stale", null, null), Retryable: false)), None);
        Assert.Equal(expected, fail.Status);
        Assert.Null(fail.Change);
        var beat = await Store.Jobs.HeartbeatAsync(new JobHeartbeatParams(org, id, token, 60_000, new JobProgress(99, "stale")), None);
        Assert.Equal(expected, beat.Status);
        var logs = await Store.Jobs.AppendLogsAsync(new AppendLogsParams(org, id, token, ["stale"]), None);
        Assert.Equal(expected, logs.Status);
        Assert.Null(logs.Change);
    }

    /// <summary>Follows the cursor to the end; checks page sizes and that the walk ends.</summary>
    protected async Task<List<Job>> ListAllAsync(ListJobsParams p, int? expectedPages = null)
    {
        var all = new List<Job>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await Store.Jobs.ListAsync(p with { Cursor = cursor }, None);
            pages++;
            Assert.True(page.Items.Count <= p.Limit, $"page of {page.Items.Count} items over the limit of {p.Limit}");
            Assert.True(pages <= 1_000, "the cursor never ends");
            if (page.NextCursor is not null)
            {
                Assert.NotEmpty(page.Items);
            }
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(all.Count, all.Select(j => j.Id).Distinct().Count());
        if (expectedPages is { } expected)
        {
            Assert.Equal(expected, pages);
        }
        return all;
    }

    protected static long CountOf(JobStats stats, string queue, JobState state) =>
        stats.CountsByQueue.TryGetValue(queue, out var counts) && counts.TryGetValue(state, out var n) ? n : 0;

    protected static void AssertJsonEqual(string expected, string? actual)
    {
        Assert.NotNull(actual);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected JSON {expected}, got {actual}");
    }

    private static void AssertRegistration(WorkerRegistration expected, WorkerRegistration actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Host, actual.Host);
        Assert.Equal(expected.Pid, actual.Pid);
        Assert.Equal(expected.Queues, actual.Queues);
        Assert.Equal(expected.Capacity, actual.Capacity);
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Labels.OrderBy(kv => kv.Key), actual.Labels.OrderBy(kv => kv.Key));
    }

    private static void UpdateMax(ref int max, int value)
    {
        var seen = Volatile.Read(ref max);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref max, value, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    private static void UpdateMax(ref long max, long value)
    {
        var seen = Interlocked.Read(ref max);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref max, value, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    /// <summary>
    /// Runs the work items on the thread pool at once. The first failure stops the others (through the token), the
    /// whole is bounded by <see cref="ConcurrencyTimeout"/>, and stragglers are awaited before the store is disposed.
    /// </summary>
    protected static async Task RunConcurrentlyAsync(IReadOnlyList<Func<CancellationToken, Task>> work)
    {
        using var stop = new CancellationTokenSource();
        var tasks = work.Select(w => Task.Run(async () =>
        {
            try
            {
                await w(stop.Token);
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
        })).ToList();
        var all = Task.WhenAll(tasks);
        try
        {
            await all.WaitAsync(ConcurrencyTimeout);
        }
        finally
        {
            await stop.CancelAsync();
            // Errors were reported above; here only make sure nothing still runs against the store.
            await all.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
