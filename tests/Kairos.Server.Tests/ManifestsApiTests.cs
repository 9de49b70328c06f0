using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kairos.Server.Tests;

/// <summary>
/// <c>POST /api/v1/manifests/apply</c> over real HTTP on a real SQLite file: the diff per object, idempotence, dry run,
/// prune, one transaction for the whole set, and the refusal of hand changes to managed objects until unmarked.
/// </summary>
public sealed class ManifestsApiTests : ApiTest
{
    private static object Doc(string kind, string name, object spec) => new { apiVersion = "kairos/v1", kind, metadata = new { name }, spec };

    private static object Queue(string name, int concurrency = 5) => Doc("Queue", name, new { concurrency_limit = concurrency, rate_limit = new { limit = 10, period_ms = 1000 } });

    private static object Schedule(string name, string cron = "0 3 * * *") =>
        Doc("Schedule", name, new { cron, timezone = "Europe/Berlin", job = new { queue = "mail", type = "report.send", payload = new { to = "ops@example.com" }, tags = new[] { "nightly" } } });

    private static object Monitor(string name, string? slug = null) => Doc("Monitor", name, new { slug = slug ?? name, period_seconds = 3600, grace_seconds = 600 });

    private static object Rule(string name) => Doc("AlertRule", name, new { kind = "job_failed", queue = "mail", channels = new[] { "ops" } });

    private Task<JsonElement> ApplyAsync(object[] manifests, bool dryRun = false, bool prune = false, HttpStatusCode status = HttpStatusCode.OK) =>
        Admin.PostJsonAsync("/api/v1/manifests/apply", new { manifests, dry_run = dryRun, prune }).Expect(status);

    private static Dictionary<string, string> Actions(JsonElement result) =>
        result.GetProperty("changes").EnumerateArray().ToDictionary(c => $"{c.Str("kind")}/{c.Str("name")}", c => c.Str("action"));

    private static string[] Fields(JsonElement result, string kind, string name) =>
        [.. result.GetProperty("changes").EnumerateArray().Single(c => c.Str("kind") == kind && c.Str("name") == name).GetProperty("fields").EnumerateArray().Select(f => f.GetString()!)];

    private async Task<string[]> ManagedAsync() =>
        [.. (await Admin.GetAsync("/api/v1/manifests/managed").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(m => $"{m.Str("kind")}/{m.Str("name")}")];

    private Task<JsonElement> ChannelAsync() =>
        Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "ops", kind = "webhook", config = new { url = "https://hooks.example.com/ops" } }).Expect(HttpStatusCode.Created);

    private static object[] AllKinds() => [Queue("mail"), Schedule("nightly"), Monitor("backup"), Rule("mail-failures")];

    [Fact]
    public async Task Apply_creates_every_kind_marks_it_managed_and_a_second_apply_is_all_unchanged()
    {
        await ChannelAsync();
        var first = await ApplyAsync(AllKinds());
        Assert.True(first.GetProperty("applied").GetBoolean());
        Assert.Equal(new Dictionary<string, string>
        {
            ["Queue/mail"] = "create", ["Schedule/nightly"] = "create", ["Monitor/backup"] = "create", ["AlertRule/mail-failures"] = "create",
        }, Actions(first));

        var queue = await Admin.GetAsync("/api/v1/queues/mail").Expect(HttpStatusCode.OK);
        Assert.Equal(5, queue.GetProperty("concurrency_limit").GetInt32());
        Assert.Equal(10, queue.GetProperty("rate_limit").GetProperty("limit").GetInt32());
        var schedule = await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK);
        Assert.Equal("0 3 * * *", schedule.Str("cron"));
        Assert.Equal("Europe/Berlin", schedule.Str("timezone"));
        Assert.Equal("ops@example.com", schedule.GetProperty("job").GetProperty("payload").Str("to"));
        Assert.False(schedule.IsNull("next_fire_at"));
        var monitor = await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK);
        Assert.Equal(600, monitor.GetProperty("grace_seconds").GetInt32());
        Assert.False(string.IsNullOrEmpty(monitor.Str("ping_key")));
        var rule = await Admin.GetAsync("/api/v1/alert-rules/mail-failures").Expect(HttpStatusCode.OK);
        Assert.Equal("job_failed", rule.Str("kind"));
        Assert.Equal(["AlertRule/mail-failures", "Monitor/backup", "Queue/mail", "Schedule/nightly"], (await ManagedAsync()).Order());

        var second = await ApplyAsync(AllKinds());
        Assert.False(second.GetProperty("applied").GetBoolean());
        Assert.All(Actions(second).Values, a => Assert.Equal("unchanged", a));
        Assert.Equal(4, Actions(second).Count);

        // One field changed: an update naming it, the others unchanged.
        var third = await ApplyAsync([Queue("mail"), Schedule("nightly", "30 4 * * 1-5"), Monitor("backup"), Rule("mail-failures")]);
        Assert.Equal("update", Actions(third)["Schedule/nightly"]);
        Assert.Equal(["cron"], Fields(third, "Schedule", "nightly"));
        Assert.Equal("unchanged", Actions(third)["Queue/mail"]);
        Assert.Equal("30 4 * * 1-5", (await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK)).Str("cron"));
        // The monitor kept its ping key through the apply that did not change it.
        Assert.Equal(monitor.Str("ping_key"), (await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK)).Str("ping_key"));
    }

    [Fact]
    public async Task Dry_run_shows_the_diff_and_changes_nothing()
    {
        await ChannelAsync();
        var dry = await ApplyAsync(AllKinds(), dryRun: true);
        Assert.True(dry.GetProperty("dry_run").GetBoolean());
        Assert.False(dry.GetProperty("applied").GetBoolean());
        Assert.All(Actions(dry).Values, a => Assert.Equal("create", a));
        Assert.Contains("cron", Fields(dry, "Schedule", "nightly"));

        await Admin.GetAsync("/api/v1/queues/mail").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/monitors/backup").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/alert-rules/mail-failures").ExpectProblem(HttpStatusCode.NotFound);
        Assert.Empty(await ManagedAsync());

        // A dry run after a real apply shows updates without making them.
        await ApplyAsync(AllKinds());
        var update = await ApplyAsync([Schedule("nightly", "@hourly")], dryRun: true, prune: true);
        Assert.Equal("update", Actions(update)["Schedule/nightly"]);
        Assert.Equal("delete", Actions(update)["Queue/mail"]);
        Assert.Equal("0 3 * * *", (await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK)).Str("cron"));
        await Admin.GetAsync("/api/v1/queues/mail").Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Prune_deletes_only_managed_objects_the_set_no_longer_declares()
    {
        await ApplyAsync([Queue("mail"), Schedule("nightly"), Schedule("weekly", "@weekly"), Monitor("backup")]);
        // Made by hand: never pruned.
        await Admin.PostJsonAsync("/api/v1/schedules", new { name = "by-hand", cron = "@daily", job = new { queue = "mail", type = "t" } }).Expect(HttpStatusCode.Created);
        await Admin.PutJsonAsync("/api/v1/queues/hand-queue", new { concurrency_limit = 2 }).Expect(HttpStatusCode.OK);

        var without = await ApplyAsync([Schedule("nightly")]);
        Assert.Equal("unchanged", Actions(without)["Schedule/nightly"]);
        Assert.Single(Actions(without)); // without prune, nothing else is touched
        await Admin.GetAsync("/api/v1/schedules/weekly").Expect(HttpStatusCode.OK);

        var pruned = await ApplyAsync([Schedule("nightly")], prune: true);
        Assert.Equal(new Dictionary<string, string>
        {
            ["Schedule/nightly"] = "unchanged", ["Schedule/weekly"] = "delete", ["Queue/mail"] = "delete", ["Monitor/backup"] = "delete",
        }, Actions(pruned));
        await Admin.GetAsync("/api/v1/schedules/weekly").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/monitors/backup").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK);
        await Admin.GetAsync("/api/v1/schedules/by-hand").Expect(HttpStatusCode.OK);
        await Admin.GetAsync("/api/v1/queues/hand-queue").Expect(HttpStatusCode.OK);
        Assert.Equal(["Schedule/nightly"], await ManagedAsync());
    }

    [Fact]
    public async Task Hand_changes_of_a_managed_object_are_refused_until_it_is_unmarked()
    {
        await ChannelAsync();
        await ApplyAsync(AllKinds());

        async Task Refused(Task<HttpResponseMessage> request, string kind, string name)
        {
            var problem = await request.ExpectProblem(HttpStatusCode.Conflict);
            Assert.Contains($"{kind} '{name}' is managed by a manifest", problem.Str("detail"), StringComparison.Ordinal);
            Assert.Contains("/api/v1/manifests/unmanage", problem.Str("detail"), StringComparison.Ordinal);
        }
        await Refused(Admin.PutJsonAsync("/api/v1/queues/mail", new { concurrency_limit = 50 }), "Queue", "mail");
        await Refused(Admin.PatchAsync("/api/v1/queues/mail", JsonContent.Create(new { concurrency_limit = 50 })), "Queue", "mail");
        await Refused(Admin.DeleteAsync("/api/v1/queues/mail"), "Queue", "mail");
        await Refused(Admin.PutJsonAsync("/api/v1/schedules/nightly", new { cron = "@hourly", job = new { queue = "mail", type = "x" } }), "Schedule", "nightly");
        await Refused(Admin.PatchAsync("/api/v1/schedules/nightly", JsonContent.Create(new { cron = "@hourly" })), "Schedule", "nightly");
        await Refused(Admin.DeleteAsync("/api/v1/schedules/nightly"), "Schedule", "nightly");
        await Refused(Admin.PatchAsync("/api/v1/monitors/backup", JsonContent.Create(new { grace_seconds = 60 })), "Monitor", "backup");
        await Refused(Admin.DeleteAsync("/api/v1/monitors/backup"), "Monitor", "backup");
        await Refused(Admin.PutJsonAsync("/api/v1/alert-rules/mail-failures", new { kind = "worker_lost", channels = new[] { "ops" } }), "AlertRule", "mail-failures");
        await Refused(Admin.DeleteAsync("/api/v1/alert-rules/mail-failures"), "AlertRule", "mail-failures");

        // Nothing changed.
        Assert.Equal(5, (await Admin.GetAsync("/api/v1/queues/mail").Expect(HttpStatusCode.OK)).GetProperty("concurrency_limit").GetInt32());
        Assert.Equal("0 3 * * *", (await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK)).Str("cron"));
        Assert.Equal(600, (await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK)).GetProperty("grace_seconds").GetInt32());
        Assert.Equal("job_failed", (await Admin.GetAsync("/api/v1/alert-rules/mail-failures").Expect(HttpStatusCode.OK)).Str("kind"));
        // Operating a managed object stays allowed: pausing is not editing its declaration.
        await Admin.PostJsonAsync("/api/v1/schedules/nightly/pause", new { reason = "maintenance" }).Expect(HttpStatusCode.OK);

        var unmarked = await Admin.PostJsonAsync("/api/v1/manifests/unmanage", new { kind = "Schedule", name = "nightly" }).Expect(HttpStatusCode.OK);
        Assert.True(unmarked.IsNull("managed_by"));
        await Admin.PatchAsync("/api/v1/schedules/nightly", JsonContent.Create(new { cron = "@hourly" })).Expect(HttpStatusCode.OK);
        await Admin.PostJsonAsync("/api/v1/manifests/unmanage", new { kind = "Schedule", name = "nope" }).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostJsonAsync("/api/v1/manifests/unmanage", new { kind = "Job", name = "x" }).ExpectProblem(HttpStatusCode.BadRequest, "kind");

        // The next apply takes it back: an update of the cron and of the marker.
        var back = await ApplyAsync(AllKinds());
        Assert.Equal(["cron", "managed_by"], Fields(back, "Schedule", "nightly"));
        Assert.Equal("0 3 * * *", (await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK)).Str("cron"));
        await Admin.DeleteAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task An_invalid_object_in_the_set_applies_nothing_and_names_it()
    {
        var problem = await Admin.PostJsonAsync("/api/v1/manifests/apply", new
        {
            manifests = new[]
            {
                Queue("mail"),
                Doc("Schedule", "bad", new { cron = "0 25 * * *", job = new { queue = "mail", type = "t" } }),
                Doc("Monitor", "m", new { period_seconds = 3600, grace = 5 }),
                Doc("Widget", "w", new { }),
                Schedule("nightly"),
                Schedule("nightly"),
            },
        }).ExpectProblem(HttpStatusCode.BadRequest, "manifests[1].spec.cron", "manifests[2].spec.grace", "manifests[3].kind", "manifests[5].metadata.name");
        Assert.Contains("declared twice", problem.GetProperty("errors").GetProperty("manifests[5].metadata.name")[0].GetString(), StringComparison.Ordinal);
        await Admin.GetAsync("/api/v1/queues/mail").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);

        // An alert rule naming a channel the organization does not have.
        await Admin.PostJsonAsync("/api/v1/manifests/apply", new { manifests = new[] { Queue("mail"), Rule("r") } })
            .ExpectProblem(HttpStatusCode.BadRequest, "manifests[1].spec.channels");
        await Admin.GetAsync("/api/v1/queues/mail").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostJsonAsync("/api/v1/manifests/apply", new { dry_run = true }).ExpectProblem(HttpStatusCode.BadRequest, "manifests");
    }

    [Fact]
    public async Task A_conflict_in_the_store_rolls_back_the_writes_made_before_it()
    {
        // A monitor made by hand holds the slug "shared"; the set writes a queue and a schedule, then a monitor with that slug.
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "by-hand", slug = "shared", period_seconds = 3600 }).Expect(HttpStatusCode.Created);
        var problem = await Admin.PostJsonAsync("/api/v1/manifests/apply", new { manifests = new[] { Queue("mail"), Schedule("nightly"), Monitor("backup", "shared") } })
            .ExpectProblem(HttpStatusCode.Conflict);
        Assert.Contains("Monitor 'backup'", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("slug 'shared'", problem.Str("detail"), StringComparison.Ordinal);
        await Admin.GetAsync("/api/v1/queues/mail").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/monitors/backup").ExpectProblem(HttpStatusCode.NotFound);
        Assert.Empty(await ManagedAsync());

        // Prune of a managed queue that still has work: nothing of the set is applied either.
        await ApplyAsync([Queue("mail")]);
        await EnqueueAsync("mail");
        await Admin.PostJsonAsync("/api/v1/manifests/apply", new { manifests = new[] { Schedule("nightly") }, prune = true })
            .ExpectProblem(HttpStatusCode.Conflict);
        await Admin.GetAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/queues/mail").Expect(HttpStatusCode.OK);
    }

    private static object Etl(string extra = "load") => Doc("Workflow", "etl", new
    {
        steps = new object[]
        {
            new { id = "extract", job = new { queue = "etl", type = "extract" } },
            new { id = extra, job = new { queue = "etl", type = extra }, depends_on = new[] { "extract" } },
        },
    });

    private static object EtlSchedule() => Doc("Schedule", "nightly-etl", new { cron = "@daily", workflow = "etl" });

    [Fact]
    public async Task Workflow_templates_are_applied_before_the_schedules_that_start_them_and_pruned_after()
    {
        // A schedule naming a template neither declared nor made: refused.
        await Admin.PostJsonAsync("/api/v1/manifests/apply", new { manifests = new[] { EtlSchedule() } }).ExpectProblem(HttpStatusCode.BadRequest, "manifests[0].spec.workflow");

        // Declared after the schedule in the set: still written first.
        var first = await ApplyAsync([EtlSchedule(), Etl()]);
        Assert.Equal("create", Actions(first)["Workflow/etl"]);
        var template = await Admin.GetAsync("/api/v1/workflow-templates/etl").Expect(HttpStatusCode.OK);
        Assert.Equal("manifest", template.Str("managed_by"));
        Assert.Equal(["extract", "load"], template.GetProperty("steps").EnumerateArray().Select(s => s.Str("id")));
        Assert.Equal("etl", (await Admin.GetAsync("/api/v1/schedules/nightly-etl").Expect(HttpStatusCode.OK)).Str("workflow"));
        Assert.All(Actions(await ApplyAsync([EtlSchedule(), Etl()])).Values, a => Assert.Equal("unchanged", a));

        var changed = await ApplyAsync([EtlSchedule(), Etl("transform")]);
        Assert.Equal(["steps"], Fields(changed, "Workflow", "etl"));
        await Admin.PutJsonAsync("/api/v1/workflow-templates/etl", new { steps = new[] { new { id = "x", job = new { queue = "q", type = "t" } } } })
            .ExpectProblem(HttpStatusCode.Conflict);
        await Admin.DeleteAsync("/api/v1/workflow-templates/etl").ExpectProblem(HttpStatusCode.Conflict);

        // Pruning both: the schedule goes first, so the template can go too.
        var pruned = await ApplyAsync([Queue("mail")], prune: true);
        Assert.Equal("delete", Actions(pruned)["Workflow/etl"]);
        Assert.Equal("delete", Actions(pruned)["Schedule/nightly-etl"]);
        await Admin.GetAsync("/api/v1/workflow-templates/etl").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/schedules/nightly-etl").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Applying_needs_admin_and_is_audited_and_the_schema_is_served()
    {
        var reader = Client(await CreateKeyAsync("read"));
        await reader.PostJsonAsync("/api/v1/manifests/apply", new { manifests = new[] { Queue("mail") } }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostJsonAsync("/api/v1/manifests/unmanage", new { kind = "Queue", name = "mail" }).ExpectProblem(HttpStatusCode.Forbidden);
        await Admin.GetAsync("/api/v1/queues/mail").ExpectProblem(HttpStatusCode.NotFound);

        var schema = await reader.GetAsync("/api/v1/manifests/schema").Expect(HttpStatusCode.OK);
        Assert.Equal("Kairos manifest", schema.Str("title"));
        var scheduleSpec = schema.GetProperty("$defs").GetProperty("ScheduleSpec").GetProperty("properties");
        Assert.True(scheduleSpec.TryGetProperty("cron", out _));
        Assert.False(scheduleSpec.TryGetProperty("name", out _));

        await ApplyAsync([Queue("mail")]);
        var audit = await Admin.GetAsync("/api/v1/audit?action=manifest.*").Expect(HttpStatusCode.OK);
        var entry = audit.GetProperty("items").EnumerateArray().First(e => e.Str("action") == "manifest.apply" && e.GetProperty("status").GetInt32() == 200);
        Assert.Equal(1, entry.GetProperty("details").GetProperty("created").GetInt32());
    }
}
