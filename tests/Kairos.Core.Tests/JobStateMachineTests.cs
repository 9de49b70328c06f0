using Kairos.Core.Jobs;

namespace Kairos.Core.Tests;

public class JobStateMachineTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>No jitter, so a retry's run_at is exact: base 1s, doubling.</summary>
    private static readonly RetryPolicy ExactPolicy = new() { Jitter = 0 };

    private const JobState Pending = JobState.Pending;
    private const JobState Scheduled = JobState.Scheduled;
    private const JobState Queued = JobState.Queued;
    private const JobState Running = JobState.Running;
    private const JobState Retrying = JobState.Retrying;
    private const JobState Succeeded = JobState.Succeeded;
    private const JobState Failed = JobState.Failed;
    private const JobState Cancelled = JobState.Cancelled;

    /// <summary>
    /// The product rules, written out by hand and independently of <see cref="JobStateMachine.Table"/>. A pair missing
    /// here must be refused. An empty target list means the job is removed.
    /// </summary>
    private static readonly Dictionary<(JobState From, JobTrigger Trigger), JobState[]> Expected = new()
    {
        [(Scheduled, JobTrigger.ScheduleDue)] = [Queued],
        [(Retrying, JobTrigger.ScheduleDue)] = [Queued],

        [(Queued, JobTrigger.Lease)] = [Running],

        [(Running, JobTrigger.Ack)] = [Succeeded],

        [(Running, JobTrigger.Fail)] = [Retrying, Failed, Cancelled],
        [(Running, JobTrigger.LeaseExpired)] = [Retrying, Failed, Cancelled],

        [(Pending, JobTrigger.Cancel)] = [Cancelled],
        [(Scheduled, JobTrigger.Cancel)] = [Cancelled],
        [(Queued, JobTrigger.Cancel)] = [Cancelled],
        [(Retrying, JobTrigger.Cancel)] = [Cancelled],
        [(Running, JobTrigger.Cancel)] = [Running],

        [(Failed, JobTrigger.Retry)] = [Queued],
        [(Cancelled, JobTrigger.Retry)] = [Queued],

        [(Pending, JobTrigger.Delete)] = [],
        [(Scheduled, JobTrigger.Delete)] = [],
        [(Queued, JobTrigger.Delete)] = [],
        [(Retrying, JobTrigger.Delete)] = [],
        [(Succeeded, JobTrigger.Delete)] = [],
        [(Failed, JobTrigger.Delete)] = [],
        [(Cancelled, JobTrigger.Delete)] = [],

        [(Pending, JobTrigger.ParentsDone)] = [Queued],
        [(Failed, JobTrigger.RetryStep)] = [Queued, Pending],
        [(Cancelled, JobTrigger.RetryStep)] = [Queued, Pending],
    };

    public static TheoryData<JobState, JobTrigger> AllPairs()
    {
        var data = new TheoryData<JobState, JobTrigger>();
        foreach (var state in Enum.GetValues<JobState>())
        {
            foreach (var trigger in Enum.GetValues<JobTrigger>())
            {
                data.Add(state, trigger);
            }
        }
        return data;
    }

    [Fact]
    public void Pair_generator_covers_every_state_and_trigger()
    {
        Assert.Equal(8, Enum.GetValues<JobState>().Length);
        Assert.Equal(10, Enum.GetValues<JobTrigger>().Length);
        Assert.Equal(80, AllPairs().Count);
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void IsAllowed_matches_the_product_table(JobState from, JobTrigger trigger)
    {
        var expected = Expected.ContainsKey((from, trigger));

        Assert.Equal(expected, JobStateMachine.IsAllowed(from, trigger));
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Table_targets_match_the_product_table(JobState from, JobTrigger trigger)
    {
        var inMachine = JobStateMachine.Table.TryGetValue((from, trigger), out var actual);
        var inRules = Expected.TryGetValue((from, trigger), out var expected);

        Assert.Equal(inRules, inMachine);
        if (inRules)
        {
            Assert.Equal(expected!.Order(), actual!.Order());
        }
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Decide_and_Fail_agree_with_the_product_table(JobState from, JobTrigger trigger)
    {
        var allowed = Expected.TryGetValue((from, trigger), out var targets);

        if (trigger is JobTrigger.Fail or JobTrigger.LeaseExpired)
        {
            AssertFailOutcomes(from, trigger, allowed, targets);
        }
        else if (trigger == JobTrigger.RetryStep)
        {
            // Only a workflow's retry runs a step again: queued when its parents are done, pending otherwise.
            Assert.False(JobStateMachine.RetryStep(new JobSnapshot(from, 1, 3, false), parentsDone: true).Allowed);
            var done = JobStateMachine.RetryStep(new JobSnapshot(from, 1, 3, false, InWorkflow: true), parentsDone: true);
            var waits = JobStateMachine.RetryStep(new JobSnapshot(from, 1, 3, false, InWorkflow: true), parentsDone: false);
            Assert.Equal(allowed, done.Allowed);
            Assert.Equal(allowed, waits.Allowed);
            if (allowed)
            {
                Assert.Equal(Queued, done.To);
                Assert.Equal(Pending, waits.To);
            }
        }
        else
        {
            AssertDecideOutcome(from, trigger, allowed, targets);
        }
    }

    private static void AssertDecideOutcome(JobState from, JobTrigger trigger, bool allowed, JobState[]? targets)
    {
        foreach (var cancelRequested in new[] { false, true })
        {
            // Only a running job can carry a cancel request; for other states it must not change the answer.
            if (cancelRequested && from != Running) continue;

            var decision = JobStateMachine.Decide(new JobSnapshot(from, Attempt: 1, MaxAttempts: 3, cancelRequested), trigger);

            Assert.Equal(allowed, decision.Allowed);
            Assert.Equal(from, decision.From);
            Assert.Null(decision.RunAt);
            if (!allowed)
            {
                Assert.Equal(from, decision.To);
                Assert.False(decision.Removes);
                Assert.False(decision.CancelRequested);
                continue;
            }
            if (targets!.Length == 0)
            {
                Assert.True(decision.Removes);
                continue;
            }
            Assert.False(decision.Removes);
            Assert.Equal(Assert.Single(targets), decision.To);
            var expectCancelRequested = decision.To == Running && (trigger == JobTrigger.Cancel || cancelRequested);
            Assert.Equal(expectCancelRequested, decision.CancelRequested);
        }
    }

    private static void AssertFailOutcomes(JobState from, JobTrigger trigger, bool allowed, JobState[]? targets)
    {
        var error = trigger == JobTrigger.LeaseExpired ? Failure.LeaseExpired : new Failure(new JobError("boom", "Boom", null));
        var nonRetryable = error with { Retryable = false };

        // (snapshot, failure, expected target when allowed)
        var cases = new (JobSnapshot Job, Failure Failure, JobState To)[]
        {
            (new JobSnapshot(from, 1, 3, false), error, Retrying),
            (new JobSnapshot(from, 2, 3, false), error, Retrying),
            (new JobSnapshot(from, 3, 3, false), error, Failed),
            (new JobSnapshot(from, 4, 3, false), error, Failed),
            (new JobSnapshot(from, 1, 3, false), nonRetryable, Failed),
            (new JobSnapshot(from, 1, 3, true), error, Cancelled),
            (new JobSnapshot(from, 3, 3, true), error, Cancelled),
            (new JobSnapshot(from, 1, 3, true), nonRetryable, Cancelled),
        };

        foreach (var (job, failure, to) in cases)
        {
            var decision = JobStateMachine.Fail(job, failure, ExactPolicy, Now);

            Assert.Equal(allowed, decision.Allowed);
            Assert.Equal(from, decision.From);
            Assert.False(decision.Removes);
            if (!allowed)
            {
                Assert.Equal(from, decision.To);
                Assert.Null(decision.RunAt);
                continue;
            }
            Assert.Equal(to, decision.To);
            Assert.Contains(decision.To, targets!);
            Assert.Equal(to == Cancelled, decision.CancelRequested);
            if (to == Retrying)
            {
                Assert.Equal(Now + ExactPolicy.Backoff(job.Attempt), decision.RunAt);
            }
            else
            {
                Assert.Null(decision.RunAt);
            }
        }
    }

    [Theory]
    [InlineData(JobTrigger.Fail)]
    [InlineData(JobTrigger.LeaseExpired)]
    public void Decide_throws_for_failure_triggers(JobTrigger trigger)
    {
        foreach (var state in Enum.GetValues<JobState>())
        {
            var ex = Assert.Throws<ArgumentException>(() => JobStateMachine.Decide(new JobSnapshot(state, 1, 3, false), trigger));
            Assert.Equal("trigger", ex.ParamName);
        }
    }

    [Fact]
    public void Enqueue_picks_scheduled_for_a_future_run_at()
    {
        Assert.Equal(Scheduled, JobStateMachine.Enqueue(Now.AddMilliseconds(1), Now));
        Assert.Equal(Scheduled, JobStateMachine.Enqueue(Now.AddDays(3), Now));
    }

    [Fact]
    public void Enqueue_picks_queued_for_now_or_the_past()
    {
        Assert.Equal(Queued, JobStateMachine.Enqueue(Now, Now));
        Assert.Equal(Queued, JobStateMachine.Enqueue(Now.AddMilliseconds(-1), Now));
        Assert.Equal(Queued, JobStateMachine.Enqueue(Now.AddYears(-1), Now));
    }

    [Fact]
    public void Enqueue_picks_pending_when_waiting_for_parents_whatever_the_run_at()
    {
        Assert.Equal(Pending, JobStateMachine.Enqueue(Now, Now, waitsForParents: true));
        Assert.Equal(Pending, JobStateMachine.Enqueue(Now.AddHours(1), Now, waitsForParents: true));
        Assert.Equal(Pending, JobStateMachine.Enqueue(Now.AddHours(-1), Now, waitsForParents: true));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1_500)]
    [InlineData(86_400_000)]
    public void Fail_with_RetryInMs_override_sets_run_at_to_now_plus_that(int retryInMs)
    {
        var failure = new Failure(new JobError("busy", null, null), RetryInMs: retryInMs);

        var decision = JobStateMachine.Fail(new JobSnapshot(Running, 1, 5, false), failure, RetryPolicy.Default, Now);

        Assert.True(decision.Allowed);
        Assert.Equal(Retrying, decision.To);
        Assert.Equal(Now + TimeSpan.FromMilliseconds(retryInMs), decision.RunAt);
    }

    [Fact]
    public void Fail_with_RetryInMs_override_still_fails_when_no_attempts_remain()
    {
        var failure = new Failure(new JobError("busy", null, null), RetryInMs: 1_000);

        var decision = JobStateMachine.Fail(new JobSnapshot(Running, 5, 5, false), failure, RetryPolicy.Default, Now);

        Assert.Equal(Failed, decision.To);
        Assert.Null(decision.RunAt);
    }

    [Fact]
    public void Fail_without_override_waits_the_policy_backoff_for_the_failed_attempt()
    {
        var failure = new Failure(new JobError("boom", null, null));

        var first = JobStateMachine.Fail(new JobSnapshot(Running, 1, 10, false), failure, ExactPolicy, Now);
        var third = JobStateMachine.Fail(new JobSnapshot(Running, 3, 10, false), failure, ExactPolicy, Now);

        Assert.Equal(Now + TimeSpan.FromSeconds(1), first.RunAt);
        Assert.Equal(Now + TimeSpan.FromSeconds(4), third.RunAt);
    }

    [Fact]
    public void Fail_passes_the_given_random_to_the_policy()
    {
        var failure = new Failure(new JobError("boom", null, null));
        var job = new JobSnapshot(Running, 2, 10, false);

        var a = JobStateMachine.Fail(job, failure, RetryPolicy.Default, Now, new Random(42));
        var b = JobStateMachine.Fail(job, failure, RetryPolicy.Default, Now, new Random(42));

        Assert.Equal(a.RunAt, b.RunAt);
        Assert.Equal(Now + RetryPolicy.Default.Backoff(2, new Random(42)), a.RunAt);
    }

    [Fact]
    public void Expired_lease_retries_when_attempts_remain()
    {
        var decision = JobStateMachine.Fail(new JobSnapshot(Running, 1, 3, false), Failure.LeaseExpired, ExactPolicy, Now);

        Assert.Equal(Retrying, decision.To);
        Assert.Equal(Now + TimeSpan.FromSeconds(1), decision.RunAt);
    }

    [Fact]
    public void Cancel_of_a_running_job_keeps_it_running_with_cancel_requested()
    {
        var decision = JobStateMachine.Decide(new JobSnapshot(Running, 1, 3, false), JobTrigger.Cancel);

        Assert.True(decision.Allowed);
        Assert.Equal(Running, decision.To);
        Assert.True(decision.CancelRequested);
        Assert.False(decision.Removes);
    }

    [Fact]
    public void Ack_of_a_running_job_with_cancel_requested_still_succeeds()
    {
        var decision = JobStateMachine.Decide(new JobSnapshot(Running, 1, 3, true), JobTrigger.Ack);

        Assert.True(decision.Allowed);
        Assert.Equal(Succeeded, decision.To);
        Assert.False(decision.CancelRequested);
    }

    [Fact]
    public void Delete_of_a_running_job_is_refused()
    {
        var decision = JobStateMachine.Decide(new JobSnapshot(Running, 1, 3, false), JobTrigger.Delete);

        Assert.False(decision.Allowed);
        Assert.False(decision.Removes);
        Assert.Equal(Running, decision.To);
    }

    [Theory]
    [InlineData(Failed)]
    [InlineData(Cancelled)]
    public void A_workflow_step_is_retried_with_its_workflow_not_alone(JobState from)
    {
        Assert.False(JobStateMachine.Decide(new JobSnapshot(from, 1, 3, false, InWorkflow: true), JobTrigger.Retry).Allowed);
        Assert.True(JobStateMachine.Decide(new JobSnapshot(from, 1, 3, false, InWorkflow: false), JobTrigger.Retry).Allowed);
    }

    [Theory]
    [InlineData(Pending, false)]
    [InlineData(Queued, false)]
    [InlineData(Retrying, false)]
    [InlineData(Succeeded, true)]
    [InlineData(Failed, true)]
    [InlineData(Cancelled, true)]
    public void A_workflow_step_is_deleted_only_once_finished(JobState from, bool allowed)
    {
        var decision = JobStateMachine.Decide(new JobSnapshot(from, 1, 3, false, InWorkflow: true), JobTrigger.Delete);
        Assert.Equal(allowed, decision.Allowed);
    }
}
