using System.Collections.Concurrent;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

public sealed partial class PostgresNodeTests
{
    /// <summary>
    /// Two nodes that both believe they lead (the advisory lock is not what keeps firings apart: the schedule row lock and
    /// the unique run per fire time are) fire the same schedules at the same moments: every fire time makes one job.
    /// </summary>
    [SkippableFact]
    public async Task Two_nodes_firing_the_same_schedules_make_one_job_per_fire_time()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var names = Enumerable.Range(0, 4).Select(i => $"every-second-{i}").ToList();
        foreach (var name in names)
        {
            Assert.NotNull(await a.Schedules.CreateAsync(new CreateScheduleParams(Org, new ScheduleDefinition
            {
                Name = name,
                EveryMs = 1_000,
                Job = new JobTemplate { Queue = "ticks", Type = name },
                CatchUp = CatchUpPolicy.All,
            }), None));
        }
        var fired = new ConcurrentBag<(string Name, DateTimeOffset FireTime)>();
        for (var tick = 0; tick < 10; tick++)
        {
            // Some ticks are 2 s apart, so a firing handles two fire times at once.
            _time.Advance(TimeSpan.FromMilliseconds(tick % 3 == 2 ? 2_000 : 1_000));
            var passes = new[] { a, b, a, b }.Select(node => Task.Run(async () =>
            {
                foreach (var due in await node.Schedules.ListDueAsync(new ListDueSchedulesParams(), None))
                {
                    if (await node.Schedules.FireAsync(new FireScheduleParams(due.OrganizationId, due.ScheduleId), None) is not { } f) continue;
                    foreach (var run in f.Runs) fired.Add((f.Name, run.FireTime));
                }
            }));
            await Task.WhenAll(passes).WaitAsync(Patience);
        }
        var jobs = await a.Jobs.ListAsync(new ListJobsParams(Org) { Queue = "ticks", Limit = 500 }, None);
        Assert.Equal(fired.Count, jobs.Items.Count);
        Assert.Equal(fired.Count, fired.Distinct().Count());
        foreach (var name in names)
        {
            var times = fired.Where(f => f.Name == name).Select(f => f.FireTime).Order().ToList();
            // Every second from the start through the last tick, each once: nothing doubled, nothing skipped.
            Assert.Equal(Enumerable.Range(0, times.Count).Select(i => times[0].AddSeconds(i)), times);
            Assert.Equal(_time.GetUtcNow(), times[^1]);
        }
    }

    /// <summary>
    /// The same with schedules whose template is a workflow: two nodes firing at the same moments make one workflow
    /// instance per fire time (no second instance, none without its run).
    /// </summary>
    [SkippableFact]
    public async Task Two_nodes_firing_the_same_workflow_schedules_make_one_instance_per_fire_time()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        await a.WorkflowTemplates.PutAsync(new PutWorkflowTemplateParams(Org, "pair", [
            new Kairos.Core.Workflows.WorkflowTemplateStep { Id = "first", Job = new JobTemplate { Queue = "flows", Type = "first" } },
            new Kairos.Core.Workflows.WorkflowTemplateStep { Id = "second", Job = new JobTemplate { Queue = "flows", Type = "second" }, DependsOn = ["first"] },
        ]), None);
        var names = Enumerable.Range(0, 3).Select(i => $"flow-{i}").ToList();
        foreach (var name in names)
        {
            Assert.NotNull(await a.Schedules.CreateAsync(new CreateScheduleParams(Org, new ScheduleDefinition
            {
                Name = name, EveryMs = 1_000, Workflow = "pair", CatchUp = CatchUpPolicy.All,
            }), None));
        }
        var fired = new ConcurrentBag<(string Name, DateTimeOffset FireTime, Guid Workflow)>();
        for (var tick = 0; tick < 8; tick++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(tick % 3 == 2 ? 2_000 : 1_000));
            var passes = new[] { a, b, a, b }.Select(node => Task.Run(async () =>
            {
                foreach (var due in await node.Schedules.ListDueAsync(new ListDueSchedulesParams(), None))
                {
                    if (await node.Schedules.FireAsync(new FireScheduleParams(due.OrganizationId, due.ScheduleId), None) is not { } f) continue;
                    foreach (var run in f.Runs) fired.Add((f.Name, run.FireTime, run.Workflow!.Id));
                }
            }));
            await Task.WhenAll(passes).WaitAsync(Patience);
        }
        var instances = await a.Workflows.ListAsync(new ListWorkflowsParams(Org) { Name = "pair", Limit = 500 }, None);
        Assert.Equal(fired.Count, instances.Items.Count);
        Assert.Equal(fired.Select(f => f.Workflow).Order(), instances.Items.Select(w => w.Id).Order());
        Assert.Equal(fired.Count, fired.Select(f => (f.Name, f.FireTime)).Distinct().Count());
        foreach (var name in names)
        {
            var times = fired.Where(f => f.Name == name).Select(f => f.FireTime).Order().ToList();
            Assert.Equal(Enumerable.Range(0, times.Count).Select(i => times[0].AddSeconds(i)), times);
        }
        var jobs = await a.Jobs.ListAsync(new ListJobsParams(Org) { Queue = "flows", Limit = 500 }, None);
        Assert.Equal(2 * fired.Count, jobs.Items.Count);
    }
}
