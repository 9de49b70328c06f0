using System.Text.Json;
using Kairos.Core.Jobs;
using Microsoft.Data.Sqlite;

namespace Kairos.Storage.Sqlite;

/// <summary>Mapping between rows and the domain types.</summary>
internal static class Rows
{
    public const string JobColumns =
        "seq, id, organization_id, queue, type, payload, priority, state, run_at, max_attempts, attempt, timeout_ms, " +
        "unique_key, tags, result, progress_percent, progress_message, cancel_requested, created_at, started_at, " +
        "finished_at, worker_id, lease_expires_at, error_message, error_type, error_stack, lease_token, lease_ms, workflow_id, workflow_step";

    /// <summary><see cref="JobColumns"/> qualified with a table alias, for statements that join.</summary>
    public static string JobColumnsOf(string alias) =>
        string.Join(", ", JobColumns.Split(", ").Select(c => alias + "." + c));

    public static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();
    public static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static DateTimeOffset? TimeOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Time(r.GetInt64(i));
    public static string? StringOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    public static int? IntOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);
    public static Guid? GuidOrNull(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Guid.Parse(r.GetString(i));

    public static string? TagsJson(IReadOnlyList<string> tags) => tags.Count == 0 ? null : JsonSerializer.Serialize(tags);

    public static IReadOnlyList<string> Tags(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize<string[]>(json) ?? [];

    /// <summary>Reads a job from a row selected with <see cref="JobColumns"/> (starting at column 0).</summary>
    public static Job Job(SqliteDataReader r)
    {
        var errorMessage = StringOrNull(r, 23);
        var percent = IntOrNull(r, 15);
        return new Job
        {
            Id = Guid.Parse(r.GetString(1)),
            OrganizationId = Guid.Parse(r.GetString(2)),
            Queue = r.GetString(3),
            Type = r.GetString(4),
            Payload = r.GetString(5),
            Priority = r.GetInt32(6),
            State = JobStates.Parse(r.GetString(7)),
            RunAt = Time(r.GetInt64(8)),
            MaxAttempts = r.GetInt32(9),
            Attempt = r.GetInt32(10),
            TimeoutMs = IntOrNull(r, 11),
            UniqueKey = StringOrNull(r, 12),
            Tags = Tags(StringOrNull(r, 13)),
            Result = StringOrNull(r, 14),
            Progress = percent is { } p ? new JobProgress(p, StringOrNull(r, 16)) : null,
            CancelRequested = r.GetInt64(17) != 0,
            CreatedAt = Time(r.GetInt64(18)),
            StartedAt = TimeOrNull(r, 19),
            FinishedAt = TimeOrNull(r, 20),
            WorkerId = GuidOrNull(r, 21),
            LeaseExpiresAt = TimeOrNull(r, 22),
            LastError = errorMessage is null ? null : new JobError(errorMessage, StringOrNull(r, 24), StringOrNull(r, 25)),
            WorkflowId = GuidOrNull(r, 28),
            WorkflowStep = StringOrNull(r, 29),
        };
    }

    public static QueueRow Queue(SqliteDataReader r) => new(
        r.GetString(0),
        r.GetInt64(1) != 0,
        StringOrNull(r, 2),
        IntOrNull(r, 3),
        IntOrNull(r, 4),
        IntOrNull(r, 5),
        IntOrNull(r, 6),
        IntOrNull(r, 7),
        r.GetInt64(8));

    public const string QueueColumns =
        "name, paused, pause_reason, concurrency_limit, rate_limit, rate_period_ms, default_max_attempts, default_timeout_ms, created_at";
}
