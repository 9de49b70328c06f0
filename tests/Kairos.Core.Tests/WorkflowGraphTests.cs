using Kairos.Core.Jobs;
using Kairos.Core.Workflows;

namespace Kairos.Core.Tests;

public class WorkflowGraphTests
{
    private static WorkflowStepDefinition Step(string id, params string[] dependsOn) =>
        new() { Id = id, Job = new NewJob { Queue = "q", Type = "t", Payload = "{}" }, DependsOn = dependsOn };

    [Fact]
    public void A_diamond_is_valid_and_ordered_parents_first()
    {
        WorkflowStepDefinition[] steps = [Step("d", "b", "c"), Step("b", "a"), Step("c", "a"), Step("a")];
        Assert.Empty(WorkflowGraph.Validate(steps));
        Assert.Equal(["a", "b", "c", "d"], WorkflowGraph.TopologicalOrder(steps).Select(i => steps[i].Id));
    }

    [Fact]
    public void A_cycle_is_named_step_by_step()
    {
        var errors = WorkflowGraph.Validate([Step("a", "c"), Step("b", "a"), Step("c", "b"), Step("free")]);
        var (field, message) = Assert.Single(errors);
        Assert.Equal("steps", field);
        Assert.Contains("cycle", message, StringComparison.Ordinal);
        foreach (var id in new[] { "a", "b", "c" }) Assert.Contains($"{id}", message, StringComparison.Ordinal);
        Assert.DoesNotContain("free", message, StringComparison.Ordinal);
        Assert.Matches("(a → b → c → a)|(b → c → a → b)|(c → a → b → c)", message);
    }

    [Fact]
    public void Unknown_parents_duplicates_and_self_dependencies_name_the_step_and_field()
    {
        var errors = WorkflowGraph.Validate([Step("a"), Step("a"), Step("b", "ghost"), Step("c", "c"), Step("bad id!"), Step("e", "a", "a")]);
        Assert.Contains(("steps[1].id", "duplicate step id \"a\" (also steps[0])"), errors);
        Assert.Contains(("steps[2].depends_on", "step \"b\" depends on unknown step \"ghost\""), errors);
        Assert.Contains(("steps[3].depends_on", "step \"c\" depends on itself (a cycle)"), errors);
        Assert.Contains(errors, e => e.Field == "steps[4].id");
        Assert.Contains(("steps[5].depends_on", "names step \"a\" twice"), errors);
        Assert.Single(WorkflowGraph.Validate([]));
    }

    [Fact]
    public void Workflow_state_is_derived_from_its_counters()
    {
        Assert.Equal(WorkflowState.Running, WorkflowRules.Derive(1, 1, 1));
        Assert.Equal(WorkflowState.Failed, WorkflowRules.Derive(0, 1, 1));
        Assert.Equal(WorkflowState.Cancelled, WorkflowRules.Derive(0, 0, 1));
        Assert.Equal(WorkflowState.Succeeded, WorkflowRules.Derive(0, 0, 0));
        Assert.Equal(StepRelease.Release, WorkflowRules.OnFinished(JobState.Failed, continueOnFailure: true));
        Assert.Equal(StepRelease.Block, WorkflowRules.OnFinished(JobState.Failed, continueOnFailure: false));
        Assert.Equal(StepRelease.Block, WorkflowRules.OnFinished(JobState.Cancelled, continueOnFailure: true));
        Assert.Equal(StepRelease.None, WorkflowRules.OnFinished(JobState.Retrying, continueOnFailure: false));
        Assert.Equal((0, 0), WorkflowRules.Counts(JobState.Failed, continueOnFailure: true));
    }

    [Fact]
    public void Retry_plan_reruns_failed_and_cancelled_steps_queued_or_waiting()
    {
        var now = DateTimeOffset.UnixEpoch;
        Job JobIn(JobState s) => new() { Id = Guid.NewGuid(), OrganizationId = Guid.Empty, Queue = "q", Type = "t", Payload = "{}", State = s, RunAt = now, MaxAttempts = 1, Attempt = 1, CreatedAt = now };
        WorkflowStep S(string id, JobState s, params string[] deps) { var j = JobIn(s); return new WorkflowStep(id, 0, deps, false, 0, j.Id, j); }
        var w = new Workflow
        {
            Id = Guid.NewGuid(), OrganizationId = Guid.Empty, Name = "w", StepsTotal = 4, UnfinishedSteps = 0, FailedSteps = 1, CancelledSteps = 1,
            CreatedAt = now, UpdatedAt = now,
            Steps = [S("a", JobState.Succeeded), S("b", JobState.Failed, "a"), S("c", JobState.Cancelled, "b"), S("d", JobState.Succeeded, "a")],
        };
        var plan = WorkflowRules.PlanRetry(w)!;
        Assert.Equal([("b", JobState.Queued, 0), ("c", JobState.Pending, 1)], plan.Select(p => (p.StepId, p.To, p.UnfinishedParents)));
        Assert.Null(WorkflowRules.PlanRetry(w with { UnfinishedSteps = 1 }));
        Assert.Null(WorkflowRules.PlanRetry(w with { Steps = [S("a", JobState.Succeeded)], FailedSteps = 0, CancelledSteps = 0 }));
    }
}
