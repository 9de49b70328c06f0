using System.Collections.Concurrent;
using System.Net;
using Kairos.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Kairos.Client.Tests;

/// <summary>Workflows through the SDK against the real server: the builder, the client's calls, and parents' results in the worker host.</summary>
[Collection(ServerCollection.Name)]
public sealed class WorkflowClientTests(ServerFixture server, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly KairosClient _client = server.Client();
    private readonly string _queue = "wf-" + Guid.NewGuid().ToString("N")[..12];
    private readonly Probe _probe = new();
    private IHost? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
        _client.Dispose();
    }

    public sealed record Number(int Value);
    public sealed record Total(int Value, string From);

    /// <summary>What the join saw of its parents.</summary>
    public sealed class Probe
    {
        public ConcurrentQueue<(string? Step, IReadOnlyDictionary<string, WorkflowParent> Parents, Total? Left, Total? Right)> Joins { get; } = new();
        public ConcurrentQueue<(string? Step, int Parents)> Roots { get; } = new();
    }

    /// <summary>The root: its payload's number.</summary>
    public sealed class SourceHandler(Probe probe) : IJobHandler<Number, Total>
    {
        public Task<Total> HandleAsync(Number payload, JobContext context)
        {
            probe.Roots.Enqueue((context.WorkflowStep, context.Parents.Count));
            return Task.FromResult(new Total(payload.Value, context.WorkflowStep!));
        }
    }

    /// <summary>A middle step: its parent's number times its payload's.</summary>
    public sealed class ScaleHandler : IJobHandler<Number, Total>
    {
        public Task<Total> HandleAsync(Number payload, JobContext context) =>
            Task.FromResult(new Total(context.ParentResult<Total>("source")!.Value * payload.Value, context.WorkflowStep!));
    }

    /// <summary>The join: the sum of both parents' numbers.</summary>
    public sealed class JoinHandler(Probe probe) : IJobHandler<Number, Total>
    {
        public Task<Total> HandleAsync(Number payload, JobContext context)
        {
            var left = context.Parents["left"].ResultAs<Total>();
            var right = context.ParentResult<Total>("right");
            probe.Joins.Enqueue((context.WorkflowStep, context.Parents, left, right));
            return Task.FromResult(new Total(left!.Value + right!.Value, context.WorkflowStep!));
        }
    }

    private async Task StartWorkerAsync()
    {
        _host = server.WorkerHost(output, o => o.AddQueue(_queue, 4),
            b => b.AddHandler<SourceHandler, Number, Total>("wf.source").AddHandler<ScaleHandler, Number, Total>("wf.scale")
                .AddHandler<JoinHandler, Number, Total>("wf.join"),
            s => s.AddSingleton(_probe));
        await _host.StartAsync();
        await _host.Services.GetRequiredService<KairosWorker>().Started.Within(Timeout, "the worker registers");
    }

    private WorkflowBuilder Diamond(string name)
    {
        var on = new EnqueueOptions { Queue = _queue };
        return new WorkflowBuilder(name)
            .Step("source", "wf.source", new Number(5), on)
            .Step("left", "wf.scale", new Number(2), on).DependsOn("source")
            .Step("right", "wf.scale", new Number(3), on).DependsOn("source")
            .Step("join", "wf.join", new Number(0), on).DependsOn("left", "right");
    }

    private Task<Workflow> WaitForState(Guid id, string state) =>
        Eventually.WaitAsync(() => _client.GetWorkflowAsync(id), w => w.State == state, Timeout, $"workflow {id} becomes {state}");

    [Fact]
    public async Task A_diamond_built_with_the_builder_runs_through_the_worker_host_and_the_join_sees_both_parents_results()
    {
        await StartWorkerAsync();
        var created = await _client.CreateWorkflowAsync(Diamond("diamond"));
        Assert.Equal(WorkflowStates.Running, created.State);
        Assert.Equal(4, created.StepsTotal);
        Assert.Equal(JobStates.Queued, created.Step("source").State);
        Assert.Equal(JobStates.Pending, created.Step("join").State);
        Assert.Equal(["left", "right"], created.Step("join").DependsOn);

        var done = await WaitForState(created.Id, WorkflowStates.Succeeded);

        Assert.Equal(new Total(5 * 2 + 5 * 3, "join"), done.Step("join").ResultAs<Total>());
        Assert.Equal(new Total(10, "left"), done.Step("left").ResultAs<Total>());
        var (step, parents, left, right) = Assert.Single(_probe.Joins);
        Assert.Equal("join", step);
        Assert.Equal(["left", "right"], parents.Keys.Order());
        Assert.All(parents.Values, p => Assert.Equal(JobStates.Succeeded, p.State));
        Assert.Equal(done.Step("left").JobId, parents["left"].JobId);
        Assert.Equal(new Total(10, "left"), left);
        Assert.Equal(new Total(15, "right"), right);
        Assert.Equal(("source", 0), Assert.Single(_probe.Roots));
        var job = await _client.GetJobAsync(done.Step("join").JobId);
        Assert.Equal(created.Id, job.WorkflowId);
        Assert.Equal("join", job.WorkflowStep);
    }

    [Fact]
    public async Task Cancel_retry_get_and_list_go_through_the_client()
    {
        // No worker on the queue: the steps wait, so the workflow can be cancelled, then retried.
        var name = "steer-" + Guid.NewGuid().ToString("N")[..8];
        var created = await _client.CreateWorkflowAsync(Diamond(name));

        var cancelled = await _client.CancelWorkflowAsync(created.Id);
        Assert.Equal(WorkflowStates.Cancelled, cancelled.State);
        Assert.All(cancelled.Steps!, s => Assert.Equal(JobStates.Cancelled, s.State));
        var again = await Assert.ThrowsAsync<KairosException>(() => _client.CancelWorkflowAsync(created.Id));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var retried = await _client.RetryWorkflowAsync(created.Id);
        Assert.Equal(WorkflowStates.Running, retried.State);
        Assert.Equal(JobStates.Queued, retried.Step("source").State);
        Assert.Equal(JobStates.Pending, retried.Step("join").State);

        var page = await _client.ListWorkflowsAsync(new WorkflowQuery { Name = name, State = WorkflowStates.Running });
        var listed = Assert.Single(page.Items);
        Assert.Equal(created.Id, listed.Id);
        Assert.Null(listed.Steps);
        var missing = await Assert.ThrowsAsync<KairosException>(() => _client.GetWorkflowAsync(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_definition_with_a_cycle_is_refused_by_the_server_with_422_naming_the_steps()
    {
        var definition = new WorkflowDefinition
        {
            Name = "loop",
            Steps =
            [
                new WorkflowStepDefinition { Id = "a", Job = new ScheduleJobTemplate { Queue = _queue, Type = "t" }, DependsOn = ["b"] },
                new WorkflowStepDefinition { Id = "b", Job = new ScheduleJobTemplate { Queue = _queue, Type = "t" }, DependsOn = ["a"] },
            ],
        };
        var ex = await Assert.ThrowsAsync<KairosException>(() => _client.CreateWorkflowAsync(definition));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ex.StatusCode);
        Assert.Contains("cycle", string.Join(" ", ex.Errors!["steps"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Templates_are_saved_from_the_builder_run_and_started_by_a_schedule_whose_runs_show_the_instances()
    {
        var name = "tpl-" + Guid.NewGuid().ToString("N")[..8];
        var saved = await _client.PutWorkflowTemplateAsync(Diamond(name));
        Assert.Equal(name, saved.Name);
        Assert.Equal(["source", "left", "right", "join"], saved.Steps.Select(s => s.Id));
        Assert.Equal(["left", "right"], saved.Steps[3].DependsOn);
        Assert.Equal(5, saved.Steps[0].Job.Payload!.Value.GetProperty("value").GetInt32());
        Assert.Contains(name, (await _client.ListWorkflowTemplatesAsync(limit: 500)).Items.Select(t => t.Name));

        var run = await _client.RunWorkflowTemplateAsync(name);
        Assert.Equal((name, 4), (run.Name, run.StepsTotal));

        var schedule = await _client.CreateScheduleAsync(new ScheduleDefinition { Name = name, Cron = "0 3 * * *", Workflow = name, Overlap = "replace" });
        Assert.Equal((name, (ScheduleJobTemplate?)null), (schedule.Workflow, schedule.Job));
        var triggered = await _client.TriggerScheduleAsync(name);
        Assert.Null(triggered.Job);
        Assert.Equal((name, schedule.Id), (triggered.Workflow!.Name, triggered.Workflow.ScheduleId));
        var runs = await _client.ListScheduleRunsAsync(name);
        Assert.Equal(triggered.Workflow.Id, Assert.Single(runs.Items).WorkflowId);
        Assert.Equal(WorkflowStates.Running, runs.Items[0].State);
        Assert.Equal(triggered.Workflow.Id, (await _client.GetScheduleAsync(name)).LastWorkflowId);

        var inUse = await Assert.ThrowsAsync<KairosException>(() => _client.DeleteWorkflowTemplateAsync(name));
        Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);
        await _client.DeleteScheduleAsync(name);
        await _client.DeleteWorkflowTemplateAsync(name);
        var gone = await Assert.ThrowsAsync<KairosException>(() => _client.GetWorkflowTemplateAsync(name));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public void The_builder_refuses_bad_ids_duplicates_unknown_parents_and_options_that_do_not_apply()
    {
        var b = new WorkflowBuilder("checks").Step("a", "t");
        Assert.Contains("duplicate", Assert.Throws<ArgumentException>(() => b.Step("a", "t")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => b.Step("-bad", "t"));
        Assert.Throws<ArgumentException>(() => b.Step("has space", "t"));
        b.Step("b", "t");
        // "c" is not added yet: a parent must come first, which is why a built graph cannot have a cycle.
        Assert.Contains("not a step added before it", Assert.Throws<ArgumentException>(() => b.DependsOn("c")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => b.DependsOn("b"));
        Assert.Throws<ArgumentException>(() => b.Step("d", "t", new EnqueueOptions { Delay = TimeSpan.FromMinutes(1) }));
        Assert.Throws<InvalidOperationException>(() => new WorkflowBuilder("empty").DependsOn("a"));
        Assert.Throws<InvalidOperationException>(() => new WorkflowBuilder("empty").Build());

        var built = b.DependsOn("a").ContinueOnFailure().Build(defaultQueue: "q1");
        Assert.Equal(["a", "b"], built.Steps.Select(s => s.Id));
        Assert.Equal(["a"], built.Steps[1].DependsOn!);
        Assert.True(built.Steps[1].ContinueOnFailure);
        Assert.Null(built.Steps[0].ContinueOnFailure);
        Assert.Equal("q1", built.Steps[0].Job.Queue);
    }
}
