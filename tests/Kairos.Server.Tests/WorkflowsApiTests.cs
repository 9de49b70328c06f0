using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Core.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>/api/v1/workflows with workers on the worker protocol: DAGs run in order, parents' results reach children, failures, cancel, retry.</summary>
public sealed class WorkflowsApiTests() : ApiTest(fakeTime: true)
{
    private static object StepBody(string id, string[]? dependsOn = null, bool? continueOnFailure = null, object? payload = null) => new
    {
        id,
        job = new { queue = "wf", type = "step." + id, payload = payload ?? new { step = id } },
        depends_on = dependsOn,
        continue_on_failure = continueOnFailure,
    };

    private Task<JsonElement> CreateAsync(string name, params object[] steps) =>
        Admin.PostJsonAsync("/api/v1/workflows", new { name, steps }).Expect(HttpStatusCode.Created);

    private Task<JsonElement> GetAsync(string id) => Admin.GetAsync($"/api/v1/workflows/{id}").Expect(HttpStatusCode.OK);

    private static JsonElement StepOf(JsonElement workflow, string id) => workflow.GetProperty("steps").EnumerateArray().Single(s => s.Str("id") == id);

    private async Task AckAsync(JsonElement fetched, object? result = null) =>
        await Admin.PostJsonAsync($"/api/v1/jobs/{fetched.Str("id")}/ack", new { lease_token = fetched.Str("lease_token"), result = result ?? new { ok = true } })
            .Expect(HttpStatusCode.OK);

    private EventBus.Subscription Subscribe() => Factory.Services.GetRequiredService<EventBus>().Subscribe(Organizations.Default);

    [Fact]
    public async Task A_diamond_runs_in_order_and_each_step_gets_its_parents_results_at_fetch()
    {
        using var events = Subscribe();
        var w = await CreateAsync("diamond", StepBody("a"), StepBody("b", ["a"]), StepBody("c", ["a"]), StepBody("d", ["b", "c"]));
        var id = w.Str("id");
        Assert.Equal("running", w.Str("state"));
        Assert.Equal(4, w.GetProperty("steps_total").GetInt32());
        Assert.Equal("queued", StepOf(w, "a").Str("state"));
        Assert.Equal("pending", StepOf(w, "d").Str("state"));
        Assert.Equal(["b", "c"], StepOf(w, "d").GetProperty("depends_on").EnumerateArray().Select(e => e.GetString()));
        var edges = w.GetProperty("edges").EnumerateArray().Select(e => $"{e.Str("from")}->{e.Str("to")}").Order();
        Assert.Equal(["a->b", "a->c", "b->d", "c->d"], edges);
        Assert.Equal(1, w.GetProperty("step_states").GetProperty("queued").GetInt32());
        Assert.Equal(3, w.GetProperty("step_states").GetProperty("pending").GetInt32());
        // The step's job says where it belongs.
        var job = await GetJobAsync(StepOf(w, "d").Str("job_id"));
        Assert.Equal(id, job.Str("workflow_id"));
        Assert.Equal("d", job.Str("workflow_step"));

        var worker = await RegisterWorkerAsync(null, "wf");
        var a = Assert.Single(await FetchAsync(worker, "wf"));
        Assert.Equal("a", a.Str("workflow_step"));
        Assert.Equal(id, a.Str("workflow_id"));
        Assert.Empty(a.GetProperty("parents").EnumerateObject());
        await AckAsync(a, new { rows = 42 });

        var bc = await FetchAsync(worker, "wf");
        Assert.Equal(["b", "c"], bc.Select(j => j.Str("workflow_step")).Order());
        var parent = bc[0].GetProperty("parents").GetProperty("a");
        Assert.Equal(StepOf(w, "a").Str("job_id"), parent.Str("job_id"));
        Assert.Equal("succeeded", parent.Str("state"));
        Assert.Equal(42, parent.GetProperty("result").GetProperty("rows").GetInt32());
        await AckAsync(bc[0], new { from = bc[0].Str("workflow_step") });
        Assert.Equal("pending", StepOf(await GetAsync(id), "d").Str("state"));
        await AckAsync(bc[1], new { from = bc[1].Str("workflow_step") });

        var d = Assert.Single(await FetchAsync(worker, "wf"));
        Assert.Equal("d", d.Str("workflow_step"));
        Assert.Equal("b", d.GetProperty("parents").GetProperty("b").GetProperty("result").Str("from"));
        Assert.Equal("c", d.GetProperty("parents").GetProperty("c").GetProperty("result").Str("from"));
        await AckAsync(d);

        w = await GetAsync(id);
        Assert.Equal("succeeded", w.Str("state"));
        Assert.Equal(42, StepOf(w, "a").GetProperty("result").GetProperty("rows").GetInt32());
        Assert.NotNull(w.Str("finished_at"));
        var list = await Admin.GetAsync("/api/v1/workflows?state=succeeded&name=diamond").Expect(HttpStatusCode.OK);
        var listed = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(id, listed.Str("id"));
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("steps").ValueKind);
        Assert.Empty((await Admin.GetAsync("/api/v1/workflows?state=running").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        while (!seen.Contains("workflow.succeeded"))
        {
            var e = await events.Reader.ReadAsync(timeout.Token);
            if (e.Type.StartsWith("workflow.", StringComparison.Ordinal)) seen.Add(e.Type);
        }
        Assert.Equal(["workflow.created", "workflow.succeeded"], seen);
    }

    [Fact]
    public async Task A_cycle_an_unknown_parent_or_a_duplicate_id_is_refused_with_the_steps_named_and_nothing_is_created()
    {
        var cycle = await Admin.PostJsonAsync("/api/v1/workflows", new { name = "bad", steps = new[] { StepBody("a", ["c"]), StepBody("b", ["a"]), StepBody("c", ["b"]) } })
            .ExpectProblem(HttpStatusCode.UnprocessableEntity, "steps");
        var message = cycle.GetProperty("errors").GetProperty("steps")[0].GetString()!;
        Assert.Contains("cycle", message, StringComparison.Ordinal);
        Assert.Contains("a → b → c → a", message.Replace("b → c → a → b", "a → b → c → a", StringComparison.Ordinal).Replace("c → a → b → c", "a → b → c → a", StringComparison.Ordinal), StringComparison.Ordinal);

        var unknown = await Admin.PostJsonAsync("/api/v1/workflows", new { name = "bad", steps = new[] { StepBody("a"), StepBody("b", ["ghost"]) } })
            .ExpectProblem(HttpStatusCode.UnprocessableEntity, "steps[1].depends_on");
        Assert.Contains("\"ghost\"", unknown.GetProperty("errors").GetProperty("steps[1].depends_on")[0].GetString(), StringComparison.Ordinal);

        await Admin.PostJsonAsync("/api/v1/workflows", new { name = "bad", steps = new[] { StepBody("a"), StepBody("a") } })
            .ExpectProblem(HttpStatusCode.UnprocessableEntity, "steps[1].id");
        await Admin.PostJsonAsync("/api/v1/workflows", new { name = "bad", steps = new[] { StepBody("a", ["a"]) } })
            .ExpectProblem(HttpStatusCode.UnprocessableEntity, "steps[0].depends_on");
        // Plain field errors are 400.
        await Admin.PostJsonAsync("/api/v1/workflows", new { name = "bad", steps = new object[] { new { id = "a", job = new { queue = "wf" } } } })
            .ExpectProblem(HttpStatusCode.BadRequest, "steps[0].job.type");
        await Admin.PostJsonAsync("/api/v1/workflows", new { steps = Array.Empty<object>() }).ExpectProblem(HttpStatusCode.BadRequest, "name", "steps");
        await Admin.PostJsonAsync("/api/v1/workflows", new { name = "big", steps = new[] { StepBody("a", payload: new { blob = new string('x', 2_000_000) }) } })
            .ExpectProblem(HttpStatusCode.RequestEntityTooLarge);

        Assert.Empty((await Admin.GetAsync("/api/v1/workflows").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Empty((await Admin.GetAsync("/api/v1/jobs?queue=wf").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        await Admin.GetAsync("/api/v1/workflows?state=sideways").ExpectProblem(HttpStatusCode.BadRequest, "state");
        await Admin.GetAsync("/api/v1/workflows?cursor=bogus").ExpectProblem(HttpStatusCode.BadRequest, "cursor");
        await Admin.GetAsync($"/api/v1/workflows/{Guid.NewGuid()}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/workflows/not-an-id").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/workflows/{Guid.NewGuid()}/cancel", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/workflows/{Guid.NewGuid()}/retry", null).ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_failed_step_cancels_its_descendants_unless_it_continues_on_failure_and_retry_reruns_only_what_did_not_succeed()
    {
        using var events = Subscribe();
        var w = await CreateAsync("etl", StepBody("extract"), StepBody("lint", continueOnFailure: true), StepBody("load", ["extract", "lint"]),
            StepBody("report", ["load"]));
        var id = w.Str("id");
        var worker = await RegisterWorkerAsync(null, "wf");
        var roots = await FetchAsync(worker, "wf");
        var extract = roots.Single(j => j.Str("workflow_step") == "extract");
        var lint = roots.Single(j => j.Str("workflow_step") == "lint");
        // lint fails but continues on failure; extract succeeds: load starts.
        await Admin.PostJsonAsync($"/api/v1/jobs/{lint.Str("id")}/fail", new { lease_token = lint.Str("lease_token"), error = new { message = "style" }, retryable = false })
            .Expect(HttpStatusCode.OK);
        await AckAsync(extract, new { rows = 7 });
        var load = Assert.Single(await FetchAsync(worker, "wf"));
        Assert.Equal("failed", load.GetProperty("parents").GetProperty("lint").Str("state"));
        // load fails for good: report is cancelled, the workflow fails.
        await Admin.PostJsonAsync($"/api/v1/jobs/{load.Str("id")}/fail", new { lease_token = load.Str("lease_token"), error = new { message = "disk full" }, retryable = false })
            .Expect(HttpStatusCode.OK);
        w = await GetAsync(id);
        Assert.Equal("failed", w.Str("state"));
        Assert.Equal("cancelled", StepOf(w, "report").Str("state"));
        Assert.Equal("disk full", StepOf(w, "load").GetProperty("last_error").Str("message"));

        // A step is retried with its workflow, not alone.
        await Admin.PostAsync($"/api/v1/jobs/{load.Str("id")}/retry", null).ExpectProblem(HttpStatusCode.Conflict);
        var retried = await Admin.PostAsync($"/api/v1/workflows/{id}/retry", null).Expect(HttpStatusCode.OK);
        Assert.Equal("running", retried.Str("state"));
        Assert.Equal("succeeded", StepOf(retried, "extract").Str("state"));
        Assert.Equal("queued", StepOf(retried, "lint").Str("state"));
        Assert.Equal("pending", StepOf(retried, "load").Str("state"));
        Assert.Equal("pending", StepOf(retried, "report").Str("state"));
        await Admin.PostAsync($"/api/v1/workflows/{id}/retry", null).ExpectProblem(HttpStatusCode.Conflict);

        // This time everything goes through; extract is not run again.
        foreach (var step in new[] { "lint", "load", "report" })
        {
            var next = Assert.Single(await FetchAsync(worker, "wf"));
            Assert.Equal(step, next.Str("workflow_step"));
            await AckAsync(next);
        }
        w = await GetAsync(id);
        Assert.Equal("succeeded", w.Str("state"));
        Assert.Equal(1, StepOf(w, "extract").GetProperty("attempt").GetInt32());
        Assert.Equal(2, StepOf(w, "load").GetProperty("attempt").GetInt32());
        await Admin.PostAsync($"/api/v1/workflows/{id}/retry", null).ExpectProblem(HttpStatusCode.Conflict);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        while (!seen.Contains("workflow.succeeded"))
        {
            var e = await events.Reader.ReadAsync(timeout.Token);
            if (e.Type.StartsWith("workflow.", StringComparison.Ordinal)) seen.Add(e.Type);
        }
        Assert.Equal(["workflow.created", "workflow.failed", "workflow.retried", "workflow.succeeded"], seen);
    }

    [Fact]
    public async Task Cancel_stops_the_waiting_steps_and_reaches_the_running_one_through_its_heartbeat()
    {
        var w = await CreateAsync("stop", StepBody("a"), StepBody("b", ["a"]));
        var id = w.Str("id");
        var worker = await RegisterWorkerAsync(null, "wf");
        var a = Assert.Single(await FetchAsync(worker, "wf"));
        var cancelled = await Admin.PostAsync($"/api/v1/workflows/{id}/cancel", null).Expect(HttpStatusCode.OK);
        Assert.True(cancelled.GetProperty("cancel_requested").GetBoolean());
        Assert.Equal("running", cancelled.Str("state"));
        Assert.Equal("cancelled", StepOf(cancelled, "b").Str("state"));
        Assert.True(StepOf(cancelled, "a").GetProperty("cancel_requested").GetBoolean());
        var beat = await Admin.PostJsonAsync($"/api/v1/jobs/{a.Str("id")}/heartbeat", new { lease_token = a.Str("lease_token") }).Expect(HttpStatusCode.OK);
        Assert.True(beat.GetProperty("cancel_requested").GetBoolean());
        await Admin.PostJsonAsync($"/api/v1/jobs/{a.Str("id")}/fail", new { lease_token = a.Str("lease_token"), error = new { message = "cancelled" } }).Expect(HttpStatusCode.OK);
        Assert.Equal("cancelled", (await GetAsync(id)).Str("state"));
        await Admin.PostAsync($"/api/v1/workflows/{id}/cancel", null).ExpectProblem(HttpStatusCode.Conflict);
        // A cancelled workflow can be retried.
        var retried = await Admin.PostAsync($"/api/v1/workflows/{id}/retry", null).Expect(HttpStatusCode.OK);
        Assert.Equal("queued", StepOf(retried, "a").Str("state"));
        Assert.False(retried.GetProperty("cancel_requested").GetBoolean());
    }

    [Fact]
    public async Task Fan_out_of_a_thousand_steps_joins_once_with_several_workers_acking_in_batches_at_once()
    {
        const int width = 1000;
        var steps = new List<object> { StepBody("split") };
        steps.AddRange(Enumerable.Range(0, width).Select(i => StepBody($"part-{i}", ["split"])));
        steps.Add(StepBody("join", [.. Enumerable.Range(0, width).Select(i => $"part-{i}")]));
        var w = await CreateAsync("fan", [.. steps]);
        var worker = await RegisterWorkerAsync(null, "wf");
        await AckAsync(Assert.Single(await FetchAsync(worker, "wf")));

        var parts = new List<JsonElement>();
        while (parts.Count < width) parts.AddRange(await FetchAsync(worker, "wf", max: 1000, leaseMs: 600_000));
        Assert.Equal(width, parts.Count);
        const int ackers = 6;
        await Task.WhenAll(Enumerable.Range(0, ackers).Select(k => Task.Run(async () =>
        {
            foreach (var batch in parts.Where((_, i) => i % ackers == k).Chunk(50))
            {
                var answer = await Admin.PostJsonAsync("/api/v1/ack", new { acks = batch.Select(j => new { id = j.Str("id"), lease_token = j.Str("lease_token"), result = new { part = j.Str("workflow_step") } }) })
                    .Expect(HttpStatusCode.OK);
                Assert.All(answer.GetProperty("results").EnumerateArray(), r => Assert.Equal("ok", r.Str("status")));
            }
        }))).WaitAsync(TimeSpan.FromSeconds(120));

        var join = Assert.Single(await FetchAsync(worker, "wf", max: 10));
        Assert.Equal("join", join.Str("workflow_step"));
        Assert.Equal(width, join.GetProperty("parents").EnumerateObject().Count());
        Assert.Equal("part-7", join.GetProperty("parents").GetProperty("part-7").GetProperty("result").Str("part"));
        Assert.Empty(await FetchAsync(worker, "wf"));
        await AckAsync(join);
        var done = await GetAsync(w.Str("id"));
        Assert.Equal("succeeded", done.Str("state"));
        Assert.Equal(width + 2, done.GetProperty("step_states").GetProperty("succeeded").GetInt32());
    }
}
