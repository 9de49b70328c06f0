using Kairos.Core.Monitors;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>The monitor facet: definitions per organization, pings by key and by slug, runs paired by rid, the watch's evaluation, pause.</summary>
public abstract partial class StoreConformance
{
    private static MonitorDefinition Hourly(string name = "backup") => new()
    {
        Name = name,
        Slug = name + "-slug",
        PeriodSeconds = 3600,
        GraceSeconds = 300,
        Tags = ["db", "nightly"],
    };

    private async Task<CheckInMonitor> CreateMonitorAsync(MonitorDefinition d, Guid? org = null, string? key = null)
    {
        var created = await Store.Monitors.CreateAsync(new CreateMonitorParams(org ?? OrgA, d, "hash-" + (key ?? d.Name + (org ?? OrgA)), "sealed-" + d.Name), None);
        Assert.NotNull(created);
        return created;
    }

    private Task<MonitorChange?> PingAsync(string keyHash, PingKind kind = PingKind.Success, string? rid = null, string? slug = null, int? exitCode = null,
        string? body = null) =>
        Store.Monitors.PingAsync(new PingMonitorParams(keyHash, slug, new MonitorPing(kind, exitCode, rid, body, false, "203.0.113.9", "curl/8.5")), None);

    private async Task<MonitorChange?> EvaluateAsync(CheckInMonitor m) => await Store.Monitors.EvaluateAsync(new EvaluateMonitorParams(m.OrganizationId, m.Id), None);

    [SkippableFact]
    public async Task Monitors_are_created_read_listed_updated_and_deleted_within_their_organization()
    {
        var created = await CreateMonitorAsync(Hourly("b-backup"));
        Assert.Equal(MonitorState.New, created.State);
        Assert.Equal("b-backup-slug", created.Definition.Slug);
        Assert.Equal(["db", "nightly"], created.Definition.Tags);
        Assert.Equal("sealed-b-backup", created.PingKeySealed);
        Assert.Null(created.NextCheckAt);
        Assert.Equal(Start, created.CreatedAt);

        // Name and slug are unique per organization.
        Assert.Null(await Store.Monitors.CreateAsync(new CreateMonitorParams(OrgA, Hourly("b-backup") with { Slug = "other" }, "h1", "s"), None));
        Assert.Null(await Store.Monitors.CreateAsync(new CreateMonitorParams(OrgA, Hourly("other") with { Slug = "b-backup-slug" }, "h2", "s"), None));
        await CreateMonitorAsync(Hourly("a-sync") with { PeriodSeconds = null, Cron = "0 3 * * *", TimeZone = "Europe/Berlin", StartGraceSeconds = 60 });
        await CreateMonitorAsync(Hourly("c-report"));
        await CreateMonitorAsync(Hourly("b-backup"), OrgB);

        var first = await Store.Monitors.ListAsync(new ListMonitorsParams(OrgA) { Limit = 2 }, None);
        Assert.Equal(["a-sync", "b-backup"], first.Items.Select(m => m.Name));
        var second = await Store.Monitors.ListAsync(new ListMonitorsParams(OrgA) { Limit = 2, Cursor = first.NextCursor }, None);
        Assert.Equal(["c-report"], second.Items.Select(m => m.Name));
        Assert.Null(second.NextCursor);
        Assert.Single((await Store.Monitors.ListAsync(new ListMonitorsParams(OrgB), None)).Items);
        Assert.Empty((await Store.Monitors.ListAsync(new ListMonitorsParams(OrgA) { State = MonitorState.Up }, None)).Items);

        var sync = await Store.Monitors.GetAsync(new MonitorParams(OrgA, "a-sync"), None);
        Assert.NotNull(sync);
        Assert.Equal("0 3 * * *", sync.Definition.Cron);
        Assert.Equal("Europe/Berlin", sync.Definition.TimeZone);
        Assert.Equal(60, sync.Definition.StartGraceSeconds);
        Assert.Null(await Store.Monitors.GetAsync(new MonitorParams(OrgB, "a-sync"), None));

        var updated = await Store.Monitors.UpdateAsync(new UpdateMonitorParams(OrgA, Hourly("b-backup") with { Slug = "renamed", MaxRuntimeSeconds = 900, FailureThreshold = 3 }), None);
        Assert.NotNull(updated);
        Assert.Equal("renamed", updated.Definition.Slug);
        Assert.Equal(900, updated.Definition.MaxRuntimeSeconds);
        Assert.Equal(3, updated.Definition.FailureThreshold);
        Assert.Equal(created.Id, updated.Id);
        // Another monitor's slug is refused; an unknown name is not there.
        Assert.Null(await Store.Monitors.UpdateAsync(new UpdateMonitorParams(OrgA, Hourly("c-report") with { Slug = "renamed" }), None));
        Assert.Null(await Store.Monitors.UpdateAsync(new UpdateMonitorParams(OrgA, Hourly("nope")), None));

        var rekeyed = await Store.Monitors.SetPingKeyAsync(new SetMonitorPingKeyParams(OrgA, "b-backup", "hash-new", "sealed-new"), None);
        Assert.Equal("sealed-new", rekeyed!.PingKeySealed);
        Assert.Null(await PingAsync("hash-b-backup" + OrgA));
        Assert.NotNull(await PingAsync("hash-new"));
        Assert.Null(await Store.Monitors.SetPingKeyAsync(new SetMonitorPingKeyParams(OrgB, "c-report", "x", "y"), None));

        Assert.False(await Store.Monitors.DeleteAsync(new MonitorParams(OrgB, "c-report"), None));
        Assert.True(await Store.Monitors.DeleteAsync(new MonitorParams(OrgA, "b-backup"), None));
        Assert.Null(await Store.Monitors.GetAsync(new MonitorParams(OrgA, "b-backup"), None));
        Assert.Null(await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "b-backup"), None));
        Assert.NotNull(await Store.Monitors.GetAsync(new MonitorParams(OrgB, "b-backup"), None));
        Assert.Null(await PingAsync("hash-new"));
    }

    [SkippableFact]
    public async Task A_ping_by_key_or_by_slug_records_a_run_and_brings_the_monitor_up()
    {
        var m = await CreateMonitorAsync(Hourly());
        var other = await CreateMonitorAsync(Hourly(), OrgB);
        Assert.Null(await PingAsync("unknown"));

        Time.Advance(TimeSpan.FromSeconds(10));
        var up = await PingAsync("hash-backup" + OrgA, body: "42 files");
        Assert.NotNull(up);
        Assert.Equal(MonitorState.Up, up.Monitor.State);
        Assert.Equal(new MonitorTransition(MonitorState.New, MonitorState.Up, "ping", "monitor.up"), up.Transition);
        Assert.Equal(Start.AddSeconds(10).AddHours(1), up.Monitor.Status.DueAt);
        Assert.Equal(up.Monitor.Status.DueAt, up.Monitor.NextCheckAt);
        Assert.Equal(RunOutcome.Success, up.Run!.Outcome);
        Assert.Equal("42 files", up.Run.Log);
        Assert.Equal("203.0.113.9", up.Run.SourceIp);
        Assert.Equal("curl/8.5", up.Run.UserAgent);
        Assert.Null(up.Run.StartedAt);

        // The stored monitor is what the ping answered.
        var read = await Store.Monitors.GetAsync(new MonitorParams(OrgA, "backup"), None);
        Assert.Equal(up.Monitor.Status, read!.Status);
        Assert.Equal(up.Monitor.NextCheckAt, read.NextCheckAt);

        // Slug form: the organization's ping key and the monitor's slug.
        Assert.Null(await PingAsync("org-hash-a", slug: "backup-slug"));
        await Store.Monitors.SetOrganizationPingKeyAsync(new SetOrganizationPingKeyParams(OrgA, "org-hash-a", "org-sealed-a"), None);
        await Store.Monitors.SetOrganizationPingKeyAsync(new SetOrganizationPingKeyParams(OrgB, "org-hash-b", "org-sealed-b"), None);
        Assert.Equal("org-sealed-a", (await Store.Monitors.GetOrganizationPingKeyAsync(OrgA, None))!.KeySealed);
        var bySlug = await PingAsync("org-hash-a", PingKind.Fail, slug: "backup-slug", exitCode: 3);
        Assert.Equal(m.Id, bySlug!.Monitor.Id);
        Assert.Equal(3, bySlug.Run!.ExitCode);
        Assert.Equal(RunOutcome.Fail, bySlug.Run.Outcome);
        Assert.Equal(MonitorState.Down, bySlug.Monitor.State);
        Assert.Null(await PingAsync("org-hash-a", slug: "nope"));
        var inB = await PingAsync("org-hash-b", slug: "backup-slug");
        Assert.Equal(other.Id, inB!.Monitor.Id);

        // A replaced organization key stops working at once.
        await Store.Monitors.SetOrganizationPingKeyAsync(new SetOrganizationPingKeyParams(OrgA, "org-hash-a2", "org-sealed-a2"), None);
        Assert.Null(await PingAsync("org-hash-a", slug: "backup-slug"));
        Assert.NotNull(await PingAsync("org-hash-a2", slug: "backup-slug"));
        Assert.Null(await Store.Monitors.GetOrganizationPingKeyAsync(Guid.NewGuid(), None));

        var runs = await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "backup") { Limit = 2 }, None);
        Assert.Equal([RunOutcome.Success, RunOutcome.Fail], runs!.Items.Select(r => r.Outcome));
        var rest = await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "backup") { Limit = 2, Cursor = runs.NextCursor }, None);
        Assert.Equal([RunOutcome.Success], rest!.Items.Select(r => r.Outcome));
        Assert.Null(rest.NextCursor);
        Assert.Null(await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgB, "nope"), None));
    }

    [SkippableFact]
    public async Task Starts_and_finishes_pair_by_rid_so_overlapping_runs_get_their_own_durations()
    {
        await CreateMonitorAsync(Hourly());
        var key = "hash-backup" + OrgA;
        await PingAsync(key, PingKind.Start, rid: "run-1", body: "starting 1");
        Time.Advance(TimeSpan.FromSeconds(5));
        var second = await PingAsync(key, PingKind.Start, rid: "run-2");
        Assert.Equal(Start, second!.Monitor.Status.RunningSince);
        Time.Advance(TimeSpan.FromSeconds(10));
        var done2 = await PingAsync(key, rid: "run-2", body: "ok 2");
        Assert.Equal(10_000, done2!.Run!.DurationMs);
        Assert.Equal("ok 2", done2.Run.Log);
        Assert.Equal(Start, done2.Monitor.Status.RunningSince); // run-1 is still open
        Time.Advance(TimeSpan.FromSeconds(20));
        var done1 = await PingAsync(key, PingKind.Fail, rid: "run-1", exitCode: 2);
        Assert.Equal(35_000, done1!.Run!.DurationMs);
        Assert.Equal("starting 1", done1.Run.Log); // the finish brought no body: the start's stays
        Assert.Equal(2, done1.Run.ExitCode);
        Assert.Null(done1.Monitor.Status.RunningSince);

        // Without a rid, a finish pairs with the latest open start without one; a finish with no start is a run of its own.
        await PingAsync(key, PingKind.Start);
        Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(3_000, (await PingAsync(key))!.Run!.DurationMs);
        var alone = await PingAsync(key, rid: "never-started");
        Assert.Null(alone!.Run!.StartedAt);
        Assert.Null(alone.Run.DurationMs);

        var runs = (await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "backup"), None))!.Items;
        Assert.Equal([null, 3_000, 10_000, 35_000], runs.Select(r => r.DurationMs));
        Assert.Equal(["never-started", null, "run-2", "run-1"], runs.Select(r => r.Rid));
    }

    [SkippableFact]
    public async Task A_monitor_keeps_its_newest_runs_and_drops_older_ones_beyond_the_limit()
    {
        await CreateMonitorAsync(Hourly());
        await CreateMonitorAsync(Hourly("other"));
        var key = "hash-backup" + OrgA;
        await PingAsync("hash-other" + OrgA, body: "other's run");
        const int Extra = 5;
        for (var i = 1; i <= MonitorTransactions.RunsKept + Extra; i++)
        {
            await PingAsync(key, body: $"run {i}");
        }

        var logs = new List<string?>();
        string? cursor = null;
        do
        {
            var page = (await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "backup") { Limit = 200, Cursor = cursor }, None))!;
            logs.AddRange(page.Items.Select(r => r.Log));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(MonitorTransactions.RunsKept, logs.Count);
        Assert.Equal($"run {MonitorTransactions.RunsKept + Extra}", logs[0]);
        Assert.Equal($"run {Extra + 1}", logs[^1]);
        // Another monitor's runs are not counted against it.
        Assert.Equal(["other's run"], (await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "other"), None))!.Items.Select(r => r.Log));
    }

    [SkippableFact]
    public async Task The_watch_makes_a_silent_monitor_late_then_down_and_times_out_a_run_over_its_max_runtime()
    {
        var m = await CreateMonitorAsync(Hourly() with { MaxRuntimeSeconds = 600 });
        var key = "hash-backup" + OrgA;
        Assert.Null(await EvaluateAsync(m)); // new: nothing expected
        await PingAsync(key);
        Assert.Empty(await Store.Monitors.ListDueAsync(new ListDueMonitorsParams(), None));
        Assert.Equal(Start.AddHours(1), await Store.Monitors.NextCheckAsync(None));

        Time.Advance(TimeSpan.FromHours(1));
        var due = Assert.Single(await Store.Monitors.ListDueAsync(new ListDueMonitorsParams(), None));
        Assert.Equal((OrgA, m.Id), (due.OrganizationId, due.MonitorId));
        var late = await EvaluateAsync(m);
        Assert.Equal(new MonitorTransition(MonitorState.Up, MonitorState.Late, "due", "monitor.late"), late!.Transition);
        Assert.Null(await EvaluateAsync(m)); // nothing more until the grace has passed
        Time.Advance(TimeSpan.FromSeconds(300));
        var down = await EvaluateAsync(m);
        Assert.Equal(new MonitorTransition(MonitorState.Late, MonitorState.Down, "missed", "monitor.down"), down!.Transition);
        Assert.Null(down.Monitor.NextCheckAt);
        Assert.Empty(await Store.Monitors.ListDueAsync(new ListDueMonitorsParams(), None));

        // Back up with a success; a run that starts and never finishes is timed out after the max runtime.
        Assert.Equal(MonitorState.Up, (await PingAsync(key))!.Monitor.State);
        var started = await PingAsync(key, PingKind.Start, rid: "stuck");
        Assert.Equal(Time.GetUtcNow().AddSeconds(600), started!.Monitor.NextCheckAt);
        Time.Advance(TimeSpan.FromSeconds(600));
        var overrun = await EvaluateAsync(m);
        Assert.Equal(new MonitorTransition(MonitorState.Up, MonitorState.Down, "max_runtime", "monitor.down"), overrun!.Transition);
        Assert.Null(overrun.Monitor.Status.RunningSince);
        var stuck = (await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "backup"), None))!.Items[0];
        Assert.Equal((RunOutcome.Timeout, 600_000L), (stuck.Outcome, stuck.DurationMs!.Value));
    }

    [SkippableFact]
    public async Task A_paused_monitor_records_pings_but_keeps_its_state_until_resumed()
    {
        var m = await CreateMonitorAsync(Hourly());
        var key = "hash-backup" + OrgA;
        await PingAsync(key);
        var paused = await Store.Monitors.SetPausedAsync(new PauseMonitorParams(OrgA, "backup", true, "maintenance"), None);
        Assert.Equal(new MonitorTransition(MonitorState.Up, MonitorState.Paused, "paused", "monitor.paused"), paused!.Transition);
        Assert.Equal("maintenance", paused.Monitor.PauseReason);
        Assert.Null(paused.Monitor.NextCheckAt);
        Assert.Null((await Store.Monitors.SetPausedAsync(new PauseMonitorParams(OrgA, "backup", true, "again"), None))!.Transition);

        Time.Advance(TimeSpan.FromHours(3));
        Assert.Null(await EvaluateAsync(m));
        var pinged = await PingAsync(key, PingKind.Fail);
        Assert.Equal(MonitorState.Paused, pinged!.Monitor.State);
        Assert.Null(pinged.Transition);
        Assert.Equal(2, (await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "backup"), None))!.Items.Count);

        var resumed = await Store.Monitors.SetPausedAsync(new PauseMonitorParams(OrgA, "backup", false, null), None);
        Assert.Equal(new MonitorTransition(MonitorState.Paused, MonitorState.Up, "resumed", "monitor.resumed"), resumed!.Transition);
        Assert.Null(resumed.Monitor.PauseReason);
        Assert.Equal(Time.GetUtcNow().AddHours(1), resumed.Monitor.Status.DueAt);
        Assert.Equal(0, resumed.Monitor.Status.ConsecutiveFailures);
        Assert.Null(await Store.Monitors.SetPausedAsync(new PauseMonitorParams(OrgB, "backup", true, null), None));
    }

    [SkippableFact]
    public async Task Concurrent_pings_and_evaluations_of_one_monitor_lose_no_run_and_leave_it_consistent()
    {
        var m = await CreateMonitorAsync(Hourly());
        var key = "hash-backup" + OrgA;
        await PingAsync(key);
        Time.Advance(TimeSpan.FromHours(2));
        var tasks = Enumerable.Range(0, 20).Select(i => i % 4 == 0 ? (Task)EvaluateAsync(m) : PingAsync(key, rid: $"r{i}")).ToArray();
        await Task.WhenAll(tasks).WaitAsync(ConcurrencyTimeout);
        var runs = (await Store.Monitors.ListRunsAsync(new ListMonitorRunsParams(OrgA, "backup") { Limit = 100 }, None))!.Items;
        Assert.Equal(16, runs.Count);
        var now = await Store.Monitors.GetAsync(new MonitorParams(OrgA, "backup"), None);
        Assert.Equal(MonitorState.Up, now!.State);
        Assert.Equal(Time.GetUtcNow().AddHours(1), now.Status.DueAt);
    }
}
