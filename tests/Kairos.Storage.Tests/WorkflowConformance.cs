using System.Collections.Concurrent;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;

namespace Kairos.Storage.Tests;

/// <summary>
/// The workflow facet: a DAG of jobs created at once, each step started in the transaction that finishes its last
/// parent (exactly once, however many parents finish at the same time), failures cancelling what waits for them
/// unless the step continues on failure, cancel and retry of the whole.
/// </summary>
public abstract partial class StoreConformance
{
    private static WorkflowStepDefinition Step(string id, params string[] dependsOn) => new()
    {
        Id = id,
        Job = new NewJob { Queue = "wf", Type = "step." + id, Payload = $$"""{"step":"{{id}}"}""" },
        DependsOn = dependsOn,
    };

    private async Task<Workflow> CreateWorkflowAsync(string name, params WorkflowStepDefinition[] steps)
    {
        Assert.Empty(WorkflowGraph.Validate(steps));
        return await Store.Workflows.CreateAsync(new CreateWorkflowParams(OrgA, new WorkflowDefinition { Name = name, Steps = steps }), None);
    }

    private async Task<Workflow> GetWorkflowAsync(Guid id, Guid? org = null)
    {
        var w = await Store.Workflows.GetAsync(new WorkflowParams(org ?? OrgA, id), None);
        Assert.NotNull(w);
        return w;
    }

    private static JobState StateOf(Workflow w, string step) => w.Steps.Single(s => s.Id == step).Job!.State;

    private static Guid JobOf(Workflow w, string step) => w.Steps.Single(s => s.Id == step).JobId;

    /// <summary>Leases the step's job (it must be the only ready one of its queue) and acks it with a result.</summary>
    private async Task<CommandResult> RunStepAsync(Workflow w, string step, Core.Workers.Worker worker, string? result = null)
    {
        var leased = await LeaseOneAsync(worker, "wf");
        Assert.Equal(JobOf(w, step), leased.Job.Id);
        var ack = await AckAsync(leased.Job.Id, leased.LeaseToken, result ?? $$"""{"done":"{{step}}"}""");
        Assert.Equal(CommandStatus.Applied, ack.Status);
        return ack;
    }

    private async Task<CommandResult> FailStepAsync(Workflow w, string step, Core.Workers.Worker worker)
    {
        var leased = await LeaseOneAsync(worker, "wf");
        Assert.Equal(JobOf(w, step), leased.Job.Id);
        var fail = await FailAsync(leased.Job.Id, leased.LeaseToken, "boom", retryable: false);
        Assert.Equal(CommandStatus.Applied, fail.Status);
        return fail;
    }

    [SkippableFact]
    public async Task Workflow_is_created_at_once_with_roots_queued_and_the_others_pending()
    {
        var w = await CreateWorkflowAsync("etl", Step("load", "extract"), Step("extract"), Step("report", "load"));
        Assert.Equal("etl", w.Name);
        Assert.Equal(OrgA, w.OrganizationId);
        Assert.Equal(WorkflowState.Running, w.State);
        Assert.Equal(3, w.StepsTotal);
        Assert.Equal(3, w.UnfinishedSteps);
        Assert.Equal(Start, w.CreatedAt);
        Assert.Equal(["load", "extract", "report"], w.Steps.Select(s => s.Id));
        Assert.Equal(JobState.Queued, StateOf(w, "extract"));
        Assert.Equal(JobState.Pending, StateOf(w, "load"));
        Assert.Equal(JobState.Pending, StateOf(w, "report"));
        Assert.Equal(["extract"], w.Steps[0].DependsOn);
        Assert.Equal(1, w.Steps[0].UnfinishedParents);
        var load = w.Steps[0].Job!;
        Assert.Equal(w.Id, load.WorkflowId);
        Assert.Equal("load", load.WorkflowStep);
        Assert.Equal("step.load", load.Type);
        AssertJsonEqual("""{"step":"load"}""", load.Payload);
        // The job itself says which workflow and step it belongs to.
        var job = await GetJobAsync(load.Id);
        Assert.Equal(w.Id, job.WorkflowId);
        Assert.Equal("load", job.WorkflowStep);
        // Parents come first in the queue: the root is the one ready job.
        var worker = await RegisterAsync("w", OrgA, "wf");
        Assert.Equal(JobOf(w, "extract"), Assert.Single(await LeaseAsync(worker, ["wf"], 10)).Job.Id);

        // Another organization sees nothing of it.
        Assert.Null(await Store.Workflows.GetAsync(new WorkflowParams(OrgB, w.Id), None));
        Assert.Empty((await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgB), None)).Items);
        Assert.Null(await Store.Workflows.CancelAsync(new WorkflowParams(OrgB, w.Id), None));
        Assert.Null(await Store.Workflows.RetryAsync(new WorkflowParams(OrgB, w.Id), None));
    }

    [SkippableFact]
    public async Task Diamond_starts_the_join_when_both_branches_succeeded_and_the_workflow_succeeds()
    {
        var w = await CreateWorkflowAsync("diamond", Step("a"), Step("b", "a"), Step("c", "a"), Step("d", "b", "c"));
        var worker = await RegisterAsync("w", OrgA, "wf");

        var a = await RunStepAsync(w, "a", worker);
        Assert.Equal(new[] { JobOf(w, "b"), JobOf(w, "c") }.Order(), a.Cascade.Select(c => c.JobId).Order());
        Assert.All(a.Cascade, c => Assert.Equal((JobState.Pending, JobState.Queued), (c.From!.Value, c.To)));
        Assert.All(a.Cascade, c => Assert.Equal(w.Id, c.WorkflowId));
        Assert.Null(a.Change!.WorkflowOutcome);
        w = await GetWorkflowAsync(w.Id);
        Assert.Equal(JobState.Succeeded, StateOf(w, "a"));
        Assert.Equal(JobState.Pending, StateOf(w, "d"));
        Assert.Equal(2, w.Steps.Single(s => s.Id == "d").UnfinishedParents);

        var first = await LeaseOneAsync(worker, "wf");
        var second = await LeaseOneAsync(worker, "wf");
        var b = await AckAsync(first.Job.Id, first.LeaseToken, """{"rows":1}""");
        Assert.Empty(b.Cascade);
        Assert.Equal(JobState.Pending, StateOf(await GetWorkflowAsync(w.Id), "d"));
        var c = await AckAsync(second.Job.Id, second.LeaseToken, """{"rows":2}""");
        Assert.Equal(JobOf(w, "d"), Assert.Single(c.Cascade).JobId);

        w = await GetWorkflowAsync(w.Id);
        Assert.Equal(JobState.Queued, StateOf(w, "d"));
        // The parents' results are on their steps for the child to read.
        AssertJsonEqual("""{"done":"a"}""", w.Steps.Single(s => s.Id == "a").Job!.Result);
        Assert.Equal(WorkflowState.Running, w.State);

        var parents = await Store.Workflows.ParentsAsync(new ParentsParams(OrgA, [JobOf(w, "d"), JobOf(w, "b"), JobOf(w, "a")]), None);
        Assert.False(parents.ContainsKey(JobOf(w, "a"))); // a root
        Assert.Equal("a", Assert.Single(parents[JobOf(w, "b")]).Step);
        var ofD = parents[JobOf(w, "d")].OrderBy(p => p.Step, StringComparer.Ordinal).ToList();
        Assert.Equal(["b", "c"], ofD.Select(p => p.Step));
        Assert.All(ofD, p => Assert.Equal(JobState.Succeeded, p.State));
        Assert.Equal(JobOf(w, "b"), ofD[0].JobId);
        AssertJsonEqual(first.Job.Id == JobOf(w, "b") ? """{"rows":1}""" : """{"rows":2}""", ofD[0].Result);
        Assert.Empty(await Store.Workflows.ParentsAsync(new ParentsParams(OrgB, [JobOf(w, "d")]), None));

        var d = await RunStepAsync(w, "d", worker);
        Assert.Equal(new WorkflowOutcome(w.Id, "diamond", WorkflowState.Succeeded), d.Change!.WorkflowOutcome);
        w = await GetWorkflowAsync(w.Id);
        Assert.Equal(WorkflowState.Succeeded, w.State);
        Assert.Equal(0, w.UnfinishedSteps);
        Assert.Equal(Start, w.FinishedAt);
    }

    [SkippableFact]
    public async Task Fan_out_of_a_thousand_and_fan_in_start_the_join_exactly_once_under_concurrent_batch_acks()
    {
        const int width = 1000;
        var steps = new List<WorkflowStepDefinition> { Step("split") };
        steps.AddRange(Enumerable.Range(0, width).Select(i => Step($"part-{i}", "split")));
        steps.Add(Step("join", [.. Enumerable.Range(0, width).Select(i => $"part-{i}")]));
        var w = await CreateWorkflowAsync("fan", [.. steps]);
        var worker = await RegisterAsync("w", OrgA, "wf");
        var split = await RunStepAsync(w, "split", worker);
        Assert.Equal(width, split.Cascade.Count);

        var leased = new List<LeasedJob>();
        while (leased.Count < width) leased.AddRange(await LeaseAsync(worker, ["wf"], 500, 600_000));
        Assert.Equal(width, leased.Count);
        Assert.DoesNotContain(JobOf(w, "join"), leased.Select(l => l.Job.Id));

        // Several ackers at once, in batches of 25, in interleaved order: every batch races the others for the join.
        var started = new ConcurrentBag<JobChange>();
        var outcomes = new ConcurrentBag<WorkflowOutcome>();
        const int ackers = 8;
        await RunConcurrentlyAsync([.. Enumerable.Range(0, ackers).Select(k => (Func<CancellationToken, Task>)(async ct =>
        {
            var mine = leased.Where((_, i) => i % ackers == k).ToList();
            foreach (var batch in mine.Chunk(25))
            {
                var results = await Store.Jobs.CompleteManyAsync(new CompleteManyParams(OrgA,
                    [.. batch.Select(l => new AckParams(OrgA, l.Job.Id, l.LeaseToken, """{"ok":true}"""))], []), ct);
                Assert.All(results, r => Assert.Equal(CommandStatus.Applied, r.Status));
                foreach (var r in results)
                {
                    foreach (var c in r.Cascade) started.Add(c);
                    if (r.Change?.WorkflowOutcome is { } o) outcomes.Add(o);
                }
            }
        }))]);

        var join = Assert.Single(started);
        Assert.Equal(JobOf(w, "join"), join.JobId);
        Assert.Empty(outcomes);
        w = await GetWorkflowAsync(w.Id);
        Assert.Equal(JobState.Queued, StateOf(w, "join"));
        Assert.Equal(0, w.Steps.Single(s => s.Id == "join").UnfinishedParents);
        Assert.Equal(1, w.UnfinishedSteps);

        var done = await RunStepAsync(w, "join", worker);
        Assert.Equal(WorkflowState.Succeeded, done.Change!.WorkflowOutcome!.State);
        Assert.Equal(WorkflowState.Succeeded, (await GetWorkflowAsync(w.Id)).State);
    }

    [SkippableFact]
    public async Task Failed_step_cancels_everything_that_waits_for_it_and_fails_the_workflow()
    {
        var w = await CreateWorkflowAsync("chain", Step("a"), Step("b", "a"), Step("c", "b"), Step("side"), Step("after-side", "side"));
        var worker = await RegisterAsync("w", OrgA, "wf");
        var leasedA = await LeaseOneAsync(worker, "wf");
        Assert.Equal(JobOf(w, "a"), leasedA.Job.Id);
        var fail = await FailAsync(leasedA.Job.Id, leasedA.LeaseToken, "boom", retryable: false);
        Assert.Equal(JobState.Failed, fail.CurrentState);
        Assert.Equal(new[] { JobOf(w, "b"), JobOf(w, "c") }.Order(), fail.Cascade.Select(c => c.JobId).Order());
        Assert.All(fail.Cascade, c => Assert.Equal((JobState.Pending, JobState.Cancelled), (c.From!.Value, c.To)));
        Assert.Null(fail.Change!.WorkflowOutcome); // the side branch still runs

        w = await GetWorkflowAsync(w.Id);
        Assert.Equal(WorkflowState.Running, w.State);
        Assert.Equal(JobState.Cancelled, StateOf(w, "c"));
        Assert.Equal(JobState.Queued, StateOf(w, "side"));

        await RunStepAsync(w, "side", worker);
        var last = await RunStepAsync(w, "after-side", worker);
        Assert.Equal(WorkflowState.Failed, last.Change!.WorkflowOutcome!.State);
        w = await GetWorkflowAsync(w.Id);
        Assert.Equal(WorkflowState.Failed, w.State);
        Assert.Equal((0, 1, 2), (w.UnfinishedSteps, w.FailedSteps, w.CancelledSteps));
    }

    [SkippableFact]
    public async Task Step_that_continues_on_failure_lets_its_children_start_and_does_not_fail_the_workflow()
    {
        var w = await CreateWorkflowAsync("tolerant", Step("lint") with { ContinueOnFailure = true }, Step("build"), Step("ship", "lint", "build"));
        var worker = await RegisterAsync("w", OrgA, "wf");
        var lint = await FailStepAsync(w, "lint", worker);
        Assert.Empty(lint.Cascade); // build has not finished yet
        var build = await RunStepAsync(w, "build", worker);
        Assert.Equal(JobOf(w, "ship"), Assert.Single(build.Cascade).JobId);
        var ship = await RunStepAsync(w, "ship", worker);
        Assert.Equal(WorkflowState.Succeeded, ship.Change!.WorkflowOutcome!.State);
        w = await GetWorkflowAsync(w.Id);
        Assert.Equal(JobState.Failed, StateOf(w, "lint"));
        Assert.Equal(WorkflowState.Succeeded, w.State);
    }

    [SkippableFact]
    public async Task Expired_lease_of_a_last_attempt_fails_the_step_and_cancels_its_children()
    {
        var steps = new[] { Step("a") with { Job = Step("a").Job with { MaxAttempts = 1 } }, Step("b", "a") };
        var w = await CreateWorkflowAsync("lease", steps);
        var worker = await RegisterAsync("w", OrgA, "wf");
        await LeaseOneAsync(worker, "wf", leaseMs: 1_000);
        Time.Advance(TimeSpan.FromSeconds(2));
        var changes = await Store.Jobs.ExpireLeasesAsync(new ExpireLeasesParams(), None);
        Assert.Contains(changes, c => c.JobId == JobOf(w, "a") && c.To == JobState.Failed);
        var cancelled = Assert.Single(changes, c => c.JobId == JobOf(w, "b"));
        Assert.Equal(JobState.Cancelled, cancelled.To);
        Assert.Single(changes, c => c.WorkflowOutcome is { State: WorkflowState.Failed });
        Assert.Equal(WorkflowState.Failed, (await GetWorkflowAsync(w.Id)).State);
    }

    [SkippableFact]
    public async Task Cancel_stops_waiting_and_queued_steps_asks_running_ones_and_the_workflow_ends_cancelled()
    {
        var w = await CreateWorkflowAsync("stop", Step("a"), Step("b"), Step("c", "a", "b"));
        var worker = await RegisterAsync("w", OrgA, "wf");
        var running = await LeaseOneAsync(worker, "wf");
        Assert.Equal(JobOf(w, "a"), running.Job.Id);

        var cancel = await Store.Workflows.CancelAsync(new WorkflowParams(OrgA, w.Id), None);
        Assert.NotNull(cancel);
        Assert.True(cancel.Applied);
        Assert.True(cancel.Workflow.CancelRequested);
        Assert.Equal(WorkflowState.Running, cancel.Workflow.State); // a still runs
        Assert.Equal(JobState.Cancelled, StateOf(cancel.Workflow, "b"));
        Assert.Equal(JobState.Cancelled, StateOf(cancel.Workflow, "c"));
        Assert.True(cancel.Workflow.Steps.Single(s => s.Id == "a").Job!.CancelRequested);
        Assert.Equal(3, cancel.Changes.Count);
        Assert.Contains(cancel.Changes, c => c.JobId == JobOf(w, "a") && c.CancelRequested && c.To == JobState.Running);

        // The worker sees the request and gives up: the job ends cancelled, and with it the workflow.
        var fail = await FailAsync(running.Job.Id, running.LeaseToken, "cancelled", retryable: true);
        Assert.Equal(JobState.Cancelled, fail.CurrentState);
        Assert.Equal(WorkflowState.Cancelled, fail.Change!.WorkflowOutcome!.State);
        Assert.Equal(WorkflowState.Cancelled, (await GetWorkflowAsync(w.Id)).State);

        // Nothing left to cancel.
        var again = await Store.Workflows.CancelAsync(new WorkflowParams(OrgA, w.Id), None);
        Assert.False(again!.Applied);
    }

    [SkippableFact]
    public async Task Cancel_of_a_workflow_with_nothing_running_finishes_it_at_once()
    {
        var w = await CreateWorkflowAsync("idle", Step("a"), Step("b", "a"));
        var cancel = await Store.Workflows.CancelAsync(new WorkflowParams(OrgA, w.Id), None);
        Assert.Equal(WorkflowState.Cancelled, cancel!.Workflow.State);
        Assert.Single(cancel.Changes, c => c.WorkflowOutcome is { State: WorkflowState.Cancelled });
        Assert.Equal(Start, cancel.Workflow.FinishedAt);
    }

    [SkippableFact]
    public async Task Retry_runs_the_failed_and_cancelled_steps_again_and_keeps_what_succeeded()
    {
        var w = await CreateWorkflowAsync("again", Step("a"), Step("b", "a"), Step("c", "b"), Step("d", "a"));
        var worker = await RegisterAsync("w", OrgA, "wf");
        await RunStepAsync(w, "a", worker, """{"a":1}""");
        var first = await LeaseOneAsync(worker, "wf");
        var second = await LeaseOneAsync(worker, "wf");
        var (b, d) = first.Job.Id == JobOf(w, "b") ? (first, second) : (second, first);
        Assert.Equal(CommandStatus.Applied, (await FailAsync(b.Job.Id, b.LeaseToken, "boom", retryable: false)).Status);
        var last = await AckAsync(d.Job.Id, d.LeaseToken, "{}");
        Assert.Equal(WorkflowState.Failed, last.Change!.WorkflowOutcome!.State);

        // Not for a running workflow, nor a step alone.
        Assert.Equal(CommandStatus.InvalidState, (await Store.Jobs.RetryAsync(new JobCommandParams(OrgA, b.Job.Id), None)).Status);

        Time.Advance(TimeSpan.FromMinutes(1));
        var retry = await Store.Workflows.RetryAsync(new WorkflowParams(OrgA, w.Id), None);
        Assert.NotNull(retry);
        Assert.True(retry.Applied);
        w = retry.Workflow;
        Assert.Equal(WorkflowState.Running, w.State);
        Assert.Null(w.FinishedAt);
        Assert.Equal((2, 0, 0), (w.UnfinishedSteps, w.FailedSteps, w.CancelledSteps));
        Assert.Equal(JobState.Succeeded, StateOf(w, "a"));
        Assert.Equal(1, w.Steps.Single(s => s.Id == "a").Job!.Attempt);
        AssertJsonEqual("""{"a":1}""", w.Steps.Single(s => s.Id == "a").Job!.Result);
        Assert.Equal(JobState.Succeeded, StateOf(w, "d"));
        Assert.Equal(JobState.Queued, StateOf(w, "b"));
        Assert.Equal(JobState.Pending, StateOf(w, "c"));
        Assert.Equal(1, w.Steps.Single(s => s.Id == "c").UnfinishedParents);
        Assert.Equal(2, retry.Changes.Count);
        // A retry while it runs again does nothing.
        Assert.False((await Store.Workflows.RetryAsync(new WorkflowParams(OrgA, w.Id), None))!.Applied);

        var rb = await RunStepAsync(w, "b", worker);
        Assert.Equal(JobOf(w, "c"), Assert.Single(rb.Cascade).JobId);
        Assert.Equal(2, (await GetJobAsync(JobOf(w, "b"))).Attempt); // the first attempt stays in the history
        var rc = await RunStepAsync(w, "c", worker);
        Assert.Equal(WorkflowState.Succeeded, rc.Change!.WorkflowOutcome!.State);
        Assert.Equal(WorkflowState.Succeeded, (await GetWorkflowAsync(w.Id)).State);
        // A succeeded workflow has nothing to retry.
        Assert.False((await Store.Workflows.RetryAsync(new WorkflowParams(OrgA, w.Id), None))!.Applied);
    }

    [SkippableFact]
    public async Task Cancelling_one_step_cancels_what_waits_for_it_and_steps_are_deleted_only_once_finished()
    {
        var w = await CreateWorkflowAsync("one", Step("a"), Step("b", "a"));
        Assert.Equal(CommandStatus.InvalidState, (await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, JobOf(w, "b")), None)).Status);
        var cancel = await CancelAsync(JobOf(w, "a"));
        Assert.Equal(JobOf(w, "b"), Assert.Single(cancel.Cascade).JobId);
        Assert.Equal(WorkflowState.Cancelled, cancel.Change!.WorkflowOutcome!.State);
        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, JobOf(w, "b")), None)).Status);
        w = await GetWorkflowAsync(w.Id);
        Assert.Null(w.Steps.Single(s => s.Id == "b").Job);
        Assert.Null(await Store.Workflows.RetryAsync(new WorkflowParams(OrgA, w.Id), None) is { Applied: true } ? "retried" : null);
    }

    [SkippableFact]
    public async Task Workflows_are_listed_newest_first_with_state_and_name_filters_and_cursor_pages()
    {
        var done = await CreateWorkflowAsync("nightly", Step("x"));
        Time.Advance(TimeSpan.FromSeconds(1));
        var running = await CreateWorkflowAsync("nightly", Step("x"));
        Time.Advance(TimeSpan.FromSeconds(1));
        var other = await CreateWorkflowAsync("adhoc", Step("x"));
        await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, JobOf(done, "x")), None);

        var first = await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA) { Limit = 2 }, None);
        Assert.Equal([other.Id, running.Id], first.Items.Select(x => x.Id));
        Assert.Empty(first.Items[0].Steps);
        var second = await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA) { Limit = 2, Cursor = first.NextCursor }, None);
        Assert.Equal([done.Id], second.Items.Select(x => x.Id));
        Assert.Null(second.NextCursor);
        Assert.Equal([running.Id, done.Id], (await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA) { Name = "nightly" }, None)).Items.Select(x => x.Id));
        Assert.Equal([done.Id], (await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA) { State = WorkflowState.Cancelled }, None)).Items.Select(x => x.Id));
        Assert.Equal([other.Id, running.Id], (await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA) { State = WorkflowState.Running }, None)).Items.Select(x => x.Id));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA) { Cursor = "bogus" }, None));
    }

    [SkippableFact]
    public async Task Jobs_of_no_workflow_are_acked_and_failed_as_before_beside_workflow_steps()
    {
        var w = await CreateWorkflowAsync("mixed", Step("a"), Step("b", "a"));
        var plain = await EnqueueAsync(MakeJob("wf"));
        var worker = await RegisterAsync("w", OrgA, "wf");
        var leased = await LeaseAsync(worker, ["wf"], 10);
        Assert.Equal(2, leased.Count);
        var results = await Store.Jobs.CompleteManyAsync(new CompleteManyParams(OrgA,
            [.. leased.Select(l => new AckParams(OrgA, l.Job.Id, l.LeaseToken, null))], []), None);
        Assert.All(results, r => Assert.Equal(CommandStatus.Applied, r.Status));
        Assert.Null(results.Single(r => r.JobId == plain.Id).Change!.WorkflowId);
        Assert.Equal(JobOf(w, "b"), Assert.Single(results.SelectMany(r => r.Cascade)).JobId);
        Assert.Equal(JobState.Succeeded, (await GetJobAsync(plain.Id)).State);
    }
}
