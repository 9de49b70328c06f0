using Kairos.Core.Monitors;

namespace Kairos.Core.Tests;

/// <summary>Every transition of <see cref="MonitorStateMachine"/>, with times given explicitly (no clock at all).</summary>
public sealed class MonitorStateMachineTests
{
    private static readonly DateTimeOffset T0 = new(2031, 3, 14, 9, 0, 0, TimeSpan.Zero);

    private static readonly MonitorDefinition Hourly = new() { Name = "backup", Slug = "backup", PeriodSeconds = 3600, GraceSeconds = 300 };

    /// <summary>Every 15 minutes; a start is expected within 60 s of each cron time.</summary>
    private static readonly MonitorDefinition Quarterly = new()
    {
        Name = "sync", Slug = "sync", Cron = "*/15 * * * *", GraceSeconds = 600, StartGraceSeconds = 60, MaxRuntimeSeconds = 300,
    };

    private static MonitorPing Ping(PingKind kind = PingKind.Success) => new(kind);

    private static MonitorStatus Up(MonitorDefinition d, DateTimeOffset at) =>
        MonitorStateMachine.Ping(d, MonitorStateMachine.Initial(false, at), Ping(), at).Status;

    private static void AssertMove(MonitorDecision decision, MonitorState from, MonitorState to, string reason, string eventType)
    {
        Assert.Equal(new MonitorTransition(from, to, reason, eventType), decision.Transition);
        Assert.Equal(to, decision.Status.State);
        Assert.Equal(reason, decision.Status.Reason);
    }

    [Fact]
    public void A_new_monitor_expects_nothing_until_its_first_ping_makes_it_up()
    {
        var s = MonitorStateMachine.Initial(false, T0);
        Assert.Equal(MonitorState.New, s.State);
        Assert.Null(MonitorStateMachine.NextCheck(Hourly, s));
        Assert.Null(MonitorStateMachine.Evaluate(Hourly, s, T0.AddDays(30)).Transition);
        // A start leaves it new.
        Assert.Null(MonitorStateMachine.Ping(Hourly, s, Ping(PingKind.Start), T0).Transition);

        var up = MonitorStateMachine.Ping(Hourly, s, Ping(), T0.AddMinutes(1));
        AssertMove(up, MonitorState.New, MonitorState.Up, "ping", "monitor.up");
        Assert.Equal(T0.AddMinutes(61), up.Status.DueAt);
        Assert.Equal(T0.AddMinutes(61), MonitorStateMachine.NextCheck(Hourly, up.Status));
        Assert.Null(MonitorStateMachine.Ping(Hourly, up.Status, Ping(), T0.AddMinutes(2)).Transition);
    }

    [Fact]
    public void An_up_monitor_is_late_from_its_due_time_and_down_once_the_grace_has_passed()
    {
        var s = Up(Hourly, T0);
        Assert.Null(MonitorStateMachine.Evaluate(Hourly, s, T0.AddMinutes(60).AddTicks(-1)).Transition);
        var late = MonitorStateMachine.Evaluate(Hourly, s, T0.AddMinutes(60));
        AssertMove(late, MonitorState.Up, MonitorState.Late, "due", "monitor.late");
        Assert.Equal(T0.AddMinutes(65), MonitorStateMachine.NextCheck(Hourly, late.Status));
        Assert.Null(MonitorStateMachine.Evaluate(Hourly, late.Status, T0.AddMinutes(65).AddTicks(-1)).Transition);
        var down = MonitorStateMachine.Evaluate(Hourly, late.Status, T0.AddMinutes(65));
        AssertMove(down, MonitorState.Late, MonitorState.Down, "missed", "monitor.down");
        Assert.Null(MonitorStateMachine.NextCheck(Hourly, down.Status));
        // Down stays down with time; a ping brings it up.
        Assert.Null(MonitorStateMachine.Evaluate(Hourly, down.Status, T0.AddDays(2)).Transition);
        AssertMove(MonitorStateMachine.Ping(Hourly, down.Status, Ping(), T0.AddDays(2)), MonitorState.Down, MonitorState.Up, "ping", "monitor.up");
        // A ping while late brings it up too.
        AssertMove(MonitorStateMachine.Ping(Hourly, late.Status, Ping(), T0.AddMinutes(62)), MonitorState.Late, MonitorState.Up, "ping", "monitor.up");
        // A pass that missed the late window (the server was down) goes straight to down.
        AssertMove(MonitorStateMachine.Evaluate(Hourly, s, T0.AddHours(3)), MonitorState.Up, MonitorState.Down, "missed", "monitor.down");
    }

    [Fact]
    public void A_started_run_is_not_late_and_is_down_when_it_exceeds_its_max_runtime()
    {
        var d = Hourly with { MaxRuntimeSeconds = 1800 };
        var s = Up(d, T0);
        var started = MonitorStateMachine.Ping(d, s, Ping(PingKind.Start), T0.AddMinutes(50)).Status with { RunningSince = T0.AddMinutes(50) };
        Assert.Equal(T0.AddMinutes(80), MonitorStateMachine.NextCheck(d, started));
        // Past the due time and its grace, but running: not late.
        Assert.Null(MonitorStateMachine.Evaluate(d, started, T0.AddMinutes(79)).Transition);
        var over = MonitorStateMachine.Evaluate(d, started, T0.AddMinutes(80));
        AssertMove(over, MonitorState.Up, MonitorState.Down, "max_runtime", "monitor.down");
        Assert.Equal(T0.AddMinutes(50), over.TimeOutRunsStartedBy);

        // Without a max runtime, a run may take the grace.
        var plain = MonitorStateMachine.Ping(Hourly, s, Ping(PingKind.Start), T0.AddMinutes(10)).Status with { RunningSince = T0.AddMinutes(10) };
        Assert.Equal(T0.AddMinutes(15), MonitorStateMachine.NextCheck(Hourly, plain));
        AssertMove(MonitorStateMachine.Evaluate(Hourly, plain, T0.AddMinutes(15)), MonitorState.Up, MonitorState.Down, "max_runtime", "monitor.down");

        // A start makes a late monitor up: it runs now.
        var late = MonitorStateMachine.Evaluate(d, s, T0.AddMinutes(61)).Status;
        AssertMove(MonitorStateMachine.Ping(d, late, Ping(PingKind.Start), T0.AddMinutes(62)), MonitorState.Late, MonitorState.Up, "started", "monitor.up");
    }

    [Fact]
    public void A_cron_monitor_is_due_at_its_next_cron_time_read_in_its_time_zone()
    {
        var d = new MonitorDefinition { Name = "n", Slug = "n", Cron = "0 3 * * *", TimeZone = "Europe/Berlin", GraceSeconds = 600 };
        // 09:00 UTC on 14 March: the next 03:00 in Berlin (CET, UTC+1) is 02:00 UTC on the 15th.
        var s = Up(d, T0);
        Assert.Equal(new DateTimeOffset(2031, 3, 15, 2, 0, 0, TimeSpan.Zero), s.DueAt);
        Assert.Null(s.StartDueAt); // no start grace: starts are not checked
        AssertMove(MonitorStateMachine.Evaluate(d, s, s.DueAt!.Value), MonitorState.Up, MonitorState.Late, "due", "monitor.late");
    }

    [Fact]
    public void A_cron_monitor_without_a_start_within_its_start_grace_is_a_late_start_and_a_start_clears_it()
    {
        var s = Up(Quarterly, T0.AddMinutes(1)); // 09:01: next cron time 09:15
        Assert.Equal(T0.AddMinutes(15), s.DueAt);
        Assert.Equal(T0.AddMinutes(15), s.StartDueAt);
        // Not late at the cron time itself: the start may take its grace.
        Assert.Equal(T0.AddMinutes(16), MonitorStateMachine.NextCheck(Quarterly, s));
        Assert.Null(MonitorStateMachine.Evaluate(Quarterly, s, T0.AddMinutes(15)).Transition);

        var lateStart = MonitorStateMachine.Evaluate(Quarterly, s, T0.AddMinutes(16));
        AssertMove(lateStart, MonitorState.Up, MonitorState.Late, "late_start", "monitor.late_start");
        Assert.Equal(T0.AddMinutes(30), lateStart.Status.StartDueAt);
        // Still no finish when the grace after the due time has passed: down.
        AssertMove(MonitorStateMachine.Evaluate(Quarterly, lateStart.Status, T0.AddMinutes(25)), MonitorState.Late, MonitorState.Down, "missed", "monitor.down");

        var started = MonitorStateMachine.Ping(Quarterly, lateStart.Status, Ping(PingKind.Start), T0.AddMinutes(17));
        AssertMove(started, MonitorState.Late, MonitorState.Up, "started", "monitor.up");
        Assert.Equal(T0.AddMinutes(30), started.Status.StartDueAt);

        // A start on time (even a few seconds early) satisfies its cron time: the next start is expected at the one after.
        var onTime = MonitorStateMachine.Ping(Quarterly, s, Ping(PingKind.Start), T0.AddMinutes(15).AddSeconds(-5));
        Assert.Null(onTime.Transition);
        Assert.Equal(T0.AddMinutes(30), onTime.Status.StartDueAt);
        var running = onTime.Status with { RunningSince = T0.AddMinutes(15).AddSeconds(-5) };
        var finished = MonitorStateMachine.Ping(Quarterly, running with { RunningSince = null }, Ping(), T0.AddMinutes(17));
        Assert.Equal(T0.AddMinutes(30), finished.Status.DueAt);
        Assert.Equal(T0.AddMinutes(31), MonitorStateMachine.NextCheck(Quarterly, finished.Status));
    }

    [Fact]
    public void Failures_below_the_threshold_keep_it_up_and_the_nth_in_a_row_makes_it_down()
    {
        var d = Hourly with { FailureThreshold = 3 };
        var s = Up(d, T0);
        var one = MonitorStateMachine.Ping(d, s, new MonitorPing(PingKind.Fail, 1), T0.AddMinutes(1));
        Assert.Null(one.Transition);
        Assert.Equal(1, one.Status.ConsecutiveFailures);
        Assert.Equal(T0.AddMinutes(61), one.Status.DueAt); // a failure is a sign of life
        var two = MonitorStateMachine.Ping(d, one.Status, Ping(PingKind.Fail), T0.AddMinutes(2));
        var reset = MonitorStateMachine.Ping(d, two.Status, Ping(), T0.AddMinutes(3));
        Assert.Equal(0, reset.Status.ConsecutiveFailures);

        var status = reset.Status;
        for (var i = 1; i <= 2; i++) status = MonitorStateMachine.Ping(d, status, Ping(PingKind.Fail), T0.AddMinutes(3 + i)).Status;
        var third = MonitorStateMachine.Ping(d, status, Ping(PingKind.Fail), T0.AddMinutes(6));
        AssertMove(third, MonitorState.Up, MonitorState.Down, "failed", "monitor.down");
        Assert.Null(MonitorStateMachine.Ping(d, third.Status, Ping(PingKind.Fail), T0.AddMinutes(7)).Transition);
        AssertMove(MonitorStateMachine.Ping(d, third.Status, Ping(), T0.AddMinutes(8)), MonitorState.Down, MonitorState.Up, "ping", "monitor.up");

        // The default threshold of 1: every failure makes it down.
        AssertMove(MonitorStateMachine.Ping(Hourly, Up(Hourly, T0), Ping(PingKind.Fail), T0.AddMinutes(1)), MonitorState.Up, MonitorState.Down, "failed", "monitor.down");
        // A failure below the threshold still ends a late or down-by-silence state: the job ran.
        var missed = MonitorStateMachine.Evaluate(d, s, T0.AddHours(2)).Status;
        AssertMove(MonitorStateMachine.Ping(d, missed, Ping(PingKind.Fail), T0.AddHours(2)), MonitorState.Down, MonitorState.Up, "ping", "monitor.up");
    }

    [Fact]
    public void A_paused_monitor_changes_with_nothing_but_resume_which_counts_from_now()
    {
        var s = Up(Hourly, T0);
        var paused = MonitorStateMachine.Pause(s, T0.AddMinutes(1));
        AssertMove(paused, MonitorState.Up, MonitorState.Paused, "paused", "monitor.paused");
        Assert.Null(MonitorStateMachine.Pause(paused.Status, T0.AddMinutes(2)).Transition);
        Assert.Null(MonitorStateMachine.NextCheck(Hourly, paused.Status));
        Assert.Null(MonitorStateMachine.Evaluate(Hourly, paused.Status, T0.AddDays(1)).Transition);
        var pinged = MonitorStateMachine.Ping(Hourly, paused.Status, Ping(PingKind.Fail), T0.AddHours(5));
        Assert.Null(pinged.Transition);
        Assert.Equal(MonitorState.Paused, pinged.Status.State);

        var resumed = MonitorStateMachine.Resume(Hourly, pinged.Status, T0.AddHours(6));
        AssertMove(resumed, MonitorState.Paused, MonitorState.Up, "resumed", "monitor.resumed");
        Assert.Equal(T0.AddHours(7), resumed.Status.DueAt);
        Assert.Equal(0, resumed.Status.ConsecutiveFailures);
        Assert.Null(MonitorStateMachine.Resume(Hourly, resumed.Status, T0.AddHours(6)).Transition);

        // A monitor paused before its first ping resumes as new.
        var neverPinged = MonitorStateMachine.Initial(true, T0);
        AssertMove(MonitorStateMachine.Resume(Hourly, neverPinged, T0.AddHours(1)), MonitorState.Paused, MonitorState.New, "resumed", "monitor.resumed");
    }

    [Fact]
    public void A_new_timing_counts_the_next_due_time_from_the_change()
    {
        var s = Up(Hourly, T0);
        var daily = Hourly with { PeriodSeconds = 86_400 };
        Assert.Equal(T0.AddMinutes(30).AddDays(1), MonitorStateMachine.Redefine(Hourly, daily, s, T0.AddMinutes(30)).DueAt);
        Assert.Equal(s, MonitorStateMachine.Redefine(Hourly, Hourly with { GraceSeconds = 60, FailureThreshold = 5 }, s, T0.AddMinutes(30)));
    }
}
