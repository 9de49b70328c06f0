using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>One user command on many jobs (bulk retry, cancel, delete), and the start time that finishing changes carry.</summary>
public abstract partial class StoreConformance
{
    [SkippableFact]
    public async Task Command_many_cancels_each_job_on_its_own_in_the_order_asked()
    {
        var worker = await RegisterAsync("w", OrgA, "default");
        await EnqueueAsync(MakeJob());
        await EnqueueAsync(MakeJob());
        // Both leased; the first then succeeds (cannot be cancelled), the second runs (gets a cancel request).
        var leasedA = await LeaseOneAsync(worker);
        var leasedB = await LeaseOneAsync(worker);
        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.AckAsync(new AckParams(OrgA, leasedA.Job.Id, leasedA.LeaseToken, null), None)).Status);
        var waiting = await EnqueueAsync(MakeJob());
        var theirs = await EnqueueAsync(MakeJob(), OrgB);
        var unknown = Guid.NewGuid();

        var results = await Store.Jobs.CommandManyAsync(new CommandManyParams(OrgA, JobCommand.Cancel,
            [waiting.Id, leasedA.Job.Id, leasedB.Job.Id, theirs.Id, unknown, waiting.Id]), None);

        Assert.Equal([waiting.Id, leasedA.Job.Id, leasedB.Job.Id, theirs.Id, unknown, waiting.Id], results.Select(r => r.JobId));
        Assert.Equal([CommandStatus.Applied, CommandStatus.InvalidState, CommandStatus.Applied, CommandStatus.NotFound, CommandStatus.NotFound, CommandStatus.InvalidState],
            results.Select(r => r.Status));
        Assert.Equal(JobState.Cancelled, results[0].Change!.To);
        Assert.True(results[2].Change!.CancelRequested);
        Assert.Equal(JobState.Cancelled, (await Store.Jobs.GetAsync(new GetJobParams(OrgA, waiting.Id), None))!.State);
        var stillRunning = (await Store.Jobs.GetAsync(new GetJobParams(OrgA, leasedB.Job.Id), None))!;
        Assert.Equal(JobState.Running, stillRunning.State);
        Assert.True(stillRunning.CancelRequested);
        Assert.Equal(JobState.Queued, (await Store.Jobs.GetAsync(new GetJobParams(OrgB, theirs.Id), None))!.State);
    }

    [SkippableFact]
    public async Task Command_many_retries_failed_and_cancelled_jobs_and_deletes_finished_ones()
    {
        var failed = await FailedJobAsync();
        var cancelled = await EnqueueAsync(MakeJob());
        await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, cancelled.Id), None);
        var queued = await EnqueueAsync(MakeJob("other"));

        var retried = await Store.Jobs.CommandManyAsync(new CommandManyParams(OrgA, JobCommand.Retry, [failed.Id, cancelled.Id, queued.Id]), None);
        Assert.Equal([CommandStatus.Applied, CommandStatus.Applied, CommandStatus.InvalidState], retried.Select(r => r.Status));
        Assert.All(retried.Take(2), r => Assert.Equal(JobState.Queued, r.Change!.To));
        var again = (await Store.Jobs.GetAsync(new GetJobParams(OrgA, failed.Id), None))!;
        Assert.Equal(JobState.Queued, again.State);
        Assert.Single(again.Attempts);

        var deleted = await Store.Jobs.CommandManyAsync(new CommandManyParams(OrgA, JobCommand.Delete, [failed.Id, queued.Id]), None);
        Assert.Equal([CommandStatus.Applied, CommandStatus.Applied], deleted.Select(r => r.Status));
        Assert.All(deleted, r => Assert.True(r.Change!.Removed));
        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(OrgA, failed.Id), None));
        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(OrgA, queued.Id), None));
        Assert.NotNull(await Store.Jobs.GetAsync(new GetJobParams(OrgA, cancelled.Id), None));
        Assert.Empty(await Store.Jobs.CommandManyAsync(new CommandManyParams(OrgA, JobCommand.Delete, []), None));
    }

    [SkippableFact]
    public async Task Changes_out_of_running_carry_the_start_of_the_attempt()
    {
        var worker = await RegisterAsync("w", OrgA, "default");
        await EnqueueAsync(MakeJob());
        await EnqueueAsync(MakeJob());
        await EnqueueAsync(MakeJob());
        var started = Time.GetUtcNow();
        var a = await LeaseOneAsync(worker);
        var b = await LeaseOneAsync(worker);
        Time.Advance(TimeSpan.FromMilliseconds(1500));
        var acked = await Store.Jobs.AckAsync(new AckParams(OrgA, a.Job.Id, a.LeaseToken, null), None);
        Assert.Equal(started, acked.Change!.StartedAt);
        var failedOne = await Store.Jobs.FailAsync(new FailParams(OrgA, b.Job.Id, b.LeaseToken, new Failure(new JobError("x", null, null), Retryable: false)), None);
        Assert.Equal(started, failedOne.Change!.StartedAt);

        // Batch acks carry it too (SQLite takes a set-based path from four acks on).
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync(MakeJob());
        }
        var leased = await Store.Jobs.LeaseAsync(new LeaseParams(OrgA, worker.Id, ["default"], 10, 30_000), None);
        var batchStart = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromSeconds(2));
        var results = await Store.Jobs.CompleteManyAsync(new CompleteManyParams(OrgA, [.. leased.Jobs.Select(l => new AckParams(OrgA, l.Job.Id, l.LeaseToken, null))], []), None);
        Assert.Equal(6, results.Count);
        Assert.All(results, r => Assert.Equal(batchStart, r.Change!.StartedAt));
    }

    /// <summary>A job that failed for good (one attempt, not retryable).</summary>
    private async Task<Job> FailedJobAsync()
    {
        var worker = await RegisterAsync($"w-{Guid.NewGuid():N}", OrgA, "failing");
        var job = await EnqueueAsync(MakeJob("failing"));
        var leased = await LeaseOneAsync(worker, "failing");
        Assert.Equal(job.Id, leased.Job.Id);
        await Store.Jobs.FailAsync(new FailParams(OrgA, job.Id, leased.LeaseToken, new Failure(new JobError("boom", "Boom", "at x"), Retryable: false)), None);
        return job;
    }
}
