using Kairos.Core.Jobs;

namespace Kairos.Core.Schedules;

/// <summary>One fire time to run now, and when its job should start (the fire time plus the schedule's jitter).</summary>
/// <param name="Late">Missed by more than the misfire tolerance, run as catch-up.</param>
public sealed record PlannedFire(DateTimeOffset FireTime, DateTimeOffset RunAt, bool Late);

/// <summary>Fire times missed by more than the tolerance in one pass.</summary>
/// <param name="Missed">How many fire times were missed.</param>
/// <param name="CaughtUp">How many of them run anyway, as the catch-up policy says (the others are dropped).</param>
public sealed record Misfire(long Missed, int CaughtUp, DateTimeOffset FirstMissed, DateTimeOffset LastMissed);

/// <summary>What a firing pass does with one due schedule.</summary>
/// <param name="Fires">The fire times to run, ascending.</param>
/// <param name="Misfire">Fire times missed by more than the tolerance, or null.</param>
/// <param name="NextFireAt">The schedule's next fire time after this pass; null when it has ended.</param>
public sealed record FirePlan(IReadOnlyList<PlannedFire> Fires, Misfire? Misfire, DateTimeOffset? NextFireAt);

/// <summary>What the overlap policy says about one fire time, given the state of the previous run.</summary>
public enum OverlapDecision
{
    Fire,
    Skip,
    ReplaceThenFire,
}

/// <summary>
/// The rules of schedules, as pure functions of a schedule and the time: which fire times are due, which of the missed
/// ones run (catch-up), the jitter of a run, the overlap decision, the next fire time. Stores call them inside their
/// transaction with the row they read, and persist the outcome (the next fire time together with the jobs).
/// </summary>
public static class SchedulePlanner
{
    /// <summary>A fire time handled later than this after it is a misfire, and subject to the catch-up policy.</summary>
    public static readonly TimeSpan MisfireTolerance = TimeSpan.FromSeconds(60);

    /// <summary>At most this many missed fire times are looked at in one pass; a longer downtime takes several passes.</summary>
    public const int MaxScan = 100_000;

    /// <summary>The first fire time of a new, changed or resumed schedule: at or after <paramref name="now"/> and start_at, not after end_at.</summary>
    public static DateTimeOffset? FirstFire(ScheduleDefinition d, DateTimeOffset now)
    {
        var from = d.StartAt is { } start && start > now ? start : now;
        return Within(d, ScheduleTiming.For(d).Next(from, inclusive: true));
    }

    /// <summary>
    /// The next fire time after a definition changed: kept when the timing is the same (so a fire time that is due is
    /// not lost), else the first fire time from now.
    /// </summary>
    public static DateTimeOffset? Reschedule(Schedule current, ScheduleDefinition updated, DateTimeOffset now) =>
        current.Definition.TimingDiffers(updated) ? FirstFire(updated, now) : current.NextFireAt;

    /// <summary>The fire times from <paramref name="from"/> on (at most <paramref name="count"/>), within start and end.</summary>
    public static IReadOnlyList<DateTimeOffset> Preview(ScheduleDefinition d, DateTimeOffset from, int count)
    {
        var list = new List<DateTimeOffset>(count);
        var timing = ScheduleTiming.For(d);
        var t = FirstFire(d, from);
        while (t is { } at && list.Count < count)
        {
            list.Add(at);
            t = Within(d, timing.Next(at, inclusive: false));
        }
        return list;
    }

    /// <summary>
    /// The plan of one pass over a schedule whose next fire time has come. Fire times at most
    /// <paramref name="tolerance"/> old run whatever the policy; older ones are missed, and the catch-up policy says
    /// which of them run: none (skip), the latest one when no fire time is on time (once), or the latest
    /// <see cref="ScheduleDefinition.CatchUpLimit"/> (all). A paused schedule, or one not due, plans nothing.
    /// </summary>
    public static FirePlan Plan(Schedule s, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (s.Paused || s.NextFireAt is not { } next || next > now) return new FirePlan([], null, s.NextFireAt);
        var d = s.Definition;
        var timing = ScheduleTiming.For(d);
        var last = d.EndAt is { } end && end < now ? end : now;
        var onTimeFrom = now - (tolerance ?? MisfireTolerance);

        // Missed fire times: before onTimeFrom. Scanned ascending, keeping the latest few the policy may run.
        var keep = d.CatchUp switch
        {
            CatchUpPolicy.All => Math.Clamp(d.CatchUpLimit, 1, ScheduleDefinition.MaxCatchUpLimit),
            CatchUpPolicy.Once => 1,
            _ => 0,
        };
        var kept = new Queue<DateTimeOffset>(keep);
        long missed = 0;
        DateTimeOffset? firstMissed = null, lastMissed = null;
        var scanEnd = last < onTimeFrom ? last : onTimeFrom.AddTicks(-1);
        DateTimeOffset? resumeAt = null;
        foreach (var t in timing.Between(next, scanEnd))
        {
            if (missed == MaxScan)
            {
                resumeAt = t;
                break;
            }
            missed++;
            firstMissed ??= t;
            lastMissed = t;
            if (keep == 0) continue;
            if (kept.Count == keep) kept.Dequeue();
            kept.Enqueue(t);
        }
        if (resumeAt is not null)
        {
            // More missed fire times than one pass looks at: drop these, but keep the latest few for the next pass,
            // which goes on from the first of them.
            var carry = kept.Count > 0 ? kept.Peek() : resumeAt.Value;
            var dropped = missed - kept.Count;
            return new FirePlan([], new Misfire(dropped, 0, firstMissed!.Value, lastMissed!.Value), carry);
        }

        var fires = new List<PlannedFire>();
        var onTime = last >= onTimeFrom ? timing.Between(next > onTimeFrom ? next : onTimeFrom, last).ToList() : [];
        if (missed > 0 && (d.CatchUp == CatchUpPolicy.All || d.CatchUp == CatchUpPolicy.Once && onTime.Count == 0))
        {
            fires.AddRange(kept.Select(t => Fire(s, t, late: true)));
        }
        fires.AddRange(onTime.Select(t => Fire(s, t, late: false)));
        var misfire = missed > 0 ? new Misfire(missed, fires.Count(f => f.Late), firstMissed!.Value, lastMissed!.Value) : null;
        return new FirePlan(fires, misfire, Within(d, timing.Next(now, inclusive: false)));
    }

    private static PlannedFire Fire(Schedule s, DateTimeOffset t, bool late) => new(t, t + Jitter(s.Id, t, s.Definition.JitterMs), late);

    private static DateTimeOffset? Within(ScheduleDefinition d, DateTimeOffset? t) =>
        t is { } at && (d.EndAt is not { } end || at <= end) ? at : null;

    /// <summary>
    /// The delay of the run of <paramref name="fireTime"/>: between 0 and <paramref name="jitterMs"/>, spread evenly over
    /// schedules and fire times, and the same every time it is asked (a retried firing pass starts the run at the same
    /// moment).
    /// </summary>
    public static TimeSpan Jitter(Guid scheduleId, DateTimeOffset fireTime, int jitterMs)
    {
        if (jitterMs <= 0) return TimeSpan.Zero;
        Span<byte> bytes = stackalloc byte[16];
        scheduleId.TryWriteBytes(bytes);
        var x = BitConverter.ToUInt64(bytes[..8]) ^ BitConverter.ToUInt64(bytes[8..]) ^ (ulong)fireTime.ToUnixTimeMilliseconds();
        // splitmix64
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return TimeSpan.FromMilliseconds((long)(x % ((ulong)jitterMs + 1)));
    }

    /// <summary>
    /// The overlap policy applied to the previous run: <paramref name="previous"/> is its job's state, or null when there
    /// is none (first run, or its job was deleted). A finished previous run never stands in the way.
    /// </summary>
    public static OverlapDecision Overlap(OverlapPolicy policy, JobState? previous) => Overlap(policy, unfinished: previous is { } s && !s.IsTerminal());

    /// <summary>The overlap policy for a workflow schedule: <paramref name="previous"/> is the previous instance's derived state, or null when there is none.</summary>
    public static OverlapDecision Overlap(OverlapPolicy policy, Workflows.WorkflowState? previous) =>
        Overlap(policy, unfinished: previous == Workflows.WorkflowState.Running);

    private static OverlapDecision Overlap(OverlapPolicy policy, bool unfinished)
    {
        if (!unfinished) return OverlapDecision.Fire;
        return policy switch
        {
            OverlapPolicy.Skip => OverlapDecision.Skip,
            OverlapPolicy.Replace => OverlapDecision.ReplaceThenFire,
            _ => OverlapDecision.Fire,
        };
    }

    /// <summary>The unique key of the job of a scheduled fire time: the same fire time can never make two unfinished jobs.</summary>
    public static string UniqueKey(Guid scheduleId, DateTimeOffset fireTime) =>
        $"schedule:{scheduleId:N}:{fireTime.ToUnixTimeMilliseconds()}";
}
