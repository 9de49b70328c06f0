using System.Net;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Core.Events;
using Kairos.Core.Schedules;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>/api/v1/workflow-templates, and schedules whose template is a workflow.</summary>
public sealed class WorkflowTemplatesApiTests() : ApiTest(fakeTime: true)
{
    private static object Step(string id, params string[] dependsOn) =>
        new { id, job = new { queue = "tpl", type = "tpl." + id, payload = new { step = id } }, depends_on = dependsOn };

    private static readonly object[] Diamond = [Step("a"), Step("b", "a"), Step("c", "a"), Step("d", "b", "c")];

    private Task<HttpResponseMessage> PutAsync(string name, object body) => Admin.PutJsonAsync($"/api/v1/workflow-templates/{name}", body);

    private static string? Opt(JsonElement e, string name) => e.GetProperty(name).GetString();

    private static IEnumerable<string?> StepIds(JsonElement e) => e.GetProperty("steps").EnumerateArray().Select(s => s.Str("id"));

    [Fact]
    public async Task Put_checks_the_steps_naming_them_and_a_run_copies_the_template_so_later_changes_do_not_reach_it()
    {
        var cycle = await PutAsync("etl", new { steps = new[] { Step("a", "b"), Step("b", "a") } }).ExpectProblem(HttpStatusCode.UnprocessableEntity, "steps");
        Assert.Contains("cycle", cycle.ToString(), StringComparison.Ordinal);
        await PutAsync("etl", new { steps = new[] { Step("a"), Step("b", "nope") } }).ExpectProblem(HttpStatusCode.UnprocessableEntity, "steps[1].depends_on");
        await PutAsync("etl", new { steps = new[] { new { id = "a", job = new { queue = "tpl" } } } }).ExpectProblem(HttpStatusCode.BadRequest, "steps[0].job.type");
        await PutAsync("etl", new { name = "other", steps = Diamond }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await PutAsync("etl", new { }).ExpectProblem(HttpStatusCode.BadRequest, "steps");
        await PutAsync("bad%20name", new { steps = Diamond }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await Admin.GetAsync("/api/v1/workflow-templates/etl").ExpectProblem(HttpStatusCode.NotFound);

        var created = await PutAsync("etl", new { steps = Diamond }).Expect(HttpStatusCode.Created);
        Assert.Equal(["a", "b", "c", "d"], StepIds(created));
        Assert.Equal(["b", "c"], created.GetProperty("steps")[3].GetProperty("depends_on").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("tpl.d", created.GetProperty("steps")[3].GetProperty("job").Str("type"));
        Assert.Equal(JsonValueKind.Null, created.GetProperty("managed_by").ValueKind);
        Assert.Equal(4, created.GetProperty("edges").GetArrayLength());
        await PutAsync("etl", new { name = "etl", steps = Diamond }).Expect(HttpStatusCode.OK);
        Assert.Equal(["etl"], (await Admin.GetAsync("/api/v1/workflow-templates").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(t => t.Str("name")));

        var run = await Admin.PostAsync("/api/v1/workflow-templates/etl/run", null).Expect(HttpStatusCode.Created);
        Assert.Equal(("etl", "running", 4), (run.Str("name"), run.Str("state"), run.GetProperty("steps_total").GetInt32()));
        Assert.Equal(["queued", "pending", "pending", "pending"], run.GetProperty("steps").EnumerateArray().Select(s => s.Str("state")));

        // The template changes; the instance keeps the steps it was made with, the next run has the new ones.
        await PutAsync("etl", new { steps = new[] { Step("only") } }).Expect(HttpStatusCode.OK);
        Assert.Equal(["a", "b", "c", "d"], StepIds(await Admin.GetAsync($"/api/v1/workflows/{run.Str("id")}").Expect(HttpStatusCode.OK)));
        var second = await Admin.PostAsync("/api/v1/workflow-templates/etl/run", null).Expect(HttpStatusCode.Created);
        Assert.Equal(["only"], StepIds(second));
        await Admin.PostAsync("/api/v1/workflow-templates/nope/run", null).ExpectProblem(HttpStatusCode.NotFound);

        await Admin.DeleteAsync("/api/v1/workflow-templates/etl").Expect(HttpStatusCode.NoContent);
        await Admin.GetAsync("/api/v1/workflow-templates/etl").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("/api/v1/workflow-templates/etl").ExpectProblem(HttpStatusCode.NotFound);
        // Deleting the template left its instances alone.
        Assert.Equal("running", (await Admin.GetAsync($"/api/v1/workflows/{run.Str("id")}").Expect(HttpStatusCode.OK)).Str("state"));
    }

    [Fact]
    public async Task A_schedule_whose_template_is_a_workflow_fires_instances_and_its_runs_show_them()
    {
        await Admin.PutJsonAsync("/api/v1/schedules/flow", new { cron = "* * * * *", workflow = "etl" }).ExpectProblem(HttpStatusCode.BadRequest, "workflow");
        await PutAsync("etl", new { steps = new[] { Step("a"), Step("b", "a") } }).Expect(HttpStatusCode.Created);
        await Admin.PutJsonAsync("/api/v1/schedules/flow", new { cron = "* * * * *", workflow = "etl", job = new { queue = "q", type = "t" } })
            .ExpectProblem(HttpStatusCode.BadRequest, "workflow");
        await Admin.PutJsonAsync("/api/v1/schedules/flow", new { cron = "* * * * *", workflow = "etl", jitter_ms = 1000 }).ExpectProblem(HttpStatusCode.BadRequest, "jitter_ms");
        await Admin.GetAsync("/api/v1/schedules/flow").ExpectProblem(HttpStatusCode.NotFound);

        using var sub = Factory.Services.GetRequiredService<EventBus>().Subscribe(Organizations.Default);
        using var deadline = Deadline(30);
        var s = await Admin.PutJsonAsync("/api/v1/schedules/flow", new { cron = "* * * * *", workflow = "etl", overlap = "skip" }).Expect(HttpStatusCode.Created);
        Assert.Equal(("etl", JsonValueKind.Null), (s.Str("workflow"), s.GetProperty("job").ValueKind));

        // A manual run makes an instance at once.
        var triggered = await Admin.PostAsync("/api/v1/schedules/flow/trigger", null).Expect(HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, triggered.GetProperty("job").ValueKind);
        var manual = triggered.GetProperty("workflow");
        Assert.Equal(("etl", s.Str("id")), (manual.Str("name"), manual.Str("schedule_id")));
        var firedManually = (ScheduleFiredData)(await NextEventAsync(sub, "schedule.fired", deadline.Token)).Data;
        Assert.Equal((manual.Str("id"), (Guid?)null, true), (firedManually.WorkflowId.ToString(), firedManually.JobId, firedManually.Manual));

        // The manual instance is unfinished: overlap skip skips the fire time. Finish it; the next fire time makes one.
        Time.Advance(TimeSpan.FromMinutes(1));
        var skipped = (ScheduleSkippedData)(await NextEventAsync(sub, "schedule.skipped", deadline.Token)).Data;
        Assert.Equal("overlap", skipped.Reason);
        var worker = await RegisterWorkerAsync(null, "tpl");
        foreach (var step in new[] { "a", "b" })
        {
            var fetched = Assert.Single(await FetchAsync(worker, "tpl"));
            Assert.Equal(step, fetched.Str("workflow_step"));
            await Admin.PostJsonAsync($"/api/v1/jobs/{fetched.Str("id")}/ack", new { lease_token = fetched.Str("lease_token") }).Expect(HttpStatusCode.OK);
        }
        Time.Advance(TimeSpan.FromMinutes(1));
        var fired = (ScheduleFiredData)(await NextEventAsync(sub, "schedule.fired", deadline.Token)).Data;
        Assert.False(fired.Manual);
        var instance = await Admin.GetAsync($"/api/v1/workflows/{fired.WorkflowId}").Expect(HttpStatusCode.OK);
        Assert.Equal(("running", s.Str("id")), (instance.Str("state"), instance.Str("schedule_id")));

        var runs = (await Admin.GetAsync("/api/v1/schedules/flow/runs").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([fired.WorkflowId.ToString(), null, manual.Str("id")], runs.Select(r => Opt(r, "workflow_id")));
        Assert.Equal(["schedule", "schedule", "manual"], runs.Select(r => r.Str("trigger")));
        Assert.Equal([null, "skipped", "succeeded"], runs.Select(r => Opt(r, "outcome")));
        Assert.Equal(["running", null, "succeeded"], runs.Select(r => Opt(r, "state")));
        Assert.All(runs, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("job_id").ValueKind));
        Assert.Equal(fired.WorkflowId.ToString(), (await Admin.GetAsync("/api/v1/schedules/flow").Expect(HttpStatusCode.OK)).Str("last_workflow_id"));

        // The template cannot go while the schedule starts it; a patch keeps the workflow template.
        var refused = await Admin.DeleteAsync("/api/v1/workflow-templates/etl").ExpectProblem(HttpStatusCode.Conflict);
        Assert.Contains("'flow'", refused.Str("detail"), StringComparison.Ordinal);
        var patched = await Admin.PatchJsonAsync("/api/v1/schedules/flow", new { overlap = "replace" }).Expect(HttpStatusCode.OK);
        Assert.Equal(("etl", "replace"), (patched.Str("workflow"), patched.Str("overlap")));
        await Admin.DeleteAsync("/api/v1/schedules/flow").Expect(HttpStatusCode.NoContent);
        await Admin.DeleteAsync("/api/v1/workflow-templates/etl").Expect(HttpStatusCode.NoContent);
    }
}
