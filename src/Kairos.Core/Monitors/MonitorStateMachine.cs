using Kairos.Core.Schedules;

namespace Kairos.Core.Monitors;

/// <summary>What the state machine decided: the new status, the change of state (null when none), and which open runs end as timed out.</summary>
/// <param name="TimeOutRunsStartedBy">Open runs started at or before this moment are over their limit: the store closes them as <c>timeout</c>.</param>
public sealed record MonitorDecision(MonitorStatus Status, MonitorTransition? Transition, DateTimeOffset? TimeOutRunsStartedBy = null);

/// <summary>
/// THE rules of check-in monitors, as pure functions of a monitor's definition, its status and the time: what a ping
/// changes, what the passing of time changes (<see cref="Evaluate"/>), pause and resume, and the next moment anything
/// can change without a ping (<see cref="NextCheck"/>). Stores call them inside the transaction that read the monitor
/// and persist the outcome; the watch on the leader calls <see cref="Evaluate"/> through the store at that moment.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>new</c>: never pinged; nothing is expected, nothing alerts (a start ping leaves it new).</item>
/// <item><c>up</c> → <c>late</c> when the due time passes with no run open (reason <c>due</c>), or, for a cron monitor
/// with a start grace, when a cron time passes its start grace without a start ping (<c>late_start</c>; such a monitor
/// is late for a missing finish only after the start grace too).</item>
/// <item><c>up</c>/<c>late</c> → <c>down</c> when the grace after the due time passes with no run open (<c>missed</c>);
/// when the earliest open run has been running longer than the max runtime (or, without one, the grace) (<c>max_runtime</c>);
/// or when a failure makes <see cref="MonitorDefinition.FailureThreshold"/> in a row (<c>failed</c>).</item>
/// <item>A success (and a failure below the threshold) makes <c>new</c>, <c>late</c> and <c>down</c> <c>up</c> (<c>ping</c>);
/// a start makes <c>late</c> <c>up</c> (<c>started</c>): a running job is not late, its runtime limit watches it.</item>
/// <item><c>paused</c>: nothing changes the state but resume; pings are still recorded. Resume makes it <c>up</c> with
/// the next due time counted from now (<c>new</c> when it never finished a run).</item>
/// </list>
/// A success or failure sets the next due time: the period after it, or the next cron time after it.
/// </remarks>
public static class MonitorStateMachine
{
    /// <summary>A start ping this close before a cron time counts for that cron time (clock skew between hosts).</summary>
    public static readonly TimeSpan EarlyStartTolerance = TimeSpan.FromSeconds(60);

    public const string ReasonPing = "ping";
    public const string ReasonStarted = "started";
    public const string ReasonDue = "due";
    public const string ReasonMissed = "missed";
    public const string ReasonLateStart = "late_start";
    public const string ReasonMaxRuntime = "max_runtime";
    public const string ReasonFailed = "failed";
    public const string ReasonPaused = "paused";
    public const string ReasonResumed = "resumed";

    /// <summary>When the next success or failure is due after one at <paramref name="at"/>; null when the cron expression never matches again.</summary>
    public static DateTimeOffset? DueAfter(MonitorDefinition d, DateTimeOffset at) =>
        d.PeriodSeconds is { } period ? at.AddSeconds(period) : Cron(d).Next(at, inclusive: false);

    /// <summary>The cron time whose start ping is expected next after <paramref name="at"/>; null when the monitor does not check starts.</summary>
    public static DateTimeOffset? NextStart(MonitorDefinition d, DateTimeOffset at)
    {
        if (d.Cron is null || d.StartGraceSeconds is null) return null;
        var timing = Cron(d);
        var next = timing.Next(at, inclusive: false);
        // A start a little early belongs to the cron time just ahead: the one after it is expected next.
        if (next is { } n && n - at <= EarlyStartTolerance) next = timing.Next(n, inclusive: false);
        return next;
    }

    /// <summary>How long a started run may go on: the max runtime, else the grace.</summary>
    public static TimeSpan RunLimit(MonitorDefinition d) => TimeSpan.FromSeconds(d.MaxRuntimeSeconds ?? d.GraceSeconds);

    /// <summary>The status of a new monitor (paused when asked).</summary>
    public static MonitorStatus Initial(bool paused, DateTimeOffset now) =>
        new() { State = paused ? MonitorState.Paused : MonitorState.New, Reason = paused ? ReasonPaused : null, StateChangedAt = now };

    /// <summary>
    /// A ping. <paramref name="s"/> already has <see cref="MonitorStatus.RunningSince"/> as the ping's run left it (the
    /// store records the run first).
    /// </summary>
    public static MonitorDecision Ping(MonitorDefinition d, MonitorStatus s, MonitorPing ping, DateTimeOffset now)
    {
        var next = s with { LastPingAt = now };
        if (ping.Kind == PingKind.Start)
        {
            next = next with { LastStartAt = now, StartDueAt = d.StartGraceSeconds is null ? null : NextStart(d, now) };
            return s.State == MonitorState.Late ? Move(next, MonitorState.Up, ReasonStarted, now) : new MonitorDecision(next, null);
        }
        var failed = ping.Kind == PingKind.Fail;
        next = next with
        {
            LastFinishAt = now,
            DueAt = DueAfter(d, now),
            ConsecutiveFailures = failed ? s.ConsecutiveFailures + 1 : 0,
            StartDueAt = s.StartDueAt is { } sd && sd > now ? sd : NextStart(d, now),
        };
        if (s.State == MonitorState.Paused) return new MonitorDecision(next, null);
        if (failed && next.ConsecutiveFailures >= Math.Max(1, d.FailureThreshold))
        {
            return s.State == MonitorState.Down ? new MonitorDecision(next with { Reason = ReasonFailed }, null) : Move(next, MonitorState.Down, ReasonFailed, now);
        }
        return s.State == MonitorState.Up ? new MonitorDecision(next, null) : Move(next, MonitorState.Up, ReasonPing, now);
    }

    /// <summary>What the passing of time changed by <paramref name="now"/>: late, late start, down (missed, max runtime).</summary>
    public static MonitorDecision Evaluate(MonitorDefinition d, MonitorStatus s, DateTimeOffset now)
    {
        if (s.State is not (MonitorState.Up or MonitorState.Late)) return new MonitorDecision(s, null);
        if (s.RunningSince is { } running)
        {
            var limit = RunLimit(d);
            if (now >= running + limit) return Move(s, MonitorState.Down, ReasonMaxRuntime, now) with { TimeOutRunsStartedBy = now - limit };
        }
        else if (s.DueAt is { } due && now >= due.AddSeconds(d.GraceSeconds))
        {
            return Move(s, MonitorState.Down, ReasonMissed, now);
        }
        if (s.State != MonitorState.Up) return new MonitorDecision(s, null);
        if (s.StartDueAt is { } startDue && d.StartGraceSeconds is { } startGrace && now >= startDue.AddSeconds(startGrace))
        {
            var moved = Move(s, MonitorState.Late, ReasonLateStart, now);
            return moved with { Status = moved.Status with { StartDueAt = Cron(d).Next(now, inclusive: false) } };
        }
        if (s.RunningSince is null && s.DueAt is { } dueAt && now >= LateAt(d, dueAt)) return Move(s, MonitorState.Late, ReasonDue, now);
        return new MonitorDecision(s, null);
    }

    /// <summary>The earliest moment <see cref="Evaluate"/> can change something; null when only a ping (or resume) can.</summary>
    public static DateTimeOffset? NextCheck(MonitorDefinition d, MonitorStatus s)
    {
        if (s.State is not (MonitorState.Up or MonitorState.Late)) return null;
        DateTimeOffset? at = null;
        if (s.RunningSince is { } running) at = running + RunLimit(d);
        else if (s.DueAt is { } due) at = s.State == MonitorState.Up ? LateAt(d, due) : due.AddSeconds(d.GraceSeconds);
        if (s.State == MonitorState.Up && s.StartDueAt is { } startDue && d.StartGraceSeconds is { } startGrace)
        {
            var lateStart = startDue.AddSeconds(startGrace);
            if (at is null || lateStart < at) at = lateStart;
        }
        return at;
    }

    /// <summary>
    /// When a missing finish makes an up monitor late: at its due time; for a monitor that checks starts, only once the
    /// start grace has passed too (by then the start came, so the run is watched by its runtime, or it is a late start).
    /// </summary>
    private static DateTimeOffset LateAt(MonitorDefinition d, DateTimeOffset due) => d.StartGraceSeconds is { } startGrace && d.Cron is not null ? due.AddSeconds(startGrace) : due;

    public static MonitorDecision Pause(MonitorStatus s, DateTimeOffset now) =>
        s.State == MonitorState.Paused ? new MonitorDecision(s, null) : Move(s, MonitorState.Paused, ReasonPaused, now);

    /// <summary>Resumes a paused monitor: due times count from now; what it missed while paused does not count.</summary>
    public static MonitorDecision Resume(MonitorDefinition d, MonitorStatus s, DateTimeOffset now)
    {
        if (s.State != MonitorState.Paused) return new MonitorDecision(s, null);
        var pinged = s.LastFinishAt is not null;
        var next = s with
        {
            DueAt = pinged ? DueAfter(d, now) : null,
            StartDueAt = pinged ? NextStart(d, now) : null,
            ConsecutiveFailures = 0,
        };
        return Move(next, pinged ? MonitorState.Up : MonitorState.New, ReasonResumed, now, "monitor.resumed");
    }

    /// <summary>The status after the definition changed: a new timing counts the next due time from now (no alert from an edit).</summary>
    public static MonitorStatus Redefine(MonitorDefinition before, MonitorDefinition after, MonitorStatus s, DateTimeOffset now)
    {
        if (!before.TimingDiffers(after) || s.State is MonitorState.New or MonitorState.Paused) return s;
        return s with { DueAt = DueAfter(after, now), StartDueAt = NextStart(after, now) };
    }

    /// <summary>The event type of a change to <paramref name="to"/> for <paramref name="reason"/>.</summary>
    public static string EventType(MonitorState to, string reason) => to switch
    {
        MonitorState.Up => "monitor.up",
        MonitorState.Late => reason == ReasonLateStart ? "monitor.late_start" : "monitor.late",
        MonitorState.Down => "monitor.down",
        MonitorState.Paused => "monitor.paused",
        _ => "monitor.resumed",
    };

    private static MonitorDecision Move(MonitorStatus s, MonitorState to, string reason, DateTimeOffset now, string? eventType = null) =>
        new(s with { State = to, Reason = reason, StateChangedAt = now }, new MonitorTransition(s.State, to, reason, eventType ?? EventType(to, reason)));

    private static ScheduleTiming Cron(MonitorDefinition d)
    {
        if (!ScheduleTiming.TryParseCron(d.Cron, out var cron, out var error)) throw new ArgumentException($"cron: {error}", nameof(d));
        if (!ScheduleTiming.TryFindTimeZone(d.TimeZone, out var zone, out error)) throw new ArgumentException($"timezone: {error}", nameof(d));
        return ScheduleTiming.ForCron(cron!, zone!);
    }
}
