using System.Collections.Concurrent;
using Kairos.Core.Jobs;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;

namespace Kairos.Storage.Tests;

/// <summary>The workflow template facet, and schedules whose template is a workflow: one instance per fire time, overlap by the previous instance.</summary>
public abstract partial class StoreConformance
{
    private static WorkflowTemplateStep TemplateStep(string id, params string[] dependsOn) => new()
    {
        Id = id,
        Job = new JobTemplate { Queue = "flows", Type = "flow." + id, Payload = $$"""{"step":"{{id}}"}""", Tags = ["templated"] },
        DependsOn = dependsOn,
    };

    private async Task<WorkflowTemplate> PutTemplateAsync(string name, params WorkflowTemplateStep[] steps)
    {
        var (template, _) = await Store.WorkflowTemplates.PutAsync(new PutWorkflowTemplateParams(OrgA, name, steps), None);
        return template;
    }

    private static ScheduleDefinition EveryMinuteWorkflow(string name, string template, OverlapPolicy overlap = OverlapPolicy.Allow) => new()
    {
        Name = name,
        EveryMs = 60_000,
        Workflow = template,
        Overlap = overlap,
    };

    [SkippableFact]
    public async Task Workflow_templates_are_put_read_listed_and_deleted_within_their_organization()
    {
        var (made, created) = await Store.WorkflowTemplates.PutAsync(new PutWorkflowTemplateParams(OrgA, "etl", [TemplateStep("a"), TemplateStep("b", "a")]), None);
        Assert.True(created);
        Assert.Equal(("etl", OrgA, Start, Start, (string?)null), (made.Name, made.OrganizationId, made.CreatedAt, made.UpdatedAt, made.ManagedBy));
        Assert.Equal(["a", "b"], made.Steps.Select(s => s.Id));
        Assert.Equal(["a"], made.Steps[1].DependsOn);
        AssertJsonEqual("""{"step":"b"}""", made.Steps[1].Job.Payload);
        Assert.Equal(["templated"], made.Steps[1].Job.Tags);

        Time.Advance(TimeSpan.FromSeconds(5));
        var (replaced, createdAgain) = await Store.WorkflowTemplates.PutAsync(
            new PutWorkflowTemplateParams(OrgA, "etl", [TemplateStep("x") with { ContinueOnFailure = true }], ManagedBy: "manifest"), None);
        Assert.False(createdAgain);
        Assert.Equal(made.Id, replaced.Id);
        Assert.Equal((Start, Start.AddSeconds(5), "manifest"), (replaced.CreatedAt, replaced.UpdatedAt, replaced.ManagedBy));
        Assert.True(Assert.Single(replaced.Steps).ContinueOnFailure);
        Assert.Equal(replaced, await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgA, "etl"), None), TemplateComparer.Instance);

        await PutTemplateAsync("beta", TemplateStep("a"));
        await PutTemplateAsync("alpha", TemplateStep("a"));
        await Store.WorkflowTemplates.PutAsync(new PutWorkflowTemplateParams(OrgB, "b-only", [TemplateStep("a")]), None);
        var first = await Store.WorkflowTemplates.ListAsync(new ListWorkflowTemplatesParams(OrgA) { Limit = 2 }, None);
        Assert.Equal(["alpha", "beta"], first.Items.Select(t => t.Name));
        var second = await Store.WorkflowTemplates.ListAsync(new ListWorkflowTemplatesParams(OrgA) { Limit = 2, Cursor = first.NextCursor }, None);
        Assert.Equal(["etl"], second.Items.Select(t => t.Name));
        Assert.Null(second.NextCursor);
        Assert.Null(await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgB, "etl"), None));
        Assert.False((await Store.WorkflowTemplates.DeleteAsync(new WorkflowTemplateParams(OrgB, "etl"), None)).Found);

        var deleted = await Store.WorkflowTemplates.DeleteAsync(new WorkflowTemplateParams(OrgA, "etl"), None);
        Assert.True(deleted.Deleted);
        Assert.Null(await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgA, "etl"), None));
        Assert.False((await Store.WorkflowTemplates.DeleteAsync(new WorkflowTemplateParams(OrgA, "etl"), None)).Found);
        Assert.NotNull(await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgB, "b-only"), None));
    }

    [SkippableFact]
    public async Task A_workflow_schedule_makes_one_instance_per_fire_time_from_the_template_as_it_is_then()
    {
        await PutTemplateAsync("etl", TemplateStep("a"), TemplateStep("b", "a"));
        var s = await CreateScheduleAsync(EveryMinuteWorkflow("nightly-etl", "etl"));
        Assert.Equal(TemplateKind.Workflow, s.Definition.TemplateKind);
        Assert.Equal(("etl", (JobTemplate?)null), (s.Definition.Workflow, s.Definition.Job));
        Time.Advance(TimeSpan.FromMilliseconds(100));

        // Many passes at once for the same fire time: one firing, one instance.
        var firings = new ConcurrentBag<ScheduleFiring>();
        var work = Enumerable.Range(0, 6).Select(_ => (Func<CancellationToken, Task>)(async _ =>
        {
            if (await Store.Schedules.FireAsync(new FireScheduleParams(OrgA, s.Id), None) is { } f) firings.Add(f);
        })).ToList();
        await RunConcurrentlyAsync(work);
        var run = Assert.Single(Assert.Single(firings).Runs);
        Assert.Null(run.Job);
        var instance = run.Workflow!;
        Assert.Equal(("etl", s.Id, 2), (instance.Name, instance.ScheduleId, instance.StepsTotal));
        Assert.Equal([JobState.Queued, JobState.Pending], instance.Steps.Select(step => step.Job!.State));
        Assert.Equal("flow.a", instance.Steps[0].Job!.Type);
        Assert.Equal(instance.Id, (await Store.Schedules.GetAsync(new ScheduleParams(OrgA, s.Name), None))!.LastWorkflowId);
        Assert.Single((await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA), None)).Items);
        Assert.Empty(await FirePassAsync());

        // The template changes: the instance made keeps its two steps, the next fire time copies the three.
        await PutTemplateAsync("etl", TemplateStep("a"), TemplateStep("b", "a"), TemplateStep("c", "a"));
        Assert.Equal(2, (await Store.Workflows.GetAsync(new WorkflowParams(OrgA, instance.Id), None))!.Steps.Count);
        Time.Advance(TimeSpan.FromMinutes(1));
        var next = Assert.Single(Assert.Single(await FirePassAsync()).Runs).Workflow!;
        Assert.Equal(3, next.StepsTotal);

        // The history shows each run's instance; a template a schedule starts is not deleted.
        var runs = (await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name), None))!.Items;
        Assert.Equal([next.Id, instance.Id], runs.Select(r => r.WorkflowId!.Value));
        Assert.Equal([WorkflowState.Running, WorkflowState.Running], runs.Select(r => r.Workflow!.State));
        Assert.All(runs, r => Assert.Null(r.JobId));
        var refused = await Store.WorkflowTemplates.DeleteAsync(new WorkflowTemplateParams(OrgA, "etl"), None);
        Assert.False(refused.Deleted);
        Assert.Equal(["nightly-etl"], refused.UsedBy);
        Assert.NotNull(await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgA, "etl"), None));

        // A manual trigger makes an instance too, and becomes the previous run.
        var manual = Assert.Single((await Store.Schedules.TriggerAsync(new ScheduleParams(OrgA, s.Name), None))!.Runs);
        Assert.True(manual.Manual);
        Assert.Equal(manual.Workflow!.Id, (await Store.Schedules.GetAsync(new ScheduleParams(OrgA, s.Name), None))!.LastWorkflowId);
        Assert.Equal(3, (await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA), None)).Items.Count);
    }

    [SkippableFact]
    public async Task Workflow_schedule_overlap_skip_waits_for_the_previous_instance_and_replace_cancels_it()
    {
        await PutTemplateAsync("one-step", TemplateStep("a"));
        var skip = await CreateScheduleAsync(EveryMinuteWorkflow("skipper", "one-step", OverlapPolicy.Skip));
        var worker = await RegisterAsync("w", OrgA, "flows");
        var first = Assert.Single(Assert.Single(await FirePassAsync()).Runs).Workflow!;

        Time.Advance(TimeSpan.FromMinutes(1));
        var skipped = Assert.Single(Assert.Single(await FirePassAsync()).Runs);
        Assert.True(skipped.Skipped);
        Assert.Null(skipped.Workflow);
        var leased = await LeaseOneAsync(worker, "flows");
        Assert.Equal(first.Steps[0].JobId, leased.Job.Id);
        await AckAsync(leased.Job.Id, leased.LeaseToken);
        Assert.Equal(WorkflowState.Succeeded, (await Store.Workflows.GetAsync(new WorkflowParams(OrgA, first.Id), None))!.State);

        Time.Advance(TimeSpan.FromMinutes(1));
        var second = Assert.Single(Assert.Single(await FirePassAsync()).Runs);
        Assert.False(second.Skipped);
        Assert.NotEqual(first.Id, second.Workflow!.Id);
        var runs = (await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, skip.Name), None))!.Items;
        Assert.Equal([false, true, false], runs.Select(r => r.Skipped));
        Assert.Equal(WorkflowState.Succeeded, runs[2].Workflow!.State);
        await Store.Schedules.DeleteAsync(new ScheduleParams(OrgA, skip.Name), None);

        // Replace: the unfinished previous instance is cancelled through the state machine, then the new one starts.
        await CreateScheduleAsync(EveryMinuteWorkflow("replacer", "one-step", OverlapPolicy.Replace) with { StartAt = Time.GetUtcNow() });
        var running = await LeaseOneAsync(worker, "flows");
        Assert.Equal(second.Workflow.Steps[0].JobId, running.Job.Id);
        var old = Assert.Single(Assert.Single(await FirePassAsync()).Runs).Workflow!;
        Time.Advance(TimeSpan.FromMinutes(1));
        var replacing = Assert.Single(await FirePassAsync());
        var replaced = Assert.Single(replacing.Runs);
        Assert.Equal(old.Id, replaced.Replaced);
        var cancel = Assert.Single(replacing.Cancelled);
        Assert.Equal((old.Steps[0].JobId, JobState.Cancelled), (cancel.JobId, cancel.To));
        Assert.Equal(WorkflowState.Cancelled, (await Store.Workflows.GetAsync(new WorkflowParams(OrgA, old.Id), None))!.State);
        Assert.Equal(WorkflowState.Running, replaced.Workflow!.State);
        // The instance of the deleted schedule is not the replacer's previous run: it still runs.
        Assert.Equal(WorkflowState.Running, (await Store.Workflows.GetAsync(new WorkflowParams(OrgA, second.Workflow.Id), None))!.State);
    }

    [SkippableFact]
    public async Task A_workflow_schedule_whose_template_is_gone_records_a_skipped_run_and_goes_on()
    {
        // The API refuses such a schedule; a delete that raced with its creation leaves one.
        var s = await CreateScheduleAsync(EveryMinuteWorkflow("orphan", "ghost"));
        var firing = Assert.Single(await FirePassAsync());
        var run = Assert.Single(firing.Runs);
        Assert.True(run.Skipped);
        Assert.Equal((ScheduleFirings.SkippedForMissingTemplate, (Workflow?)null), (run.SkipReason, run.Workflow));
        Assert.Equal(Start.AddMinutes(1), firing.NextFireAt);
        Assert.Empty((await Store.Workflows.ListAsync(new ListWorkflowsParams(OrgA), None)).Items);
        Assert.True(Assert.Single((await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name), None))!.Items).Skipped);
        // A manual trigger writes nothing.
        Assert.Null(await Store.Schedules.TriggerAsync(new ScheduleParams(OrgA, s.Name), None));
        Assert.Single((await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name), None))!.Items);

        // Once the template exists, the next fire time makes an instance.
        await PutTemplateAsync("ghost", TemplateStep("a"));
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.NotNull(Assert.Single(Assert.Single(await FirePassAsync()).Runs).Workflow);
    }

    /// <summary>Templates compared by value (their steps are lists).</summary>
    private sealed class TemplateComparer : IEqualityComparer<WorkflowTemplate?>
    {
        public static readonly TemplateComparer Instance = new();

        public bool Equals(WorkflowTemplate? x, WorkflowTemplate? y) =>
            x is not null && y is not null && x with { Steps = [] } == y with { Steps = [] } &&
            WorkflowTemplate.StepsJson(x.Steps) == WorkflowTemplate.StepsJson(y.Steps);

        public int GetHashCode(WorkflowTemplate? obj) => obj?.Name.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
