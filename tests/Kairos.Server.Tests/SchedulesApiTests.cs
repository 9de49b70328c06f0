using System.Net;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Core.Events;
using Kairos.Core.Schedules;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>/api/v1/schedules on a fake clock: CRUD, validation, preview, trigger, runs, firing by the server's loop, organizations.</summary>
public sealed class SchedulesApiTests() : ApiTest(fakeTime: true)
{
    private static object Body(string name = "nightly", string? cron = "0 3 * * *", long? everyMs = null, string? timezone = "Europe/Berlin", object? job = null,
        string? overlap = null, string? catchUp = null, int? jitterMs = null) => new
    {
        name,
        cron,
        every_ms = everyMs,
        timezone,
        job = job ?? new { queue = "reports", type = "report.build", payload = new { kind = "nightly" }, priority = 3, tags = new[] { "cron" } },
        overlap,
        catch_up = catchUp,
        jitter_ms = jitterMs,
    };

    private Task<JsonElement> CreateAsync(object body) => Admin.PostJsonAsync("/api/v1/schedules", body).Expect(HttpStatusCode.Created);

    private EventBus.Subscription Subscribe() => Factory.Services.GetRequiredService<EventBus>().Subscribe(Organizations.Default);

    [Fact]
    public async Task A_schedule_is_created_read_listed_replaced_patched_and_deleted()
    {
        var created = await CreateAsync(Body());
        Assert.Equal("nightly", created.Str("name"));
        Assert.Equal("0 3 * * *", created.Str("cron"));
        Assert.Equal("Europe/Berlin", created.Str("timezone"));
        Assert.Equal("At 03:00, every day", created.Str("description"));
        Assert.Equal("allow", created.Str("overlap"));
        Assert.Equal("once", created.Str("catch_up"));
        Assert.Equal(10, created.GetProperty("catch_up_limit").GetInt32());
        // Friday 2031-03-14 09:26 UTC: the next 03:00 in Berlin (CET) is 02:00 UTC on Saturday.
        Assert.Equal("2031-03-15T02:00:00.000Z", created.Str("next_fire_at"));
        var job = created.GetProperty("job");
        Assert.Equal("reports", job.Str("queue"));
        Assert.Equal("nightly", job.GetProperty("payload").Str("kind"));
        Assert.Equal(3, job.GetProperty("priority").GetInt32());

        await Admin.PostJsonAsync("/api/v1/schedules", Body()).ExpectProblem(HttpStatusCode.Conflict);
        await CreateAsync(Body("a-first", everyMs: 900_000, cron: null));
        await CreateAsync(Body("z-last"));
        var page = await Admin.GetAsync("/api/v1/schedules?limit=2").Expect(HttpStatusCode.OK);
        Assert.Equal(["a-first", "nightly"], page.GetProperty("items").EnumerateArray().Select(s => s.Str("name")));
        Assert.Equal("Every 15 minutes", page.GetProperty("items")[0].Str("description"));
        var rest = await Admin.GetAsync($"/api/v1/schedules?limit=2&cursor={Uri.EscapeDataString(page.Str("next_cursor"))}").Expect(HttpStatusCode.OK);
        Assert.Equal(["z-last"], rest.GetProperty("items").EnumerateArray().Select(s => s.Str("name")));
        Assert.True(rest.IsNull("next_cursor"));

        var got = await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK);
        Assert.Equal(created.Str("id"), got.Str("id"));

        // PUT replaces the definition: what it leaves out takes its default.
        var replaced = await Admin.PutJsonAsync("/api/v1/schedules/nightly", new { cron = "0 9 * * 1-5", job = new { queue = "reports", type = "report.build" }, overlap = "skip" })
            .Expect(HttpStatusCode.OK);
        Assert.Equal("UTC", replaced.Str("timezone"));
        Assert.Equal("skip", replaced.Str("overlap"));
        Assert.Equal("At 09:00, Monday through Friday", replaced.Str("description"));
        Assert.Equal("2031-03-17T09:00:00.000Z", replaced.Str("next_fire_at"));
        Assert.Equal(JsonValueKind.Null, replaced.GetProperty("job").GetProperty("payload").ValueKind);
        var putCreated = await Admin.PutJsonAsync("/api/v1/schedules/made-by-put", new { every_ms = 60_000, job = new { queue = "q", type = "t" } })
            .Expect(HttpStatusCode.Created);
        Assert.Equal("made-by-put", putCreated.Str("name"));

        // PATCH changes only what it names.
        var patched = await Admin.PatchJsonAsync("/api/v1/schedules/nightly", new { jitter_ms = 30_000, job = new { priority = 7 } }).Expect(HttpStatusCode.OK);
        Assert.Equal(30_000, patched.GetProperty("jitter_ms").GetInt32());
        Assert.Equal(7, patched.GetProperty("job").GetProperty("priority").GetInt32());
        Assert.Equal("report.build", patched.GetProperty("job").Str("type"));
        Assert.Equal("0 9 * * 1-5", patched.Str("cron"));
        Assert.Equal(replaced.Str("next_fire_at"), patched.Str("next_fire_at"));
        var toInterval = await Admin.PatchJsonAsync("/api/v1/schedules/nightly", new { cron = (string?)null, every_ms = 3_600_000 }).Expect(HttpStatusCode.OK);
        Assert.Equal("Every 1 hour", toInterval.Str("description"));
        Assert.Equal("2031-03-14T10:00:00.000Z", toInterval.Str("next_fire_at"));

        await Admin.DeleteAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.NoContent);
        await Admin.GetAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Invalid_schedules_are_refused_with_problems_naming_the_field()
    {
        var cron = await Admin.PostJsonAsync("/api/v1/schedules", Body(cron: "0 25 * * *")).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        var message = cron.GetProperty("errors").GetProperty("cron")[0].GetString()!;
        Assert.Contains("field 2 (hour)", message, StringComparison.Ordinal);
        Assert.Contains("position 3", message, StringComparison.Ordinal);
        await Admin.PostJsonAsync("/api/v1/schedules", Body(cron: "* * *")).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        await Admin.PostJsonAsync("/api/v1/schedules", Body(cron: "0 0 31 2 *")).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        await Admin.PostJsonAsync("/api/v1/schedules", Body(cron: null)).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        await Admin.PostJsonAsync("/api/v1/schedules", Body(everyMs: 60_000)).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        await Admin.PostJsonAsync("/api/v1/schedules", Body(cron: null, everyMs: 10)).ExpectProblem(HttpStatusCode.BadRequest, "every_ms");
        var zone = await Admin.PostJsonAsync("/api/v1/schedules", Body(timezone: "Mars/Olympus_Mons")).ExpectProblem(HttpStatusCode.BadRequest, "timezone");
        Assert.Contains("Mars/Olympus_Mons", zone.Str("detail"), StringComparison.Ordinal);
        await Admin.PostJsonAsync("/api/v1/schedules", Body(name: "has space")).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await Admin.PostJsonAsync("/api/v1/schedules", Body(name: "preview")).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await Admin.PostJsonAsync("/api/v1/schedules", Body(overlap: "sometimes", catchUp: "twice", jitterMs: -1))
            .ExpectProblem(HttpStatusCode.BadRequest, "overlap", "catch_up", "jitter_ms");
        await Admin.PostJsonAsync("/api/v1/schedules", Body(job: new { type = "t", max_attempts = 0 })).ExpectProblem(HttpStatusCode.BadRequest, "job.queue", "job.max_attempts");
        await Admin.PostJsonAsync("/api/v1/schedules", new { name = "x", cron = "@daily" }).ExpectProblem(HttpStatusCode.BadRequest, "job");
        await Admin.PostJsonAsync("/api/v1/schedules", new { name = "x", cron = "@daily", job = new { queue = "q", type = "t" }, start_at = "2031-01-02T00:00:00Z", end_at = "2031-01-01T00:00:00Z" })
            .ExpectProblem(HttpStatusCode.BadRequest, "end_at");
        await Admin.PostRawAsync("/api/v1/schedules", """{"name":"x","every_ms":"soon"}""").ExpectBindingProblem(HttpStatusCode.BadRequest, "every_ms");
        await Admin.PutJsonAsync("/api/v1/schedules/one-name", Body(name: "another-name")).ExpectProblem(HttpStatusCode.BadRequest, "name");

        await CreateAsync(Body());
        await Admin.PatchJsonAsync("/api/v1/schedules/nightly", new { cron = "61 * * * *" }).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        await Admin.PatchJsonAsync("/api/v1/schedules/nightly", new { every_ms = 60_000 }).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        await Admin.PatchJsonAsync("/api/v1/schedules/nightly", new { jitter_ms = "lots" }).ExpectProblem(HttpStatusCode.BadRequest, "jitter_ms");
        Assert.Equal("0 3 * * *", (await Admin.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK)).Str("cron"));
    }

    [Fact]
    public async Task Preview_describes_a_cron_expression_and_lists_its_next_ten_fire_times()
    {
        var preview = await Admin.GetAsync("/api/v1/schedules/preview?cron=" + Uri.EscapeDataString("0 9 * * 1-5") + "&timezone=Europe/Berlin").Expect(HttpStatusCode.OK);
        Assert.Equal("At 09:00, Monday through Friday", preview.Str("description"));
        var next = preview.GetProperty("next").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(10, next.Count);
        Assert.Equal("2031-03-17T08:00:00.000Z", next[0]); // Monday, CET
        Assert.Equal("2031-03-28T08:00:00.000Z", next[^1]);
        Assert.Equal("2031-03-17T09:00:00.000+01:00", preview.GetProperty("next_local")[0].GetString());
        // Berlin moves to CEST on 2031-03-30: 09:00 is then 07:00 UTC.
        var eleven = await Admin.GetAsync("/api/v1/schedules/preview?count=11&cron=" + Uri.EscapeDataString("0 9 * * 1-5") + "&timezone=Europe/Berlin").Expect(HttpStatusCode.OK);
        Assert.Equal("2031-03-31T07:00:00.000Z", eleven.GetProperty("next")[10].GetString());
        Assert.Equal("2031-03-31T09:00:00.000+02:00", eleven.GetProperty("next_local")[10].GetString());

        var every = await Admin.GetAsync("/api/v1/schedules/preview?every_ms=900000&count=3").Expect(HttpStatusCode.OK);
        Assert.Equal("Every 15 minutes", every.Str("description"));
        Assert.Equal(["2031-03-14T09:30:00.000Z", "2031-03-14T09:45:00.000Z", "2031-03-14T10:00:00.000Z"], every.GetProperty("next").EnumerateArray().Select(t => t.GetString()));

        var bad = await Admin.GetAsync("/api/v1/schedules/preview?cron=" + Uri.EscapeDataString("0 9 * * MON-FRX")).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        Assert.Contains("field 5 (day of week)", bad.Str("detail"), StringComparison.Ordinal);
        await Admin.GetAsync("/api/v1/schedules/preview?cron=@daily&timezone=Nowhere/Land").ExpectProblem(HttpStatusCode.BadRequest, "timezone");
        await Admin.GetAsync("/api/v1/schedules/preview").ExpectProblem(HttpStatusCode.BadRequest, "cron");
    }

    [Fact]
    public async Task Trigger_runs_the_template_now_and_runs_show_the_outcome_and_duration()
    {
        await CreateAsync(Body());
        using var sub = Subscribe();
        using var deadline = Deadline();
        var triggered = await Admin.PostAsync("/api/v1/schedules/nightly/trigger", null).Expect(HttpStatusCode.Created);
        Assert.Equal("nightly", triggered.Str("schedule"));
        var job = triggered.GetProperty("job");
        Assert.Equal("reports", job.Str("queue"));
        Assert.Equal("queued", job.Str("state"));
        var fired = await NextEventAsync(sub, "schedule.fired", deadline.Token);
        var data = (ScheduleFiredData)fired.Data;
        Assert.True(data.Manual);
        Assert.Equal(job.Str("id"), data.JobId.ToString());

        var worker = await RegisterWorkerAsync(null, "reports");
        var leased = Assert.Single(await FetchAsync(worker, "reports"));
        Time.Advance(TimeSpan.FromMilliseconds(1_250));
        await Admin.PostJsonAsync($"/api/v1/jobs/{leased.Str("id")}/ack", new { lease_token = leased.Str("lease_token") }).Expect(HttpStatusCode.OK);

        var runs = await Admin.GetAsync("/api/v1/schedules/nightly/runs").Expect(HttpStatusCode.OK);
        var run = Assert.Single(runs.GetProperty("items").EnumerateArray());
        Assert.Equal("manual", run.Str("trigger"));
        Assert.Equal("succeeded", run.Str("state"));
        Assert.Equal("succeeded", run.Str("outcome"));
        Assert.Equal(1_250, run.GetProperty("duration_ms").GetInt64());
        Assert.Equal(job.Str("id"), run.Str("job_id"));
        await Admin.GetAsync("/api/v1/schedules/nope/runs").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync("/api/v1/schedules/nope/trigger", null).ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_server_fires_due_schedules_and_reports_misfires_as_events()
    {
        using var sub = Subscribe();
        using var deadline = Deadline(30);
        var s = await CreateAsync(Body("minutely", cron: "* * * * *", timezone: null));
        Assert.Equal("2031-03-14T09:27:00.000Z", s.Str("next_fire_at"));

        Time.Advance(TimeSpan.FromSeconds(7)); // 09:27:00.589
        var fired = (ScheduleFiredData)(await NextEventAsync(sub, "schedule.fired", deadline.Token)).Data;
        Assert.Equal(new DateTimeOffset(2031, 3, 14, 9, 27, 0, TimeSpan.Zero), fired.FireTime);
        Assert.False(fired.Late);
        var job = await GetJobAsync(fired.JobId!.Value.ToString());
        Assert.Equal("report.build", job.Str("type"));

        // Ten minutes pass at once (a stalled server): the nine fire times before the last minute are misfires, and
        // catch-up "once" has the latest of the fire times run.
        Time.Advance(TimeSpan.FromMinutes(10));
        var misfire = (ScheduleMisfiredData)(await NextEventAsync(sub, "schedule.misfired", deadline.Token)).Data;
        Assert.Equal("minutely", misfire.Schedule);
        Assert.Equal(9, misfire.Missed);
        Assert.Equal(0, misfire.CaughtUp); // the fire time of 09:37 is on time and stands for them
        Assert.Equal("once", misfire.CatchUp);
        var next = (ScheduleFiredData)(await NextEventAsync(sub, "schedule.fired", deadline.Token)).Data;
        Assert.Equal(new DateTimeOffset(2031, 3, 14, 9, 37, 0, TimeSpan.Zero), next.FireTime);

        var runs = await Admin.GetAsync("/api/v1/schedules/minutely/runs").Expect(HttpStatusCode.OK);
        Assert.Equal(["2031-03-14T09:37:00.000Z", "2031-03-14T09:27:00.000Z"], runs.GetProperty("items").EnumerateArray().Select(r => r.Str("fire_time")));
        Assert.All(runs.GetProperty("items").EnumerateArray(), r => Assert.Equal("schedule", r.Str("trigger")));
    }

    [Fact]
    public async Task Pause_and_resume_change_the_schedule_and_paused_ones_do_not_fire()
    {
        await CreateAsync(Body("minutely", cron: "* * * * *", timezone: null));
        var paused = await Admin.PostJsonAsync("/api/v1/schedules/minutely/pause", new { reason = "db migration" }).Expect(HttpStatusCode.OK);
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal("db migration", paused.Str("pause_reason"));
        Assert.True(paused.IsNull("next_fire_at"));

        var resumed = await Admin.PostAsync("/api/v1/schedules/minutely/resume", null).Expect(HttpStatusCode.OK);
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.True(resumed.IsNull("pause_reason"));
        Assert.Equal("2031-03-14T09:27:00.000Z", resumed.Str("next_fire_at"));
        await Admin.PostAsync("/api/v1/schedules/nope/pause", null).ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Another_organization_sees_none_of_the_schedules_and_a_read_key_may_only_read()
    {
        await CreateAsync(Body());
        var other = await OtherOrganizationAsync();
        await other.GetAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);
        await other.PatchJsonAsync("/api/v1/schedules/nightly", new { jitter_ms = 1 }).ExpectProblem(HttpStatusCode.NotFound);
        await other.DeleteAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.NotFound);
        await other.PostAsync("/api/v1/schedules/nightly/trigger", null).ExpectProblem(HttpStatusCode.NotFound);
        await other.PostAsync("/api/v1/schedules/nightly/pause", null).ExpectProblem(HttpStatusCode.NotFound);
        await other.PostAsync("/api/v1/schedules/nightly/resume", null).ExpectProblem(HttpStatusCode.NotFound);
        await other.GetAsync("/api/v1/schedules/nightly/runs").ExpectProblem(HttpStatusCode.NotFound);
        Assert.Empty((await other.GetAsync("/api/v1/schedules").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        // The same name in another organization is another schedule.
        await other.PostJsonAsync("/api/v1/schedules", Body()).Expect(HttpStatusCode.Created);

        var reader = Client(await CreateKeyAsync("read"));
        await reader.GetAsync("/api/v1/schedules/nightly").Expect(HttpStatusCode.OK);
        await reader.GetAsync("/api/v1/schedules/nightly/runs").Expect(HttpStatusCode.OK);
        await reader.GetAsync("/api/v1/schedules/preview?cron=@daily").Expect(HttpStatusCode.OK);
        await reader.PostJsonAsync("/api/v1/schedules", Body("mine")).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostAsync("/api/v1/schedules/nightly/trigger", null).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.DeleteAsync("/api/v1/schedules/nightly").ExpectProblem(HttpStatusCode.Forbidden);
    }
}
