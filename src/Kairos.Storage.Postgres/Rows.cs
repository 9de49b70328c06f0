using Kairos.Core.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace Kairos.Storage.Postgres;

/// <summary>Mapping between rows and the domain types. Times are stored as unix milliseconds (bigint).</summary>
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

    public static DateTimeOffset? TimeOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Time(r.GetInt64(i));
    public static string? StringOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    public static int? IntOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);
    public static long? LongOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
    public static Guid? GuidOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetGuid(i);

    /// <summary>Reads a job from a row selected with <see cref="JobColumns"/>, starting at column <paramref name="o"/>.</summary>
    public static Job Job(NpgsqlDataReader r, int o = 0)
    {
        var errorMessage = StringOrNull(r, o + 23);
        var percent = IntOrNull(r, o + 15);
        return new Job
        {
            Id = r.GetGuid(o + 1),
            OrganizationId = r.GetGuid(o + 2),
            Queue = r.GetString(o + 3),
            Type = r.GetString(o + 4),
            Payload = r.GetString(o + 5),
            Priority = r.GetInt32(o + 6),
            State = JobStates.Parse(r.GetString(o + 7)),
            RunAt = Time(r.GetInt64(o + 8)),
            MaxAttempts = r.GetInt32(o + 9),
            Attempt = r.GetInt32(o + 10),
            TimeoutMs = IntOrNull(r, o + 11),
            UniqueKey = StringOrNull(r, o + 12),
            Tags = r.GetFieldValue<string[]>(o + 13),
            Result = StringOrNull(r, o + 14),
            Progress = percent is { } p ? new JobProgress(p, StringOrNull(r, o + 16)) : null,
            CancelRequested = r.GetBoolean(o + 17),
            CreatedAt = Time(r.GetInt64(o + 18)),
            StartedAt = TimeOrNull(r, o + 19),
            FinishedAt = TimeOrNull(r, o + 20),
            WorkerId = GuidOrNull(r, o + 21),
            LeaseExpiresAt = TimeOrNull(r, o + 22),
            LastError = errorMessage is null ? null : new JobError(errorMessage, StringOrNull(r, o + 24), StringOrNull(r, o + 25)),
            WorkflowId = GuidOrNull(r, o + 28),
            WorkflowStep = StringOrNull(r, o + 29),
        };
    }

    /// <summary>Lease token of a row read with <see cref="JobColumns"/>.</summary>
    public static Guid? LeaseToken(NpgsqlDataReader r, int o = 0) => GuidOrNull(r, o + 26);

    public const string QueueColumns =
        "name, paused, pause_reason, concurrency_limit, rate_limit, rate_period_ms, default_max_attempts, default_timeout_ms, created_at";
}

/// <summary>Typed parameters: an explicit type lets PostgreSQL infer NULLs and arrays without casts in the SQL.</summary>
internal static class Params
{
    private static NpgsqlParameterCollection Add(NpgsqlParameterCollection p, string name, NpgsqlDbType type, object? value)
    {
        p.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
        return p;
    }

    public static NpgsqlParameterCollection Uuid(this NpgsqlParameterCollection p, string name, Guid? value) => Add(p, name, NpgsqlDbType.Uuid, value);
    public static NpgsqlParameterCollection Text(this NpgsqlParameterCollection p, string name, string? value) => Add(p, name, NpgsqlDbType.Text, value);
    public static NpgsqlParameterCollection Int(this NpgsqlParameterCollection p, string name, int? value) => Add(p, name, NpgsqlDbType.Integer, value);
    public static NpgsqlParameterCollection Long(this NpgsqlParameterCollection p, string name, long? value) => Add(p, name, NpgsqlDbType.Bigint, value);
    public static NpgsqlParameterCollection Bool(this NpgsqlParameterCollection p, string name, bool value) => Add(p, name, NpgsqlDbType.Boolean, value);
    public static NpgsqlParameterCollection Jsonb(this NpgsqlParameterCollection p, string name, string value) => Add(p, name, NpgsqlDbType.Jsonb, value);

    public static NpgsqlParameterCollection Uuids(this NpgsqlParameterCollection p, string name, Guid[] value) => Add(p, name, NpgsqlDbType.Array | NpgsqlDbType.Uuid, value);
    public static NpgsqlParameterCollection NullableUuids(this NpgsqlParameterCollection p, string name, Guid?[] value) => Add(p, name, NpgsqlDbType.Array | NpgsqlDbType.Uuid, value);
    public static NpgsqlParameterCollection Texts(this NpgsqlParameterCollection p, string name, string?[] value) => Add(p, name, NpgsqlDbType.Array | NpgsqlDbType.Text, value);
    public static NpgsqlParameterCollection Ints(this NpgsqlParameterCollection p, string name, int?[] value) => Add(p, name, NpgsqlDbType.Array | NpgsqlDbType.Integer, value);
    public static NpgsqlParameterCollection Longs(this NpgsqlParameterCollection p, string name, long?[] value) => Add(p, name, NpgsqlDbType.Array | NpgsqlDbType.Bigint, value);
    public static NpgsqlParameterCollection Bools(this NpgsqlParameterCollection p, string name, bool[] value) => Add(p, name, NpgsqlDbType.Array | NpgsqlDbType.Boolean, value);
}
