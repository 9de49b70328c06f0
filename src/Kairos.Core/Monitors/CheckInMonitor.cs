namespace Kairos.Core.Monitors;

/// <summary>Where a monitor stands. <c>new</c> until its first ping; <c>paused</c> until resumed.</summary>
public enum MonitorState
{
    /// <summary>Created, never pinged: nothing is expected yet, so nothing alerts.</summary>
    New,
    /// <summary>Pinged on time (or running within its limits).</summary>
    Up,
    /// <summary>Past due but inside the grace period, or its start ping is late (<c>late_start</c>).</summary>
    Late,
    /// <summary>No ping within the grace period, a run over its max runtime, or N failures in a row.</summary>
    Down,
    /// <summary>Not watched until resumed; pings are still recorded.</summary>
    Paused,
}

/// <summary>What a ping says.</summary>
public enum PingKind
{
    /// <summary>The job started (<c>/ping/{key}/start</c>).</summary>
    Start,
    /// <summary>The job finished well (<c>/ping/{key}</c>, <c>/ping/{key}/0</c>).</summary>
    Success,
    /// <summary>The job failed (<c>/ping/{key}/fail</c>, <c>/ping/{key}/{exit code 1-255}</c>).</summary>
    Fail,
}

/// <summary>How a run ended: still <c>running</c>, <c>success</c>, <c>fail</c>, or <c>timeout</c> (over its max runtime, closed by the watch).</summary>
public enum RunOutcome
{
    Running,
    Success,
    Fail,
    Timeout,
}

/// <summary>
/// What a user defines: when pings are due (a period, or a cron expression in a time zone), how long past due a ping
/// may be (grace), the longest a started run may take, how late a cron job's start may be, and how many failures in a
/// row make it down. Validated before it reaches a store.
/// </summary>
public sealed record MonitorDefinition
{
    public const int DefaultGraceSeconds = 300;

    /// <summary>Unique per organization; the API addresses the monitor by it.</summary>
    public required string Name { get; init; }
    /// <summary>Unique per organization; the slug ping URL (<c>/ping/{organization ping key}/{slug}</c>) names it.</summary>
    public required string Slug { get; init; }
    /// <summary>A ping is due this long after the previous one; null when <see cref="Cron"/> is set.</summary>
    public long? PeriodSeconds { get; init; }
    /// <summary>A ping is due at each time of this cron expression (read in <see cref="TimeZone"/>); null when <see cref="PeriodSeconds"/> is set.</summary>
    public string? Cron { get; init; }
    public string TimeZone { get; init; } = "UTC";
    /// <summary>How long past due a ping may arrive: <c>late</c> in this window, <c>down</c> after it. Also the limit of a started run without <see cref="MaxRuntimeSeconds"/>.</summary>
    public int GraceSeconds { get; init; } = DefaultGraceSeconds;
    /// <summary>A started run that has not finished after this long makes the monitor <c>down</c>.</summary>
    public int? MaxRuntimeSeconds { get; init; }
    /// <summary>Cron monitors only: a start ping is expected within this long of each cron time, else <c>late</c> (<c>late_start</c>). Null: not checked.</summary>
    public int? StartGraceSeconds { get; init; }
    /// <summary>This many failures in a row make the monitor <c>down</c> (1: every failure).</summary>
    public int FailureThreshold { get; init; } = 1;
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>True when <paramref name="other"/> expects pings at other times.</summary>
    public bool TimingDiffers(MonitorDefinition other) =>
        PeriodSeconds != other.PeriodSeconds || Cron != other.Cron || TimeZone != other.TimeZone || StartGraceSeconds != other.StartGraceSeconds;
}

/// <summary>
/// Where a monitor stands, as <see cref="MonitorStateMachine"/> decides it. Times are instants; null when unknown or
/// not applicable.
/// </summary>
public sealed record MonitorStatus
{
    public MonitorState State { get; init; } = MonitorState.New;
    /// <summary>Why it is in its state (<c>missed</c>, <c>late_start</c>, <c>max_runtime</c>, <c>failed</c>, ...), in words a person reads.</summary>
    public string? Reason { get; init; }
    public DateTimeOffset? StateChangedAt { get; init; }
    /// <summary>The latest ping of any kind.</summary>
    public DateTimeOffset? LastPingAt { get; init; }
    /// <summary>The latest success or failure.</summary>
    public DateTimeOffset? LastFinishAt { get; init; }
    public DateTimeOffset? LastStartAt { get; init; }
    /// <summary>When the next success or failure is expected; null while new or paused.</summary>
    public DateTimeOffset? DueAt { get; init; }
    /// <summary>Cron monitors with a start grace: the cron time whose start ping is expected next.</summary>
    public DateTimeOffset? StartDueAt { get; init; }
    /// <summary>The start of the earliest run that is still open (kept by the store from the runs).</summary>
    public DateTimeOffset? RunningSince { get; init; }
    public int ConsecutiveFailures { get; init; }
}

/// <summary>A monitor as stored: its definition, where it stands and its ping key (sealed by the server; only its hash is looked up).</summary>
public sealed record CheckInMonitor
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required MonitorDefinition Definition { get; init; }
    public required MonitorStatus Status { get; init; }
    public string? PauseReason { get; init; }
    /// <summary>The ping key as the server sealed it (encrypted); opaque to the store.</summary>
    public required string PingKeySealed { get; init; }
    /// <summary>The earliest moment the watch has something to decide; null when nothing can change without a ping.</summary>
    public DateTimeOffset? NextCheckAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    public string Name => Definition.Name;
    public MonitorState State => Status.State;
}

/// <summary>One ping as it arrived: kind, exit code, run id, body (the run's log, capped), client.</summary>
/// <param name="Rid">Pairs a start with its finish so that overlapping runs get their own durations.</param>
/// <param name="BodyTruncated">The body was longer than the cap; <paramref name="Body"/> holds its beginning.</param>
public sealed record MonitorPing(PingKind Kind, int? ExitCode = null, string? Rid = null, string? Body = null, bool BodyTruncated = false,
    string? SourceIp = null, string? UserAgent = null);

/// <summary>One run of a monitored job: a start and its finish, or a finish without a start.</summary>
/// <param name="Id">Increasing in the order runs were recorded; the cursor of the history.</param>
/// <param name="StartedAt">Its start ping; null for a finish that no start preceded.</param>
/// <param name="FinishedAt">Its finish ping (or when the watch timed it out); null while running.</param>
/// <param name="Log">The finish's body (else the start's), capped.</param>
public sealed record MonitorRun(
    long Id,
    string? Rid,
    RunOutcome Outcome,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int? ExitCode,
    string? Log,
    bool LogTruncated,
    string? SourceIp,
    string? UserAgent,
    DateTimeOffset CreatedAt)
{
    public long? DurationMs => StartedAt is { } s && FinishedAt is { } f ? (long)(f - s).TotalMilliseconds : null;
}

/// <summary>A change of state and why: what the events <c>monitor.up</c>, <c>.late</c>, <c>.late_start</c>, <c>.down</c>, <c>.paused</c>, <c>.resumed</c> carry.</summary>
/// <param name="EventType">The event to publish for it.</param>
public sealed record MonitorTransition(MonitorState From, MonitorState To, string Reason, string EventType);

/// <summary>What an operation on a monitor did: the monitor after it, and its change of state (null when none).</summary>
public sealed record MonitorChange(CheckInMonitor Monitor, MonitorTransition? Transition, MonitorRun? Run = null);

/// <summary>Wire and storage names.</summary>
public static class MonitorNames
{
    public static string ToWire(this MonitorState s) => s switch
    {
        MonitorState.New => "new",
        MonitorState.Up => "up",
        MonitorState.Late => "late",
        MonitorState.Down => "down",
        MonitorState.Paused => "paused",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static bool TryParseState(string? text, out MonitorState state)
    {
        foreach (var s in Enum.GetValues<MonitorState>())
        {
            if (s.ToWire() == text)
            {
                state = s;
                return true;
            }
        }
        state = default;
        return false;
    }

    public static MonitorState ParseState(string text) => TryParseState(text, out var s) ? s : throw new FormatException($"Unknown monitor state '{text}'.");

    public static string ToWire(this RunOutcome o) => o switch
    {
        RunOutcome.Running => "running",
        RunOutcome.Success => "success",
        RunOutcome.Fail => "fail",
        RunOutcome.Timeout => "timeout",
        _ => throw new ArgumentOutOfRangeException(nameof(o)),
    };

    public static RunOutcome ParseOutcome(string text) => text switch
    {
        "running" => RunOutcome.Running,
        "success" => RunOutcome.Success,
        "fail" => RunOutcome.Fail,
        "timeout" => RunOutcome.Timeout,
        _ => throw new FormatException($"Unknown run outcome '{text}'."),
    };
}
