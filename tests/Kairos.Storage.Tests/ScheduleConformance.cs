using System.Collections.Concurrent;
using Kairos.Core.Jobs;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>The schedule facet: definitions per organization, firing exactly once per fire time, overlap, catch-up, runs.</summary>
public abstract partial class StoreConformance
{
    private static ScheduleDefinition EveryMinute(string name = "minutely", OverlapPolicy overlap = OverlapPolicy.Allow) => new()
    {
        Name = name,
        EveryMs = 60_000,
        Job = new JobTemplate { Queue = "cron", Type = "report.build", Payload = """{"kind":"daily"}""", Priority = 2, Tags = ["scheduled"] },
        Overlap = overlap,
    };

    private async Task<Schedule> CreateScheduleAsync(ScheduleDefinition d, Guid? org = null, bool paused = false)
    {
        var created = await Store.Schedules.CreateAsync(new CreateScheduleParams(org ?? OrgA, d, paused, paused ? "maintenance" : null), None);
        Assert.NotNull(created);
        return created;
    }

    /// <summary>One firing pass as the scheduler runs it: every due schedule, one firing each.</summary>
    private async Task<List<ScheduleFiring>> FirePassAsync(IKairosStore? store = null)
    {
        store ??= Store;
        var firings = new List<ScheduleFiring>();
        foreach (var due in await store.Schedules.ListDueAsync(new ListDueSchedulesParams(), None))
        {
            if (await store.Schedules.FireAsync(new FireScheduleParams(due.OrganizationId, due.ScheduleId), None) is { } f) firings.Add(f);
        }
        return firings;
    }

    private async Task<List<Job>> JobsOfAsync(string queue = "cron", Guid? org = null) =>
        await ListAllAsync(new ListJobsParams(org ?? OrgA) { Queue = queue, Sort = JobSort.OldestFirst });

    [SkippableFact]
    public async Task Schedules_are_created_read_listed_updated_paused_and_deleted_within_their_organization()
    {
        var created = await CreateScheduleAsync(EveryMinute("b-report") with { JitterMs = 500, CatchUp = CatchUpPolicy.All, CatchUpLimit = 3 });
        Assert.Equal("b-report", created.Name);
        Assert.Equal(OrgA, created.OrganizationId);
        Assert.Equal(Start, created.NextFireAt);
        Assert.Equal(Start, created.CreatedAt);
        Assert.Equal(CatchUpPolicy.All, created.Definition.CatchUp);
        Assert.Equal(3, created.Definition.CatchUpLimit);
        AssertJsonEqual("""{"kind":"daily"}""", created.Definition.Job!.Payload);
        Assert.Equal(["scheduled"], created.Definition.Job!.Tags);

        Assert.Null(await Store.Schedules.CreateAsync(new CreateScheduleParams(OrgA, EveryMinute("b-report")), None));
        await CreateScheduleAsync(EveryMinute("a-cleanup") with { Cron = "0 9 * * 1-5", EveryMs = null, TimeZone = "Europe/Berlin" });
        await CreateScheduleAsync(EveryMinute("c-sync"));
        await CreateScheduleAsync(EveryMinute("b-report"), OrgB);

        var first = await Store.Schedules.ListAsync(new ListSchedulesParams(OrgA) { Limit = 2 }, None);
        Assert.Equal(["a-cleanup", "b-report"], first.Items.Select(s => s.Name));
        Assert.NotNull(first.NextCursor);
        var second = await Store.Schedules.ListAsync(new ListSchedulesParams(OrgA) { Limit = 2, Cursor = first.NextCursor }, None);
        Assert.Equal(["c-sync"], second.Items.Select(s => s.Name));
        Assert.Null(second.NextCursor);
        Assert.Single((await Store.Schedules.ListAsync(new ListSchedulesParams(OrgB), None)).Items);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Schedules.ListAsync(new ListSchedulesParams(OrgA) { Cursor = "bogus" }, None));

        var cleanup = await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "a-cleanup"), None);
        Assert.NotNull(cleanup);
        Assert.Equal("0 9 * * 1-5", cleanup.Definition.Cron);
        Assert.Equal("Europe/Berlin", cleanup.Definition.TimeZone);
        // 2030-01-15 is a Tuesday; 09:00 in Berlin (CET) is 08:00 UTC, so the next one is Wednesday's.
        Assert.Equal(new DateTimeOffset(2030, 1, 16, 8, 0, 0, TimeSpan.Zero), cleanup.NextFireAt);

        // A change of the template keeps the next fire time; a change of the timing computes it anew from now.
        Time.Advance(TimeSpan.FromSeconds(30));
        var kept = await Store.Schedules.UpdateAsync(new UpdateScheduleParams(OrgA, created.Definition with { Job = created.Definition.Job! with { Priority = 9 } }), None);
        Assert.NotNull(kept);
        Assert.Equal(9, kept.Definition.Job!.Priority);
        Assert.Equal(Start, kept.NextFireAt);
        Assert.Equal(Start.AddSeconds(30), kept.UpdatedAt);
        var moved = await Store.Schedules.UpdateAsync(new UpdateScheduleParams(OrgA, kept.Definition with { EveryMs = 3_600_000 }), None);
        Assert.Equal(Start.AddHours(1), moved!.NextFireAt);
        Assert.Null(await Store.Schedules.UpdateAsync(new UpdateScheduleParams(OrgA, EveryMinute("nope")), None));

        var paused = await Store.Schedules.SetPausedAsync(new PauseScheduleParams(OrgA, "b-report", true, "quarter end"), None);
        Assert.True(paused!.Paused);
        Assert.Equal("quarter end", paused.PauseReason);
        Assert.Null(await Store.Schedules.SetPausedAsync(new PauseScheduleParams(OrgA, "nope", true, null), None));

        // Another organization sees none of it.
        Assert.Null(await Store.Schedules.GetAsync(new ScheduleParams(OrgB, "a-cleanup"), None));
        Assert.False(await Store.Schedules.DeleteAsync(new ScheduleParams(OrgB, "a-cleanup"), None));
        Assert.Null(await Store.Schedules.TriggerAsync(new ScheduleParams(OrgB, "a-cleanup"), None));
        Assert.Null(await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgB, "a-cleanup"), None));
        Assert.False((await Store.Schedules.GetAsync(new ScheduleParams(OrgB, "b-report"), None))!.Paused);

        Assert.True(await Store.Schedules.DeleteAsync(new ScheduleParams(OrgA, "a-cleanup"), None));
        Assert.False(await Store.Schedules.DeleteAsync(new ScheduleParams(OrgA, "a-cleanup"), None));
        Assert.Null(await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "a-cleanup"), None));
    }

    [SkippableFact]
    public async Task A_due_schedule_fires_once_enqueues_its_template_and_advances_its_next_fire_time()
    {
        var s = await CreateScheduleAsync(EveryMinute() with { JitterMs = 5_000 });
        Assert.Equal(Start, await Store.Schedules.NextFireAsync(None));
        Time.Advance(TimeSpan.FromMilliseconds(150));

        var firing = Assert.Single(await FirePassAsync());
        Assert.Equal(s.Id, firing.ScheduleId);
        Assert.Null(firing.Misfire);
        Assert.Equal(Start.AddMinutes(1), firing.NextFireAt);
        var run = Assert.Single(firing.Runs);
        Assert.Equal(Start, run.FireTime);
        Assert.False(run.Manual || run.Skipped || run.Late);
        var job = run.Job!;
        Assert.Equal("cron", job.Queue);
        Assert.Equal("report.build", job.Type);
        Assert.Equal(2, job.Priority);
        Assert.Equal(["scheduled"], job.Tags);
        Assert.Equal(SchedulePlanner.UniqueKey(s.Id, Start), job.UniqueKey);
        Assert.Equal(Start + SchedulePlanner.Jitter(s.Id, Start, 5_000), job.RunAt);

        // Fired: not due any more, whoever asks.
        Assert.Empty(await FirePassAsync());
        Assert.Null(await Store.Schedules.FireAsync(new FireScheduleParams(OrgA, s.Id), None));
        var after = await Store.Schedules.GetAsync(new ScheduleParams(OrgA, s.Name), None);
        Assert.Equal(Start.AddMinutes(1), after!.NextFireAt);
        Assert.Equal(Start, after.LastFireAt);
        Assert.Equal(job.Id, after.LastJobId);
        Assert.Equal([job.Id], (await JobsOfAsync()).Select(j => j.Id));

        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(Start.AddMinutes(1), Assert.Single(Assert.Single(await FirePassAsync()).Runs).FireTime);
        Assert.Equal(2, (await JobsOfAsync()).Count);
    }

    [SkippableFact]
    public async Task Concurrent_firing_passes_for_the_same_fire_time_make_exactly_one_job()
    {
        var schedules = new List<Schedule>();
        for (var i = 0; i < 3; i++) schedules.Add(await CreateScheduleAsync(EveryMinute($"race-{i}")));
        for (var round = 0; round < 3; round++)
        {
            Time.Advance(TimeSpan.FromSeconds(round == 0 ? 1 : 60));
            var firings = new ConcurrentBag<ScheduleFiring>();
            var work = new List<Func<CancellationToken, Task>>();
            foreach (var s in schedules)
            {
                for (var k = 0; k < 6; k++)
                {
                    work.Add(async _ =>
                    {
                        if (await Store.Schedules.FireAsync(new FireScheduleParams(OrgA, s.Id), None) is { } f) firings.Add(f);
                    });
                }
            }
            await RunConcurrentlyAsync(work);
            Assert.Equal(schedules.Count, firings.Count);
            Assert.All(firings, f => Assert.Single(f.Runs));
        }
        var jobs = await JobsOfAsync();
        Assert.Equal(9, jobs.Count);
        Assert.Equal(9, jobs.Select(j => j.UniqueKey).Distinct().Count());
        foreach (var s in schedules)
        {
            var runs = await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name), None);
            Assert.Equal([Start.AddMinutes(2), Start.AddMinutes(1), Start], runs!.Items.Select(r => r.FireTime));
        }
    }

    [SkippableFact]
    public async Task Overlap_skip_skips_fire_times_while_the_previous_run_is_unfinished()
    {
        var s = await CreateScheduleAsync(EveryMinute(overlap: OverlapPolicy.Skip));
        var worker = await RegisterAsync("w", OrgA, "cron");
        var first = Assert.Single(Assert.Single(await FirePassAsync()).Runs).Job!;

        Time.Advance(TimeSpan.FromMinutes(1));
        var skipped = Assert.Single(Assert.Single(await FirePassAsync()).Runs);
        Assert.True(skipped.Skipped);
        Assert.Null(skipped.Job);
        var leased = await LeaseOneAsync(worker, "cron");
        Assert.Equal(first.Id, leased.Job.Id);

        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(Assert.Single(Assert.Single(await FirePassAsync()).Runs).Skipped); // still running
        await AckAsync(first.Id, leased.LeaseToken);

        Time.Advance(TimeSpan.FromMinutes(1));
        var next = Assert.Single(Assert.Single(await FirePassAsync()).Runs);
        Assert.False(next.Skipped);
        Assert.NotNull(next.Job);
        Assert.Equal(2, (await JobsOfAsync()).Count);

        var runs = (await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name), None))!.Items;
        Assert.Equal([false, true, true, false], runs.Select(r => r.Skipped));
        Assert.Equal(JobState.Succeeded, runs[3].Job!.State);
    }

    [SkippableFact]
    public async Task Overlap_replace_cancels_the_previous_run_through_the_state_machine_then_starts()
    {
        await CreateScheduleAsync(EveryMinute(overlap: OverlapPolicy.Replace));
        var worker = await RegisterAsync("w", OrgA, "cron");
        var first = Assert.Single(Assert.Single(await FirePassAsync()).Runs).Job!;

        // A queued previous run is cancelled outright.
        Time.Advance(TimeSpan.FromMinutes(1));
        var second = Assert.Single(await FirePassAsync());
        Assert.Equal(first.Id, Assert.Single(second.Runs).Replaced);
        var cancelled = Assert.Single(second.Cancelled);
        Assert.Equal((JobState?)JobState.Queued, cancelled.From);
        Assert.Equal(JobState.Cancelled, cancelled.To);
        Assert.Equal(JobState.Cancelled, (await GetJobAsync(first.Id)).State);

        // A running one is asked to stop (its worker hears it at the next heartbeat); the new run starts beside it.
        var running = await LeaseOneAsync(worker, "cron");
        Time.Advance(TimeSpan.FromMinutes(1));
        var third = Assert.Single(await FirePassAsync());
        var request = Assert.Single(third.Cancelled);
        Assert.Equal(running.Job.Id, request.JobId);
        Assert.True(request.CancelRequested);
        var stillRunning = await GetJobAsync(running.Job.Id);
        Assert.Equal(JobState.Running, stillRunning.State);
        Assert.True(stillRunning.CancelRequested);
        Assert.Equal(JobState.Queued, Assert.Single(third.Runs).Job!.State);

        // A finished previous run is left alone.
        await FailAsync(running.Job.Id, running.LeaseToken, "stopped", retryable: true);
        Assert.Equal(JobState.Cancelled, (await GetJobAsync(running.Job.Id)).State);
    }

    [SkippableFact]
    public async Task Overlap_allow_starts_runs_beside_unfinished_ones()
    {
        await CreateScheduleAsync(EveryMinute(overlap: OverlapPolicy.Allow));
        for (var i = 0; i < 3; i++)
        {
            var run = Assert.Single(Assert.Single(await FirePassAsync()).Runs);
            Assert.NotNull(run.Job);
            Time.Advance(TimeSpan.FromMinutes(1));
        }
        Assert.All(await JobsOfAsync(), j => Assert.Equal(JobState.Queued, j.State));
        Assert.Equal(3, (await JobsOfAsync()).Count);
    }

    [SkippableTheory]
    [InlineData(CatchUpPolicy.Skip, 0)]
    [InlineData(CatchUpPolicy.Once, 1)]
    [InlineData(CatchUpPolicy.All, 5)]
    public async Task After_a_three_day_downtime_the_catch_up_policy_decides_what_runs(CatchUpPolicy policy, int expected)
    {
        var s = await CreateScheduleAsync(EveryMinute("hourly") with { EveryMs = 3_600_000, CatchUp = policy, CatchUpLimit = 5 });
        Time.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(30));

        var firing = Assert.Single(await FirePassAsync());
        var misfire = firing.Misfire!;
        Assert.Equal(73, misfire.Missed); // 12:00 on day 0 through 12:00 on day 3
        Assert.Equal(expected, misfire.CaughtUp);
        Assert.Equal(Start, misfire.FirstMissed);
        Assert.Equal(Start.AddDays(3), misfire.LastMissed);
        var fired = firing.Runs.Select(r => r.FireTime).ToList();
        Assert.Equal(Enumerable.Range(0, expected).Select(i => Start.AddDays(3).AddHours(i - expected + 1)), fired);
        Assert.All(firing.Runs, r => Assert.True(r.Late));
        Assert.Equal(Start.AddDays(3).AddHours(1), firing.NextFireAt);
        Assert.Equal(expected, (await JobsOfAsync()).Count);
        Assert.Equal(expected, (await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name), None))!.Items.Count);
        Assert.Empty(await FirePassAsync());
    }

    [SkippableFact]
    public async Task Paused_schedules_do_not_fire_and_resume_from_now_without_running_what_they_missed()
    {
        var s = await CreateScheduleAsync(EveryMinute(), paused: true);
        Assert.True(s.Paused);
        Assert.Equal("maintenance", s.PauseReason);
        Assert.Null(await Store.Schedules.NextFireAsync(None));
        Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(await FirePassAsync());

        Time.Advance(TimeSpan.FromSeconds(20));
        var resumed = await Store.Schedules.SetPausedAsync(new PauseScheduleParams(OrgA, s.Name, false, null), None);
        Assert.False(resumed!.Paused);
        Assert.Null(resumed.PauseReason);
        Assert.Equal(Start.AddMinutes(11), resumed.NextFireAt);
        Assert.Empty(await FirePassAsync());
        Time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(Start.AddMinutes(11), Assert.Single(Assert.Single(await FirePassAsync()).Runs).FireTime);
        Assert.Single(await JobsOfAsync());
    }

    [SkippableFact]
    public async Task A_schedule_past_its_end_stops_and_one_before_its_start_waits()
    {
        await CreateScheduleAsync(EveryMinute("bounded") with { StartAt = Start.AddMinutes(5), EndAt = Start.AddMinutes(7) });
        var s = await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "bounded"), None);
        Assert.Equal(Start.AddMinutes(5), s!.NextFireAt);
        var fired = new List<DateTimeOffset>();
        for (var i = 0; i < 12; i++)
        {
            foreach (var f in await FirePassAsync()) fired.AddRange(f.Runs.Select(r => r.FireTime));
            Time.Advance(TimeSpan.FromMinutes(1));
        }
        Assert.Equal([Start.AddMinutes(5), Start.AddMinutes(6), Start.AddMinutes(7)], fired);
        Assert.Null((await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "bounded"), None))!.NextFireAt);
    }

    [SkippableFact]
    public async Task Trigger_runs_the_template_now_and_the_history_lists_runs_with_their_jobs_newest_first()
    {
        var s = await CreateScheduleAsync(EveryMinute() with { StartAt = Start.AddHours(1), Overlap = OverlapPolicy.Skip });
        var worker = await RegisterAsync("w", OrgA, "cron");
        var triggers = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            var firing = await Store.Schedules.TriggerAsync(new ScheduleParams(OrgA, s.Name), None);
            var run = Assert.Single(firing!.Runs);
            Assert.True(run.Manual);
            Assert.Equal(Time.GetUtcNow(), run.FireTime);
            Assert.Null(run.Job!.UniqueKey);
            Assert.Equal(Start.AddHours(1), firing.NextFireAt);
            triggers.Add(run.Job.Id);
        }
        var leased = await LeaseOneAsync(worker, "cron");
        Time.Advance(TimeSpan.FromSeconds(3));
        await AckAsync(leased.Job.Id, leased.LeaseToken);

        var page1 = await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name) { Limit = 2 }, None);
        Assert.Equal([triggers[2], triggers[1]], page1!.Items.Select(r => r.JobId!.Value));
        Assert.NotNull(page1.NextCursor);
        var page2 = await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name) { Limit = 2, Cursor = page1.NextCursor }, None);
        var oldest = Assert.Single(page2!.Items);
        Assert.Null(page2.NextCursor);
        Assert.Equal(triggers[0], oldest.JobId);
        Assert.True(oldest.Manual);
        Assert.Equal(JobState.Succeeded, oldest.Job!.State);
        Assert.Equal(TimeSpan.FromSeconds(3), oldest.Job.FinishedAt - oldest.Job.StartedAt);

        // A deleted job leaves its run in the history, without the job.
        await Store.Jobs.DeleteAsync(new JobCommandParams(OrgA, triggers[2]), None);
        var newest = (await Store.Schedules.ListRunsAsync(new ListScheduleRunsParams(OrgA, s.Name), None))!.Items[0];
        Assert.Equal(triggers[2], newest.JobId);
        Assert.Null(newest.Job);
    }
}
