using Kairos.Core.Jobs;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Kairos.Core.Tests;

/// <summary>
/// The schedule rules on a fake clock: a small in-memory "store" fires a schedule as the real stores do (plan, overlap,
/// run claims, next fire time), while the test moves time.
/// </summary>
public class SchedulePlannerTests
{
    private static readonly DateTimeOffset Monday = new(2030, 1, 14, 0, 0, 0, TimeSpan.Zero);

    private static ScheduleDefinition Cron(string cron, string zone = "UTC") => new()
    {
        Name = "s",
        Cron = cron,
        TimeZone = zone,
        Job = new JobTemplate { Queue = "q", Type = "t" },
    };

    private static ScheduleDefinition Every(TimeSpan every) => new()
    {
        Name = "s",
        EveryMs = (long)every.TotalMilliseconds,
        Job = new JobTemplate { Queue = "q", Type = "t" },
    };

    /// <summary>A schedule and its jobs in memory, fired the way a store fires: through <see cref="ScheduleFirings"/>.</summary>
    private sealed class Simulation : IFiringSession
    {
        private readonly HashSet<DateTimeOffset> _claimed = [];

        public Simulation(ScheduleDefinition d, FakeTimeProvider time, bool paused = false)
        {
            Time = time;
            Schedule = new Schedule
            {
                Id = Guid.Parse("0190f000-0000-7000-8000-00000000abcd"),
                OrganizationId = Guid.Empty,
                Definition = d,
                Paused = paused,
                NextFireAt = SchedulePlanner.FirstFire(d, time.GetUtcNow()),
                CreatedAt = time.GetUtcNow(),
                UpdatedAt = time.GetUtcNow(),
            };
        }

        public FakeTimeProvider Time { get; }
        public Schedule Schedule { get; private set; }
        public Dictionary<Guid, (NewJob Job, JobState State)> Jobs { get; } = [];
        public List<FiredRun> Runs { get; } = [];
        public List<Misfire> Misfires { get; } = [];
        public List<JobChange> Cancelled { get; } = [];

        public IEnumerable<DateTimeOffset> FireTimes => Runs.Where(r => !r.Skipped).Select(r => r.FireTime);

        /// <summary>One firing pass at the current time, as the scheduler makes it.</summary>
        public async Task PassAsync(TimeSpan? tolerance = null)
        {
            var now = Time.GetUtcNow();
            while (!Schedule.Paused && Schedule.NextFireAt is { } next && next <= now)
            {
                var firing = await ScheduleFirings.FireAsync(Schedule, SchedulePlanner.Plan(Schedule, now, tolerance), this, CancellationToken.None);
                Runs.AddRange(firing.Runs);
                Cancelled.AddRange(firing.Cancelled);
                if (firing.Misfire is { } m) Misfires.Add(m);
            }
        }

        /// <summary>Moves the clock to each fire time in turn (plus <paramref name="lag"/>) up to <paramref name="until"/>, with a pass at each.</summary>
        public async Task RunUntilAsync(DateTimeOffset until, TimeSpan lag = default)
        {
            while (Schedule.NextFireAt is { } next && next + lag <= until)
            {
                if (next + lag > Time.GetUtcNow()) Time.SetUtcNow(next + lag);
                await PassAsync();
            }
            if (until > Time.GetUtcNow()) Time.SetUtcNow(until);
        }

        public void Finish(Guid job) => Jobs[job] = (Jobs[job].Job, JobState.Succeeded);

        public ValueTask<long?> ClaimRunAsync(DateTimeOffset fireTime, bool manual, CancellationToken cancellationToken) =>
            ValueTask.FromResult(manual || _claimed.Add(fireTime) ? Runs.Count + 1L : (long?)null);

        public ValueTask<JobState?> JobStateAsync(Guid jobId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Jobs.TryGetValue(jobId, out var j) ? j.State : (JobState?)null);

        public ValueTask<JobChange?> CancelAsync(Guid jobId, CancellationToken cancellationToken)
        {
            var (job, state) = Jobs[jobId];
            var decision = JobStateMachine.Decide(new JobSnapshot(state, 1, 1, false), JobTrigger.Cancel);
            if (!decision.Allowed) return ValueTask.FromResult<JobChange?>(null);
            Jobs[jobId] = (job, decision.To);
            return ValueTask.FromResult<JobChange?>(new JobChange(Guid.Empty, jobId, job.Queue, job.Type, state, decision.To, 1) { CancelRequested = decision.CancelRequested });
        }

        public ValueTask<Job> EnqueueAsync(NewJob job, CancellationToken cancellationToken)
        {
            var id = Ids.New(Time);
            var now = Time.GetUtcNow();
            var state = JobStateMachine.Enqueue(job.RunAt ?? now, now);
            Jobs[id] = (job, state);
            return ValueTask.FromResult(new Job
            {
                Id = id, OrganizationId = Guid.Empty, Queue = job.Queue, Type = job.Type, Payload = job.Payload, State = state,
                RunAt = job.RunAt ?? now, MaxAttempts = 1, UniqueKey = job.UniqueKey, CreatedAt = now,
            });
        }

        /// <summary>Workflow instances by id with their derived state (a workflow schedule's runs).</summary>
        public Dictionary<Guid, Kairos.Core.Workflows.WorkflowState> Workflows { get; } = [];

        public ValueTask<Kairos.Core.Workflows.WorkflowTemplate?> WorkflowTemplateAsync(string name, CancellationToken cancellationToken) =>
            ValueTask.FromResult<Kairos.Core.Workflows.WorkflowTemplate?>(new Kairos.Core.Workflows.WorkflowTemplate
            {
                Id = Guid.Empty, OrganizationId = Guid.Empty, Name = name, CreatedAt = Time.GetUtcNow(), UpdatedAt = Time.GetUtcNow(),
                Steps = [new Kairos.Core.Workflows.WorkflowTemplateStep { Id = "only", Job = new JobTemplate { Queue = "q", Type = "t" } }],
            });

        public ValueTask<Kairos.Core.Workflows.WorkflowState?> WorkflowStateAsync(Guid workflowId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Workflows.TryGetValue(workflowId, out var s) ? s : (Kairos.Core.Workflows.WorkflowState?)null);

        public ValueTask<IReadOnlyList<JobChange>> CancelWorkflowAsync(Guid workflowId, CancellationToken cancellationToken)
        {
            if (Workflows[workflowId] != Kairos.Core.Workflows.WorkflowState.Running) return ValueTask.FromResult<IReadOnlyList<JobChange>>([]);
            Workflows[workflowId] = Kairos.Core.Workflows.WorkflowState.Cancelled;
            return ValueTask.FromResult<IReadOnlyList<JobChange>>([new JobChange(Guid.Empty, workflowId, "q", "t", JobState.Queued, JobState.Cancelled, 0)]);
        }

        public ValueTask<Kairos.Core.Workflows.Workflow> CreateWorkflowAsync(Kairos.Core.Workflows.WorkflowDefinition definition, CancellationToken cancellationToken)
        {
            var id = Ids.New(Time);
            Workflows[id] = Kairos.Core.Workflows.WorkflowState.Running;
            return ValueTask.FromResult(new Kairos.Core.Workflows.Workflow
            {
                Id = id, OrganizationId = Guid.Empty, Name = definition.Name, StepsTotal = definition.Steps.Count, UnfinishedSteps = definition.Steps.Count,
                ScheduleId = Schedule.Id, CreatedAt = Time.GetUtcNow(), UpdatedAt = Time.GetUtcNow(),
            });
        }

        public ValueTask RecordRunAsync(long run, Guid? jobId, Guid? workflowId, bool skipped, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask SaveAsync(DateTimeOffset? nextFireAt, DateTimeOffset? lastFireAt, Guid? lastJobId, Guid? lastWorkflowId, CancellationToken cancellationToken)
        {
            Schedule = Schedule with { NextFireAt = nextFireAt, LastFireAt = lastFireAt, LastJobId = lastJobId, LastWorkflowId = lastWorkflowId };
            return ValueTask.CompletedTask;
        }
    }

    private static Simulation Simulate(ScheduleDefinition d, DateTimeOffset start, bool paused = false) => new(d, new FakeTimeProvider(start), paused);

    private static DateTimeOffset Utc(int y, int mo, int d, int h, int mi = 0, int s = 0) => new(y, mo, d, h, mi, s, TimeSpan.Zero);

    // ------------------------------------------------------------------ daylight saving time

    /// <summary>
    /// Berlin: 2026-03-29 02:00 CET jumps to 03:00 CEST (02:30 does not exist); 2026-10-25 03:00 CEST falls back to
    /// 02:00 CET (02:30 happens twice, at 00:30 and 01:30 UTC). New York: 2026-03-08 02:00 EST jumps to 03:00 EDT;
    /// 2026-11-01 02:00 EDT falls back to 01:00 EST (01:30 happens at 05:30 and 06:30 UTC).
    /// </summary>
    public static TheoryData<string, string, DateTimeOffset, DateTimeOffset[]> DaylightSavingChanges => new()
    {
        { "Europe/Berlin", "30 2 * * *", Utc(2026, 3, 27, 12), [Utc(2026, 3, 28, 1, 30), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 30, 0, 30)] },
        { "Europe/Berlin", "30 2 * * *", Utc(2026, 10, 23, 12), [Utc(2026, 10, 24, 0, 30), Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 26, 1, 30)] },
        { "America/New_York", "30 2 * * *", Utc(2026, 3, 6, 12), [Utc(2026, 3, 7, 7, 30), Utc(2026, 3, 8, 7, 0), Utc(2026, 3, 9, 6, 30)] },
        { "America/New_York", "30 1 * * *", Utc(2026, 10, 30, 12), [Utc(2026, 10, 31, 5, 30), Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 2, 6, 30)] },
    };

    /// <summary>A time skipped by spring-forward fires once, right after the gap; a time repeated by fall-back fires once, the first time.</summary>
    [Theory]
    [MemberData(nameof(DaylightSavingChanges))]
    public async Task Daylight_saving_changes_fire_each_local_time_once(string zone, string cron, DateTimeOffset from, DateTimeOffset[] expected)
    {
        var sim = Simulate(Cron(cron, zone), from);
        await sim.RunUntilAsync(from.AddDays(3.5));
        Assert.Equal(expected, sim.FireTimes);
    }

    [Theory]
    [InlineData("Europe/Berlin", 2026, 10, 25)]
    [InlineData("America/New_York", 2026, 11, 1)]
    public async Task Interval_expressions_keep_real_time_through_the_repeated_hour(string zone, int y, int m, int d)
    {
        var sim = Simulate(Cron("*/30 * * * *", zone), Utc(y, m, d, 0));
        await sim.RunUntilAsync(Utc(y, m, d, 12));
        var times = sim.FireTimes.ToList();
        Assert.Equal(25, times.Count);
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(TimeSpan.FromMinutes(30), pair.Second - pair.First));
    }

    // ------------------------------------------------------------------ catch-up and misfires

    [Theory]
    [InlineData(CatchUpPolicy.Skip, 0)]
    [InlineData(CatchUpPolicy.Once, 1)]
    [InlineData(CatchUpPolicy.All, 24)]
    public async Task After_a_three_day_downtime_the_catch_up_policy_decides_how_many_missed_runs_happen(CatchUpPolicy policy, int caughtUp)
    {
        var sim = Simulate(Cron("0 * * * *") with { CatchUp = policy, CatchUpLimit = 24 }, Monday);
        await sim.RunUntilAsync(Monday.AddHours(5).AddSeconds(2), lag: TimeSpan.FromSeconds(2));
        Assert.Equal(6, sim.FireTimes.Count());

        // Down for three days: 72 fire times pass unseen, then the server comes back at :20.
        sim.Time.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(18));
        await sim.PassAsync();
        var misfire = Assert.Single(sim.Misfires);
        Assert.Equal(72, misfire.Missed);
        Assert.Equal(caughtUp, misfire.CaughtUp);
        Assert.Equal(Monday.AddHours(6), misfire.FirstMissed);
        Assert.Equal(Monday.AddDays(3).AddHours(5), misfire.LastMissed);
        var late = sim.Runs.Where(r => r.Late).Select(r => r.FireTime).ToList();
        Assert.Equal(Enumerable.Range(0, caughtUp).Select(i => Monday.AddDays(3).AddHours(6 - caughtUp + i)), late);
        Assert.Equal(Monday.AddDays(3).AddHours(6), sim.Schedule.NextFireAt);

        // And then it goes on as before.
        await sim.RunUntilAsync(Monday.AddDays(3).AddHours(8), lag: TimeSpan.FromSeconds(1));
        Assert.Equal(6 + caughtUp + 2, sim.FireTimes.Count());
        Assert.Single(sim.Misfires);
    }

    [Fact]
    public async Task A_fire_time_handled_within_the_tolerance_is_on_time_whatever_the_policy()
    {
        var sim = Simulate(Every(TimeSpan.FromSeconds(10)) with { CatchUp = CatchUpPolicy.Skip }, Monday);
        await sim.PassAsync();
        // A restart that takes 45 s: the five fire times in between are late, but within the 60 s tolerance.
        sim.Time.Advance(TimeSpan.FromSeconds(45));
        await sim.PassAsync();
        Assert.Empty(sim.Misfires);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => Monday.AddSeconds(10 * i)), sim.FireTimes);
        Assert.All(sim.Runs, r => Assert.False(r.Late));
    }

    [Fact]
    public async Task A_downtime_longer_than_one_scan_is_worked_off_in_steps_and_keeps_the_latest_missed_runs()
    {
        var sim = Simulate(Cron("* * * * * *") with { CatchUp = CatchUpPolicy.All, CatchUpLimit = 10 }, Monday);
        await sim.PassAsync();
        sim.Time.Advance(TimeSpan.FromDays(3));
        await sim.PassAsync();
        var now = sim.Time.GetUtcNow();
        Assert.True(sim.Misfires.Count > 1, "three days of seconds take more than one scan");
        Assert.Equal(3 * 86_400 - 61, sim.Misfires.Sum(m => m.Missed));
        var late = sim.Runs.Where(r => r.Late).Select(r => r.FireTime).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => now.AddSeconds(-70 + i)), late);
        // The last minute is on time: all of it runs.
        Assert.Equal(61, sim.Runs.Count(r => !r.Late && r.FireTime > Monday));
        Assert.Equal(now.AddSeconds(1), sim.Schedule.NextFireAt);
    }

    // ------------------------------------------------------------------ overlap

    [Fact]
    public async Task Overlap_allow_starts_each_run_whatever_the_previous_one_does()
    {
        var sim = Simulate(Every(TimeSpan.FromMinutes(1)) with { Overlap = OverlapPolicy.Allow }, Monday);
        await sim.RunUntilAsync(Monday.AddMinutes(3));
        Assert.Equal(4, sim.Jobs.Count);
        Assert.All(sim.Jobs.Values, j => Assert.Equal(JobState.Queued, j.State));
        Assert.Empty(sim.Cancelled);
    }

    [Fact]
    public async Task Overlap_skip_skips_while_the_previous_run_is_unfinished()
    {
        var sim = Simulate(Every(TimeSpan.FromMinutes(1)) with { Overlap = OverlapPolicy.Skip }, Monday);
        await sim.RunUntilAsync(Monday.AddMinutes(2));
        Assert.Equal([false, true, true], sim.Runs.Select(r => r.Skipped));
        sim.Finish(sim.Runs[0].Job!.Id);
        await sim.RunUntilAsync(Monday.AddMinutes(4));
        Assert.Equal([false, true, true, false, true], sim.Runs.Select(r => r.Skipped));
        Assert.Equal(2, sim.Jobs.Count);
    }

    [Fact]
    public async Task Overlap_replace_cancels_the_unfinished_previous_run_then_starts()
    {
        var sim = Simulate(Every(TimeSpan.FromMinutes(1)) with { Overlap = OverlapPolicy.Replace }, Monday);
        await sim.RunUntilAsync(Monday.AddMinutes(2));
        Assert.Equal(3, sim.Jobs.Count);
        var jobs = sim.Runs.Select(r => r.Job!.Id).ToList();
        Assert.Equal([JobState.Cancelled, JobState.Cancelled, JobState.Queued], jobs.Select(id => sim.Jobs[id].State));
        Assert.Equal([null, jobs[0], jobs[1]], sim.Runs.Select(r => r.Replaced));
        Assert.Equal(jobs[..2], sim.Cancelled.Select(c => c.JobId));

        // A finished previous run is not touched.
        sim.Finish(jobs[2]);
        await sim.RunUntilAsync(Monday.AddMinutes(3));
        Assert.Null(sim.Runs[^1].Replaced);
        Assert.Equal(JobState.Succeeded, sim.Jobs[jobs[2]].State);
    }

    [Fact]
    public async Task A_workflow_schedule_judges_overlap_by_its_previous_instance()
    {
        var skip = Simulate(Every(TimeSpan.FromMinutes(1)) with { Job = null, Workflow = "etl", Overlap = OverlapPolicy.Skip }, Monday);
        await skip.RunUntilAsync(Monday.AddMinutes(2));
        Assert.Equal([false, true, true], skip.Runs.Select(r => r.Skipped));
        Assert.Empty(skip.Jobs);
        var first = skip.Runs[0].Workflow!;
        Assert.Equal(("etl", skip.Schedule.Id), (first.Name, first.ScheduleId));
        Assert.Equal(first.Id, skip.Schedule.LastWorkflowId);
        skip.Workflows[first.Id] = Kairos.Core.Workflows.WorkflowState.Failed; // finished: no longer in the way
        await skip.RunUntilAsync(Monday.AddMinutes(3));
        Assert.False(skip.Runs[^1].Skipped);
        Assert.Equal(2, skip.Workflows.Count);

        var replace = Simulate(Every(TimeSpan.FromMinutes(1)) with { Job = null, Workflow = "etl", Overlap = OverlapPolicy.Replace }, Monday);
        await replace.RunUntilAsync(Monday.AddMinutes(1));
        var (older, newer) = (replace.Runs[0].Workflow!.Id, replace.Runs[1].Workflow!.Id);
        Assert.Equal(older, replace.Runs[1].Replaced);
        Assert.Equal(Kairos.Core.Workflows.WorkflowState.Cancelled, replace.Workflows[older]);
        Assert.Equal(Kairos.Core.Workflows.WorkflowState.Running, replace.Workflows[newer]);
    }

    [Theory]
    [InlineData(OverlapPolicy.Skip, null, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Skip, Kairos.Core.Workflows.WorkflowState.Running, OverlapDecision.Skip)]
    [InlineData(OverlapPolicy.Skip, Kairos.Core.Workflows.WorkflowState.Failed, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Replace, Kairos.Core.Workflows.WorkflowState.Running, OverlapDecision.ReplaceThenFire)]
    [InlineData(OverlapPolicy.Replace, Kairos.Core.Workflows.WorkflowState.Succeeded, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Allow, Kairos.Core.Workflows.WorkflowState.Running, OverlapDecision.Fire)]
    public void The_overlap_policy_of_a_workflow_schedule_looks_at_whether_the_previous_instance_runs(
        OverlapPolicy policy, Kairos.Core.Workflows.WorkflowState? previous, OverlapDecision expected) =>
        Assert.Equal(expected, SchedulePlanner.Overlap(policy, previous));

    [Theory]
    [InlineData(OverlapPolicy.Allow, null, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Skip, null, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Replace, null, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Skip, JobState.Succeeded, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Replace, JobState.Failed, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Allow, JobState.Running, OverlapDecision.Fire)]
    [InlineData(OverlapPolicy.Skip, JobState.Running, OverlapDecision.Skip)]
    [InlineData(OverlapPolicy.Skip, JobState.Retrying, OverlapDecision.Skip)]
    [InlineData(OverlapPolicy.Replace, JobState.Queued, OverlapDecision.ReplaceThenFire)]
    [InlineData(OverlapPolicy.Replace, JobState.Scheduled, OverlapDecision.ReplaceThenFire)]
    public void The_overlap_policy_looks_at_whether_the_previous_run_is_finished(OverlapPolicy policy, JobState? previous, OverlapDecision expected) =>
        Assert.Equal(expected, SchedulePlanner.Overlap(policy, previous));

    // ------------------------------------------------------------------ jitter, start, end, pause

    [Fact]
    public async Task Jitter_delays_each_run_within_its_bound_and_the_same_way_every_time()
    {
        var sim = Simulate(Every(TimeSpan.FromMinutes(1)) with { JitterMs = 30_000 }, Monday);
        await sim.RunUntilAsync(Monday.AddHours(10));
        var delays = sim.Runs.Select(r => r.Job!.RunAt - r.FireTime).ToList();
        Assert.Equal(601, delays.Count);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromSeconds(30)));
        Assert.True(delays.Min() < TimeSpan.FromSeconds(3) && delays.Max() > TimeSpan.FromSeconds(27), "spread over the whole bound");
        Assert.Equal(delays, sim.Runs.Select(r => SchedulePlanner.Jitter(sim.Schedule.Id, r.FireTime, 30_000)));
        Assert.Equal(TimeSpan.Zero, SchedulePlanner.Jitter(sim.Schedule.Id, Monday, 0));
    }

    [Fact]
    public async Task A_schedule_fires_from_its_start_to_its_end_only()
    {
        var d = Cron("0 */6 * * *") with { StartAt = Monday.AddHours(7), EndAt = Monday.AddDays(1).AddHours(12) };
        var sim = Simulate(d, Monday);
        Assert.Equal(Monday.AddHours(12), sim.Schedule.NextFireAt);
        await sim.RunUntilAsync(Monday.AddDays(3));
        Assert.Equal([Monday.AddHours(12), Monday.AddHours(18), Monday.AddDays(1), Monday.AddDays(1).AddHours(6), Monday.AddDays(1).AddHours(12)], sim.FireTimes);
        Assert.Null(sim.Schedule.NextFireAt);
        Assert.Null(SchedulePlanner.FirstFire(d, Monday.AddDays(2)));
    }

    [Fact]
    public async Task An_interval_is_aligned_to_its_start()
    {
        var sim = Simulate(Every(TimeSpan.FromMinutes(15)) with { StartAt = Monday.AddMinutes(7) }, Monday.AddHours(1));
        await sim.RunUntilAsync(Monday.AddHours(2));
        Assert.Equal([67, 82, 97, 112], sim.FireTimes.Select(t => (t - Monday).TotalMinutes));
    }

    [Fact]
    public async Task A_paused_schedule_plans_nothing()
    {
        var sim = Simulate(Every(TimeSpan.FromMinutes(1)), Monday, paused: true);
        sim.Time.Advance(TimeSpan.FromHours(1));
        var plan = SchedulePlanner.Plan(sim.Schedule, sim.Time.GetUtcNow());
        Assert.Empty(plan.Fires);
        Assert.Null(plan.Misfire);
        await sim.PassAsync();
        Assert.Empty(sim.Runs);
    }

    [Fact]
    public void A_changed_definition_keeps_its_next_fire_time_unless_the_timing_changed()
    {
        var d = Every(TimeSpan.FromMinutes(1));
        var s = new Schedule { Id = Guid.NewGuid(), OrganizationId = Guid.Empty, Definition = d, NextFireAt = Monday, CreatedAt = Monday, UpdatedAt = Monday };
        var now = Monday.AddSeconds(30);
        Assert.Equal(Monday, SchedulePlanner.Reschedule(s, d with { JitterMs = 5, Job = d.Job! with { Priority = 3 } }, now));
        Assert.Equal(Monday.AddHours(1), SchedulePlanner.Reschedule(s, d with { EveryMs = 3_600_000 }, now));
        Assert.Equal(Monday.AddHours(8), SchedulePlanner.Reschedule(s, d with { EveryMs = null, Cron = "0 9 * * *", TimeZone = "Europe/Berlin" }, now));
    }

    // ------------------------------------------------------------------ parsing, preview, description

    [Theory]
    [InlineData("0 25 * * *", "field 2 (hour) \"25\" at position 3: must be a number between 0 and 23")]
    [InlineData("61 * * * *", "field 1 (minute) \"61\" at position 1: must be a number between 0 and 59")]
    [InlineData("0 9 * * MON-FRX", "field 5 (day of week) \"MON-FRX\" at position 9")]
    [InlineData("*/0 * * * * *", "field 1 (second) \"*/0\" at position 1")]
    [InlineData("0 0 9 * 13 *", "field 5 (month) \"13\"")]
    [InlineData("* * *", "has 3 fields")]
    [InlineData("@fortnightly", "not a known macro")]
    [InlineData(" ", "is required")]
    public void Invalid_cron_expressions_name_the_field_and_its_position(string cron, string expected)
    {
        Assert.False(ScheduleTiming.TryParseCron(cron, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Europe/Berlin", true)]
    [InlineData("America/New_York", true)]
    [InlineData("UTC", true)]
    [InlineData("Mars/Olympus_Mons", false)]
    [InlineData("../../etc/passwd", false)]
    [InlineData("", false)]
    public void Time_zones_are_iana_names(string zone, bool valid) =>
        Assert.Equal(valid, ScheduleTiming.TryFindTimeZone(zone, out _, out _));

    [Theory]
    [InlineData("0 9 * * 1-5", "At 09:00, Monday through Friday")]
    [InlineData("0 9 * * MON-FRI", "At 09:00, Monday through Friday")]
    [InlineData("*/15 * * * *", "Every 15 minutes")]
    [InlineData("30 2 * * *", "At 02:30, every day")]
    [InlineData("0 0 1 * *", "At 00:00, on day 1 of the month")]
    [InlineData("0 9,17 * * *", "At 09:00 and 17:00")]
    [InlineData("5 * * * *", "At 5 minutes past the hour")]
    [InlineData("0 * * * *", "Every hour")]
    [InlineData("*/10 9-17 * * 1-5", "Every 10 minutes, between 09:00 and 17:59, Monday through Friday")]
    [InlineData("0 12 * * 5L", "At 12:00, on the last Friday of the month")]
    [InlineData("0 8 * 1,7 1#1", "At 08:00, on the first Monday of the month, only in January and July")]
    [InlineData("*/5 * * * * *", "Every 5 seconds")]
    [InlineData("30 0 6 * * *", "At 06:00:30, every day")]
    [InlineData("@daily", "At 00:00, every day")]
    [InlineData("@hourly", "Every hour")]
    public void Cron_expressions_read_as_english(string cron, string expected)
    {
        Assert.True(ScheduleTiming.TryParseCron(cron, out _, out _));
        Assert.Equal(expected, CronDescription.Describe(cron));
    }

    [Fact]
    public void Preview_lists_the_next_fire_times_in_the_zone()
    {
        var next = SchedulePlanner.Preview(Cron("0 9 * * 1-5", "Europe/Berlin"), Monday.AddHours(12), 6);
        Assert.Equal([15, 16, 17, 18, 21, 22], next.Select(t => t.Day));
        Assert.All(next, t => Assert.Equal(8, t.Hour)); // 09:00 CET
        Assert.Equal(TimeSpan.Zero, next[0].Offset);
    }
}
