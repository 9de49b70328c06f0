using System.Data.Common;
using System.Text.Json;
using Kairos.Core.Monitors;

namespace Kairos.Core.Storage;

/// <summary>
/// The columns of the monitor tables, the same in every store, and what is read from a row: ids as uuid (or UUID
/// text), times as unix milliseconds, flags as boolean (or 0/1), tags as a JSON array in text.
/// </summary>
public static class MonitorRows
{
    public const string Columns =
        "id, organization_id, name, slug, period_seconds, cron, timezone, grace_seconds, max_runtime_seconds, start_grace_seconds, failure_threshold, " +
        "tags, ping_key_sealed, state, reason, state_changed_at, last_ping_at, last_finish_at, last_start_at, due_at, start_due_at, running_since, " +
        "consecutive_failures, pause_reason, next_check_at, created_at, updated_at";

    /// <summary>The status columns a change writes, in the order of <see cref="StatusValues"/>.</summary>
    public static readonly string[] StatusColumns =
    [
        "state", "reason", "state_changed_at", "last_ping_at", "last_finish_at", "last_start_at", "due_at", "start_due_at", "running_since",
        "consecutive_failures", "pause_reason", "next_check_at",
    ];

    /// <summary>The values of <see cref="StatusColumns"/>: text, longs (unix ms) or nulls.</summary>
    public static object?[] StatusValues(MonitorStatus s, DateTimeOffset? nextCheckAt, string? pauseReason) =>
    [
        s.State.ToWire(), s.Reason, Ms(s.StateChangedAt), Ms(s.LastPingAt), Ms(s.LastFinishAt), Ms(s.LastStartAt), Ms(s.DueAt), Ms(s.StartDueAt),
        Ms(s.RunningSince), (long)s.ConsecutiveFailures, pauseReason, Ms(nextCheckAt),
    ];

    public static CheckInMonitor Read(DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Definition = new MonitorDefinition
        {
            Name = r.GetString(2),
            Slug = r.GetString(3),
            PeriodSeconds = r.IsDBNull(4) ? null : r.GetInt64(4),
            Cron = r.IsDBNull(5) ? null : r.GetString(5),
            TimeZone = r.GetString(6),
            GraceSeconds = r.GetInt32(7),
            MaxRuntimeSeconds = r.IsDBNull(8) ? null : r.GetInt32(8),
            StartGraceSeconds = r.IsDBNull(9) ? null : r.GetInt32(9),
            FailureThreshold = r.GetInt32(10),
            Tags = JsonSerializer.Deserialize<string[]>(r.GetString(11)) ?? [],
        },
        PingKeySealed = r.GetString(12),
        Status = new MonitorStatus
        {
            State = MonitorNames.ParseState(r.GetString(13)),
            Reason = r.IsDBNull(14) ? null : r.GetString(14),
            StateChangedAt = Time(r, 15),
            LastPingAt = Time(r, 16),
            LastFinishAt = Time(r, 17),
            LastStartAt = Time(r, 18),
            DueAt = Time(r, 19),
            StartDueAt = Time(r, 20),
            RunningSince = Time(r, 21),
            ConsecutiveFailures = r.GetInt32(22),
        },
        PauseReason = r.IsDBNull(23) ? null : r.GetString(23),
        NextCheckAt = Time(r, 24),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(25)),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(26)),
    };

    /// <summary>The definition columns in insert order (after id and organization_id): name ... tags.</summary>
    public static object?[] DefinitionValues(MonitorDefinition d) =>
    [
        d.Name, d.Slug, d.PeriodSeconds, d.Cron, d.TimeZone, (long)d.GraceSeconds, (long?)d.MaxRuntimeSeconds, (long?)d.StartGraceSeconds,
        (long)d.FailureThreshold, JsonSerializer.Serialize(d.Tags),
    ];

    public const string RunColumns = "seq, rid, outcome, started_at, finished_at, exit_code, log, log_truncated, source_ip, user_agent, created_at";

    public static MonitorRun ReadRun(DbDataReader r) => new(
        r.GetInt64(0),
        r.IsDBNull(1) ? null : r.GetString(1),
        MonitorNames.ParseOutcome(r.GetString(2)),
        Time(r, 3),
        Time(r, 4),
        r.IsDBNull(5) ? null : r.GetInt32(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.GetBoolean(7),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)));

    /// <summary>The outcome a finish ping gives its run.</summary>
    public static RunOutcome Outcome(MonitorPing ping) => ping.Kind switch
    {
        PingKind.Start => RunOutcome.Running,
        PingKind.Fail => RunOutcome.Fail,
        _ => RunOutcome.Success,
    };

    public static long? Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();

    private static DateTimeOffset? Time(DbDataReader r, int i) => r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
}
