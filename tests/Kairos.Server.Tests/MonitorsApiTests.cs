using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Core.Events;
using Kairos.Core.Monitors;
using Kairos.Server.Apis;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>
/// /api/v1/monitors and the anonymous /ping URLs on a fake clock: CRUD and validation, who sees the ping key, pings by
/// key and by slug, rid pairing, the body cap, the watch on the server's loop (late, down, max runtime, late start,
/// threshold, pause) with its events, the rate limit, bad input, organizations.
/// </summary>
public sealed class MonitorsApiTests() : ApiTest(fakeTime: true)
{
    private static object Hourly(string name = "backup", object? extra = null) => extra ?? new { name, period_seconds = 3600, grace_seconds = 300, tags = new[] { "db" } };

    private Task<JsonElement> CreateAsync(object body) => Admin.PostJsonAsync("/api/v1/monitors", body).Expect(HttpStatusCode.Created);

    private EventBus.Subscription Subscribe() => Factory.Services.GetRequiredService<EventBus>().Subscribe(Organizations.Default);

    private static async Task<(DomainEvent Event, MonitorEventData Data)> NextAsync(EventBus.Subscription sub, CancellationToken cancellationToken)
    {
        while (true)
        {
            var e = await sub.Reader.ReadAsync(cancellationToken);
            if (e.Data is MonitorEventData data && e.Type is not ("monitor.created" or "monitor.updated")) return (e, data);
        }
    }

    private static async Task ExpectEventAsync(EventBus.Subscription sub, string type, string state, string previous, string reason, CancellationToken cancellationToken)
    {
        var (e, data) = await NextAsync(sub, cancellationToken);
        Assert.Equal((type, state, previous, reason), (e.Type, data.State, data.PreviousState, data.Reason));
    }

    /// <summary>A client with no credentials at all: pingers have none. (The in-memory test server cannot carry %00 in a path;
    /// Kestrel refuses such a request line with 400 before any endpoint.)</summary>
    private HttpClient Anonymous() => Client(null);

    private static string PathOf(JsonElement monitor) => new Uri(monitor.Str("ping_url")).AbsolutePath;

    [Fact]
    public async Task A_monitor_is_created_read_listed_patched_and_deleted_and_only_members_see_its_ping_key()
    {
        var created = await CreateAsync(new { name = "Nightly.Backup", period_seconds = 86_400, tags = new[] { "db" } });
        Assert.Equal("nightly-backup", created.Str("slug"));
        Assert.Equal("Every 1 day", created.Str("description"));
        Assert.Equal(300, created.GetProperty("grace_seconds").GetInt32());
        Assert.Equal(1, created.GetProperty("failure_threshold").GetInt32());
        Assert.Equal("new", created.Str("state"));
        var key = created.Str("ping_key");
        Assert.Matches("^[0-9a-f]{32}$", key);
        Assert.Equal($"http://localhost/ping/{key}", created.Str("ping_url"));

        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "Nightly.Backup", period_seconds = 60 }).ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "other", slug = "nightly-backup", period_seconds = 60 }).ExpectProblem(HttpStatusCode.Conflict);
        await CreateAsync(new { name = "a-sync", cron = "0 3 * * *", timezone = "Europe/Berlin", start_grace_seconds = 120, max_runtime_seconds = 1800 });

        var got = await Admin.GetAsync("/api/v1/monitors/Nightly.Backup").Expect(HttpStatusCode.OK);
        Assert.Equal(key, got.Str("ping_key"));
        // Stored as its hash and sealed: the database holds the monitor, not its key.
        var stored = DatabaseText();
        Assert.Contains("Nightly.Backup", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(key, stored, StringComparison.Ordinal);
        var page = await Admin.GetAsync("/api/v1/monitors?limit=1").Expect(HttpStatusCode.OK);
        Assert.Equal(["Nightly.Backup"], page.GetProperty("items").EnumerateArray().Select(m => m.Str("name")));
        var rest = await Admin.GetAsync($"/api/v1/monitors?limit=1&cursor={Uri.EscapeDataString(page.Str("next_cursor"))}").Expect(HttpStatusCode.OK);
        Assert.Equal("At 03:00, every day", rest.GetProperty("items")[0].Str("description"));
        Assert.Single((await Admin.GetAsync("/api/v1/monitors?state=new&limit=1").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Empty((await Admin.GetAsync("/api/v1/monitors?state=down").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Readers see the monitor, not its key (a capability to report check-ins).
        var reader = Client(await CreateKeyAsync("read"));
        var seen = await reader.GetAsync("/api/v1/monitors/Nightly.Backup").Expect(HttpStatusCode.OK);
        Assert.True(seen.IsNull("ping_key"));
        Assert.True(seen.IsNull("ping_url"));
        Assert.DoesNotContain(key, (await reader.GetAsync("/api/v1/monitors").Expect(HttpStatusCode.OK)).ToString(), StringComparison.Ordinal);
        await reader.PostJsonAsync("/api/v1/monitors", new { name = "mine", period_seconds = 60 }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostAsync("/api/v1/monitors/Nightly.Backup/pause", null).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.GetAsync("/api/v1/monitors/ping-key").ExpectProblem(HttpStatusCode.Forbidden);

        var patched = await Admin.PatchJsonAsync("/api/v1/monitors/Nightly.Backup", new { grace_seconds = 900, failure_threshold = 3, slug = "backup" }).Expect(HttpStatusCode.OK);
        Assert.Equal(900, patched.GetProperty("grace_seconds").GetInt32());
        Assert.Equal(3, patched.GetProperty("failure_threshold").GetInt32());
        Assert.Equal("backup", patched.Str("slug"));
        Assert.Equal(86_400, patched.GetProperty("period_seconds").GetInt64());
        var toCron = await Admin.PatchJsonAsync("/api/v1/monitors/Nightly.Backup", new { period_seconds = (long?)null, cron = "*/15 * * * *" }).Expect(HttpStatusCode.OK);
        Assert.Equal("*/15 * * * *", toCron.Str("cron"));
        await Admin.PatchJsonAsync("/api/v1/monitors/Nightly.Backup", new { slug = "a-sync" }).ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PatchJsonAsync("/api/v1/monitors/Nightly.Backup", new { name = "renamed" }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await Admin.PatchJsonAsync("/api/v1/monitors/nope", new { grace_seconds = 1 }).ExpectProblem(HttpStatusCode.NotFound);

        // A new key: the old URL stops working at once.
        var rekeyed = await Admin.PostAsync("/api/v1/monitors/Nightly.Backup/ping-key", null).Expect(HttpStatusCode.OK);
        Assert.NotEqual(key, rekeyed.Str("ping_key"));
        await Anonymous().GetAsync($"/ping/{key}").ExpectProblem(HttpStatusCode.NotFound);
        await Anonymous().GetAsync(PathOf(rekeyed)).Pinged();

        using (var deleted = await Admin.DeleteAsync("/api/v1/monitors/Nightly.Backup"))
        {
            await deleted.Expect(HttpStatusCode.NoContent);
        }
        await Admin.GetAsync("/api/v1/monitors/Nightly.Backup").ExpectProblem(HttpStatusCode.NotFound);
        await Anonymous().GetAsync(PathOf(rekeyed)).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("/api/v1/monitors/Nightly.Backup").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Invalid_monitors_are_refused_naming_the_field_and_nothing_is_made()
    {
        await Admin.PostJsonAsync("/api/v1/monitors", new { }).ExpectProblem(HttpStatusCode.BadRequest, "name", "period_seconds");
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "-bad", period_seconds = 10 }).ExpectProblem(HttpStatusCode.BadRequest, "name", "period_seconds");
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "ping-key", period_seconds = 60 }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "x", slug = "Has Spaces", period_seconds = 60 }).ExpectProblem(HttpStatusCode.BadRequest, "slug");
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "x", period_seconds = 60, cron = "@daily" }).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        var cron = await Admin.PostJsonAsync("/api/v1/monitors", new { name = "x", cron = "0 25 * * *" }).ExpectProblem(HttpStatusCode.BadRequest, "cron");
        Assert.Contains("field 2 (hour)", cron.GetProperty("errors").GetProperty("cron")[0].GetString(), StringComparison.Ordinal);
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "x", cron = "@daily", timezone = "Mars/Olympus" }).ExpectProblem(HttpStatusCode.BadRequest, "timezone");
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "x", period_seconds = 60, start_grace_seconds = 60 }).ExpectProblem(HttpStatusCode.BadRequest, "start_grace_seconds");
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "x", period_seconds = 60, grace_seconds = 0, max_runtime_seconds = -1, failure_threshold = 0 })
            .ExpectProblem(HttpStatusCode.BadRequest, "grace_seconds", "max_runtime_seconds", "failure_threshold");
        await Admin.PostJsonAsync("/api/v1/monitors", new { name = "x", period_seconds = 60, tags = new[] { new string('t', 101) } }).ExpectProblem(HttpStatusCode.BadRequest, "tags[0]");
        await Admin.PostRawAsync("/api/v1/monitors", """{"name":"x","period_seconds":"soon"}""").ExpectBindingProblem(HttpStatusCode.BadRequest, "period_seconds");
        await Admin.GetAsync("/api/v1/monitors?state=sleepy").ExpectProblem(HttpStatusCode.BadRequest, "state");
        await Admin.GetAsync("/api/v1/monitors?cursor=bogus").ExpectProblem(HttpStatusCode.BadRequest, "cursor");
        await Admin.PostJsonAsync("/api/v1/monitors/x/pause", new { reason = new string('r', 501) }).ExpectProblem(HttpStatusCode.BadRequest, "reason");
        Assert.Empty((await Admin.GetAsync("/api/v1/monitors").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Anonymous_pings_work_by_key_and_by_slug_with_get_head_and_post_while_the_api_stays_authenticated()
    {
        var m = await CreateAsync(Hourly());
        var path = PathOf(m);
        var anonymous = Anonymous();
        await anonymous.GetAsync("/api/v1/monitors").ExpectProblem(HttpStatusCode.Unauthorized);
        await anonymous.GetAsync("/api/v1/monitors/backup").ExpectProblem(HttpStatusCode.Unauthorized);

        using (var ok = await anonymous.GetAsync(path))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("OK", await ok.Content.ReadAsStringAsync());
            Assert.Equal("102400", ok.Headers.GetValues("Ping-Body-Limit").Single());
        }
        using (var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, path + "/start")))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }
        Time.Advance(TimeSpan.FromSeconds(42));
        var agent = new HttpRequestMessage(HttpMethod.Post, path + "/7") { Content = new StringContent("disk full\n", Encoding.UTF8, "text/plain") };
        agent.Headers.UserAgent.Add(new ProductInfoHeaderValue("backup-script", "2.1"));
        using (var failed = await anonymous.SendAsync(agent))
        {
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        }

        var runs = (await Admin.GetAsync("/api/v1/monitors/backup/runs").Expect(HttpStatusCode.OK)).GetProperty("items");
        Assert.Equal(2, runs.GetArrayLength());
        var last = runs[0];
        Assert.Equal("fail", last.Str("outcome"));
        Assert.Equal(7, last.GetProperty("exit_code").GetInt32());
        Assert.Equal(42_000, last.GetProperty("duration_ms").GetInt64());
        Assert.Equal("disk full\n", last.Str("log"));
        Assert.Equal(KairosFactory.ClientIp, last.Str("source_ip"));
        Assert.Equal("backup-script/2.1", last.Str("user_agent"));
        Assert.Equal("success", runs[1].Str("outcome"));
        var down = await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK);
        Assert.Equal(("down", "failed", 1), (down.Str("state"), down.Str("reason"), down.GetProperty("consecutive_failures").GetInt32()));

        // The slug form: the organization's ping key, made on request, and the monitor's slug.
        Assert.True((await Admin.GetAsync("/api/v1/monitors/ping-key").Expect(HttpStatusCode.OK)).IsNull("ping_key"));
        var org = await Admin.PostAsync("/api/v1/monitors/ping-key", null).Expect(HttpStatusCode.OK);
        Assert.StartsWith("org_", org.Str("ping_key"), StringComparison.Ordinal);
        Assert.Equal(org.Str("ping_key"), (await Admin.GetAsync("/api/v1/monitors/ping-key").Expect(HttpStatusCode.OK)).Str("ping_key"));
        Assert.DoesNotContain(org.Str("ping_key")["org_".Length..], DatabaseText(), StringComparison.Ordinal);
        var prefix = new Uri(org.Str("ping_url_prefix")).AbsolutePath;
        await anonymous.GetAsync($"{prefix}/backup/0").Pinged();
        Assert.Equal("up", (await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK)).Str("state"));
        await anonymous.PostAsync($"{prefix}/backup/start", null).Pinged();
        await anonymous.GetAsync($"{prefix}/nope").ExpectProblem(HttpStatusCode.NotFound);
        var again = await Admin.PostAsync("/api/v1/monitors/ping-key", null).Expect(HttpStatusCode.OK);
        await anonymous.GetAsync($"{prefix}/backup").ExpectProblem(HttpStatusCode.NotFound);
        await anonymous.GetAsync($"{new Uri(again.Str("ping_url_prefix")).AbsolutePath}/backup").Pinged();
    }

    [Fact]
    public async Task A_rid_pairs_each_start_with_its_finish_and_a_body_over_the_cap_is_cut_and_marked()
    {
        var path = PathOf(await CreateAsync(Hourly()));
        var anonymous = Anonymous();
        await anonymous.GetAsync($"{path}/start?rid=a").Pinged();
        Time.Advance(TimeSpan.FromSeconds(1));
        await anonymous.GetAsync($"{path}/start?rid=b").Pinged();
        Time.Advance(TimeSpan.FromSeconds(2));
        await anonymous.GetAsync($"{path}?rid=b").Pinged();
        Time.Advance(TimeSpan.FromSeconds(4));
        // 150 KB of text, with a three-byte character straddling the cap.
        var body = new string('x', PingApi.MaxBodyBytes - 1) + "€" + new string('y', 50_000);
        await anonymous.PostRawAsync($"{path}/fail?rid=a", body, "text/plain").Pinged();

        var runs = (await Admin.GetAsync("/api/v1/monitors/backup/runs").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        // Newest start first: b (2 s), then a (7 s, finished last).
        Assert.Equal([("b", 2_000L), ("a", 7_000L)], runs.Select(r => (r.Str("rid"), r.GetProperty("duration_ms").GetInt64())));
        Assert.Equal(["success", "fail"], runs.Select(r => r.Str("outcome")));
        var log = runs[1].Str("log");
        Assert.True(runs[1].GetProperty("log_truncated").GetBoolean());
        Assert.EndsWith(PingApi.TruncatedMarker, log, StringComparison.Ordinal);
        Assert.Equal(new string('x', PingApi.MaxBodyBytes - 1), log[..^PingApi.TruncatedMarker.Length]);
        Assert.False(runs[0].GetProperty("log_truncated").GetBoolean());

        await anonymous.PostRawAsync(path, "small", "text/plain").Pinged();
        var small = (await Admin.GetAsync("/api/v1/monitors/backup/runs?limit=1").Expect(HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal("small", small.Str("log"));
        Assert.False(small.GetProperty("log_truncated").GetBoolean());
    }

    [Fact]
    public async Task The_watch_makes_a_silent_monitor_late_then_down_and_a_ping_brings_it_up_with_an_event_each()
    {
        using var sub = Subscribe();
        using var deadline = Deadline(30);
        var path = PathOf(await CreateAsync(Hourly()));
        await Anonymous().GetAsync(path).Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "new", "ping", deadline.Token);

        Time.Advance(TimeSpan.FromHours(1));
        await ExpectEventAsync(sub, "monitor.late", "late", "up", "due", deadline.Token);
        Time.Advance(TimeSpan.FromSeconds(300));
        var (e, data) = await NextAsync(sub, deadline.Token);
        Assert.Equal(("monitor.down", "down", "late", "missed", "backup", "backup"), (e.Type, data.State, data.PreviousState, data.Reason, data.Name, data.Slug));
        var monitor = await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK);
        Assert.Equal(monitor.Str("id"), data.MonitorId.ToString());
        Assert.Equal(("down", "missed"), (monitor.Str("state"), monitor.Str("reason")));

        await Anonymous().GetAsync(path).Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "down", "ping", deadline.Token);
    }

    [Fact]
    public async Task A_run_over_its_max_runtime_makes_the_monitor_down_and_is_timed_out()
    {
        using var sub = Subscribe();
        using var deadline = Deadline(30);
        var path = PathOf(await CreateAsync(new { name = "etl", period_seconds = 86_400, max_runtime_seconds = 600 }));
        await Anonymous().GetAsync(path).Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "new", "ping", deadline.Token);
        await Anonymous().GetAsync($"{path}/start?rid=r1").Pinged();
        Assert.False((await Admin.GetAsync("/api/v1/monitors/etl").Expect(HttpStatusCode.OK)).IsNull("running_since"));

        Time.Advance(TimeSpan.FromSeconds(599));
        Time.Advance(TimeSpan.FromSeconds(1));
        await ExpectEventAsync(sub, "monitor.down", "down", "up", "max_runtime", deadline.Token);
        var run = (await Admin.GetAsync("/api/v1/monitors/etl/runs?limit=1").Expect(HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal(("timeout", 600_000L), (run.Str("outcome"), run.GetProperty("duration_ms").GetInt64()));
    }

    [Fact]
    public async Task A_cron_monitor_whose_start_ping_is_late_reports_a_late_start_and_a_start_clears_it()
    {
        using var sub = Subscribe();
        using var deadline = Deadline(30);
        // 2031-03-14 09:26:53 UTC: the next */15 cron time is 09:30.
        var path = PathOf(await CreateAsync(new { name = "sync", cron = "*/15 * * * *", start_grace_seconds = 60, grace_seconds = 600, max_runtime_seconds = 300 }));
        await Anonymous().GetAsync(path).Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "new", "ping", deadline.Token);
        var up = await Admin.GetAsync("/api/v1/monitors/sync").Expect(HttpStatusCode.OK);
        Assert.Equal("2031-03-14T09:30:00.000Z", up.Str("next_due_at"));

        Time.Advance(TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(7) + TimeSpan.FromMilliseconds(411)); // 09:30:00.000, start due
        Time.Advance(TimeSpan.FromSeconds(60)); // 09:31: no start within its grace
        await ExpectEventAsync(sub, "monitor.late_start", "late", "up", "late_start", deadline.Token);
        await Anonymous().GetAsync($"{path}/start").Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "late", "started", deadline.Token);
        await Anonymous().GetAsync(path).Pinged();
        Assert.Equal("up", (await Admin.GetAsync("/api/v1/monitors/sync").Expect(HttpStatusCode.OK)).Str("state"));
    }

    [Fact]
    public async Task Failures_below_the_threshold_keep_the_monitor_up_and_the_nth_in_a_row_makes_it_down()
    {
        using var sub = Subscribe();
        using var deadline = Deadline(30);
        var path = PathOf(await CreateAsync(new { name = "flaky", period_seconds = 3600, failure_threshold = 3 }));
        await Anonymous().GetAsync(path).Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "new", "ping", deadline.Token);
        await Anonymous().GetAsync($"{path}/fail").Pinged();
        await Anonymous().GetAsync($"{path}/1").Pinged();
        var twice = await Admin.GetAsync("/api/v1/monitors/flaky").Expect(HttpStatusCode.OK);
        Assert.Equal(("up", 2), (twice.Str("state"), twice.GetProperty("consecutive_failures").GetInt32()));
        await Anonymous().GetAsync(path).Pinged(); // a success starts the count again
        foreach (var p in new[] { "/fail", "/2", "/255" }) await Anonymous().GetAsync(path + p).Pinged();
        await ExpectEventAsync(sub, "monitor.down", "down", "up", "failed", deadline.Token);
        await Anonymous().GetAsync($"{path}/0").Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "down", "ping", deadline.Token);
    }

    [Fact]
    public async Task A_paused_monitor_is_not_watched_and_resumes_counting_from_now()
    {
        using var sub = Subscribe();
        using var deadline = Deadline(30);
        var path = PathOf(await CreateAsync(Hourly()));
        await Anonymous().GetAsync(path).Pinged();
        await ExpectEventAsync(sub, "monitor.up", "up", "new", "ping", deadline.Token);
        var paused = await Admin.PostJsonAsync("/api/v1/monitors/backup/pause", new { reason = "host rebuild" }).Expect(HttpStatusCode.OK);
        Assert.Equal(("paused", true, "host rebuild"), (paused.Str("state"), paused.GetProperty("paused").GetBoolean(), paused.Str("pause_reason")));
        await ExpectEventAsync(sub, "monitor.paused", "paused", "up", "paused", deadline.Token);

        Time.Advance(TimeSpan.FromHours(5));
        await Anonymous().GetAsync($"{path}/fail").Pinged(); // recorded, state kept
        var resumed = await Admin.PostAsync("/api/v1/monitors/backup/resume", null).Expect(HttpStatusCode.OK);
        Assert.Equal("up", resumed.Str("state"));
        Assert.Equal("2031-03-14T15:26:53.589Z", resumed.Str("next_due_at"));
        // The first event after the pause is the resume: five silent hours and a failure made no other.
        await ExpectEventAsync(sub, "monitor.resumed", "up", "paused", "resumed", deadline.Token);
        Assert.Equal(2, (await Admin.GetAsync("/api/v1/monitors/backup/runs").Expect(HttpStatusCode.OK)).GetProperty("items").GetArrayLength());
        await Admin.PostAsync("/api/v1/monitors/nope/resume", null).ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_ping_urls_and_bodies_never_fail_the_server()
    {
        var path = PathOf(await CreateAsync(Hourly()));
        var key = path["/ping/".Length..];
        var anonymous = Anonymous();
        string[] paths =
        [
            "/ping", "/ping/", "/ping/x", "/ping/%01", $"/ping/{key.ToUpperInvariant()}", $"/ping/{key}x", $"/ping/{key}/starts", $"/ping/{key}/256", $"/ping/{key}/-1",
            $"/ping/{key}/99999999999999999999", $"/ping/{key}/1.5", $"/ping/{key}/start/extra", $"/ping/{key}/a/b/c",
            $"/ping/{key}/%E2%82", "/ping/org_/slug", "/ping/org_" + new string('0', 32), "/ping/org_" + new string('0', 32) + "/" + new string('s', 5000),
            "/ping/org_" + new string('0', 32) + "/slug/fail/more", $"/ping/{key}?rid=" + new string('r', 200), $"/ping/{key}?rid=%00", $"/ping/{key}?rid=a&rid=b",
            "/ping/../api/v1/monitors", "/ping/" + new string('k', 10_000), $"/ping/{key}/start?rid=%FF%FE",
        ];
        foreach (var p in paths)
        {
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head, HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete })
            {
                using var response = await anonymous.SendAsync(new HttpRequestMessage(method, p));
                Assert.True((int)response.StatusCode < 500, $"{method} {p}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        var bodies = new HttpContent[]
        {
            new ByteArrayContent([0, 0, 0, 0xFF, 0xFE, 0xC3]),
            new StringContent("\0null\0bytes\0"),
            new StringContent("{\"json\": true}", Encoding.UTF8, "application/json"),
            new ByteArrayContent(new byte[300_000]),
            new StringContent(new string('€', 60_000), Encoding.UTF8, "text/plain"),
            new FormUrlEncodedContent([new("a", "b")]),
        };
        foreach (var body in bodies)
        {
            using var response = await anonymous.PostAsync($"{path}/fail?rid=fuzz", body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var agent = new HttpRequestMessage(HttpMethod.Get, path))
        {
            agent.Headers.TryAddWithoutValidation("User-Agent", new string('u', 5000));
            using var response = await anonymous.SendAsync(agent);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var runs = (await Admin.GetAsync("/api/v1/monitors/backup/runs?limit=500").Expect(HttpStatusCode.OK)).GetProperty("items");
        Assert.Equal(PingApi.MaxUserAgentLength, runs[0].Str("user_agent").Length);
        Assert.DoesNotContain('\0', runs.ToString());
        await anonymous.GetAsync($"/ping/{key}/256").ExpectProblem(HttpStatusCode.BadRequest, "exit_code");
        await anonymous.GetAsync($"/ping/{key}?rid=" + new string('r', 200)).ExpectProblem(HttpStatusCode.BadRequest, "rid");
        await anonymous.GetAsync($"/ping/{new string('0', 32)}").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_ping_the_store_cannot_record_answers_503_with_retry_after_and_a_retry_once_it_can_is_recorded()
    {
        var path = PathOf(await CreateAsync(Hourly()));
        // The runs table goes away under the running server: another connection renames it in the real SQLite file.
        void Sql(string sql)
        {
            using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Factory.DataDir, "kairos.db")};Pooling=False");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
        Sql("ALTER TABLE monitor_runs RENAME TO monitor_runs_away");
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post })
        {
            using var refused = await Anonymous().SendAsync(new HttpRequestMessage(method, path + "/fail") { Content = method == HttpMethod.Post ? new StringContent("log") : null });
            await refused.ExpectProblem(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("5", refused.Headers.GetValues("Retry-After").Single());
        }
        Assert.Equal("new", (await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK)).Str("state"));

        Sql("ALTER TABLE monitor_runs_away RENAME TO monitor_runs");
        await Anonymous().GetAsync(path).Pinged();
        Assert.Equal("up", (await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK)).Str("state"));
        Assert.Single((await Admin.GetAsync("/api/v1/monitors/backup/runs").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Pings_beyond_the_rate_limit_of_a_key_get_429_with_retry_after_and_other_keys_go_on()
    {
        await using var limited = Factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton(new PingLimits { PerKey = 3, Window = TimeSpan.FromHours(1) })));
        using var admin = limited.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", KairosFactory.AdminKey);
        using var anonymous = limited.CreateClient();
        var first = PathOf(await admin.PostJsonAsync("/api/v1/monitors", Hourly("one")).Expect(HttpStatusCode.Created));
        var second = PathOf(await admin.PostJsonAsync("/api/v1/monitors", Hourly("two")).Expect(HttpStatusCode.Created));
        for (var i = 0; i < 3; i++) await anonymous.GetAsync(first).Pinged();
        using (var refused = await anonymous.GetAsync(first))
        {
            await refused.ExpectProblem(HttpStatusCode.TooManyRequests);
            Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        }
        await anonymous.GetAsync(second).Pinged();
        // The refused ping was not recorded.
        Assert.Equal(3, (await admin.GetAsync("/api/v1/monitors/one/runs").Expect(HttpStatusCode.OK)).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Another_organization_sees_none_of_the_monitors_and_its_ping_key_reaches_none()
    {
        var m = await CreateAsync(Hourly());
        var other = await OtherOrganizationAsync();
        await other.GetAsync("/api/v1/monitors/backup").ExpectProblem(HttpStatusCode.NotFound);
        await other.PatchJsonAsync("/api/v1/monitors/backup", new { grace_seconds = 1 }).ExpectProblem(HttpStatusCode.NotFound);
        await other.DeleteAsync("/api/v1/monitors/backup").ExpectProblem(HttpStatusCode.NotFound);
        await other.PostAsync("/api/v1/monitors/backup/pause", null).ExpectProblem(HttpStatusCode.NotFound);
        await other.PostAsync("/api/v1/monitors/backup/ping-key", null).ExpectProblem(HttpStatusCode.NotFound);
        await other.GetAsync("/api/v1/monitors/backup/runs").ExpectProblem(HttpStatusCode.NotFound);
        Assert.Empty((await other.GetAsync("/api/v1/monitors").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        // B's organization key and A's slug: nothing.
        var prefix = new Uri((await other.PostAsync("/api/v1/monitors/ping-key", null).Expect(HttpStatusCode.OK)).Str("ping_url_prefix")).AbsolutePath;
        await Anonymous().GetAsync($"{prefix}/backup").ExpectProblem(HttpStatusCode.NotFound);
        await other.PostJsonAsync("/api/v1/monitors", Hourly()).Expect(HttpStatusCode.Created);
        await Anonymous().GetAsync($"{prefix}/backup").Pinged();
        Assert.Equal("new", (await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK)).Str("state"));
        Assert.Equal(m.Str("ping_key"), (await Admin.GetAsync("/api/v1/monitors/backup").Expect(HttpStatusCode.OK)).Str("ping_key"));
    }
}

/// <summary>What a ping answers.</summary>
internal static class PingAnswers
{
    /// <summary>Asserts a 200 with the body <c>OK</c>.</summary>
    public static async Task Pinged(this Task<HttpResponseMessage> request)
    {
        using var response = await request;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        Assert.Equal("OK", text);
    }
}
