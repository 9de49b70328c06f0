using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

internal sealed class PostgresQueueStore(PostgresStore store) : IQueueStore
{
    private NpgsqlDataSource Db => store.DataSource;

    public async Task<QueueInfo> UpsertAsync(UpsertQueueParams p, CancellationToken cancellationToken)
    {
        await using (var c = await Db.OpenConnectionAsync(cancellationToken)) await UpsertAsync(c, store.Time, p, cancellationToken);
        return (await GetAsync(new QueueParams(p.OrganizationId, p.Name), cancellationToken))!;
    }

    /// <summary>The upsert on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static async Task UpsertAsync(NpgsqlConnection c, TimeProvider time, UpsertQueueParams p, CancellationToken cancellationToken)
    {
        var s = QueueSettingsMask.Apply(p.Settings, p.Fields);
        // A setting outside p.Fields keeps its value (@set_* false); a new queue gets null for it.
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO queues (organization_id, name, concurrency_limit, rate_limit, rate_period_ms, default_max_attempts, default_timeout_ms, created_at) " +
            "VALUES (@org, @name, @cl, @rl, @rp, @ma, @to, @now) ON CONFLICT (organization_id, name) DO UPDATE SET " +
            "concurrency_limit = CASE WHEN @set_cl THEN EXCLUDED.concurrency_limit ELSE queues.concurrency_limit END, " +
            "rate_limit = CASE WHEN @set_rl THEN EXCLUDED.rate_limit ELSE queues.rate_limit END, " +
            "rate_period_ms = CASE WHEN @set_rl THEN EXCLUDED.rate_period_ms ELSE queues.rate_period_ms END, " +
            "default_max_attempts = CASE WHEN @set_ma THEN EXCLUDED.default_max_attempts ELSE queues.default_max_attempts END, " +
            "default_timeout_ms = CASE WHEN @set_to THEN EXCLUDED.default_timeout_ms ELSE queues.default_timeout_ms END", c);
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name).Int("cl", s.ConcurrencyLimit).Int("rl", s.RateLimit?.Limit)
            .Int("rp", s.RateLimit?.PeriodMs).Int("ma", s.DefaultMaxAttempts).Int("to", s.DefaultTimeoutMs).Long("now", Ms(time.GetUtcNow()))
            .Bool("set_cl", p.Fields.HasFlag(QueueSettingFields.ConcurrencyLimit)).Bool("set_rl", p.Fields.HasFlag(QueueSettingFields.RateLimit))
            .Bool("set_ma", p.Fields.HasFlag(QueueSettingFields.DefaultMaxAttempts)).Bool("set_to", p.Fields.HasFlag(QueueSettingFields.DefaultTimeoutMs));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<QueueInfo?> GetAsync(QueueParams p, CancellationToken cancellationToken)
    {
        var found = await ReadAsync(p.OrganizationId, p.Name, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<QueueInfo>> ListAsync(ListQueuesParams p, CancellationToken cancellationToken) =>
        ReadAsync(p.OrganizationId, null, cancellationToken);

    /// <summary>The queues with their live figures, in one round trip: settings, counts per state, oldest queued job, recent finishes.</summary>
    private async Task<IReadOnlyList<QueueInfo>> ReadAsync(Guid organizationId, string? name, CancellationToken cancellationToken)
    {
        var now = store.Time.GetUtcNow();
        var only = name is null ? "" : " AND name = @name";
        var onlyQueue = name is null ? "" : " AND queue = @name";
        await using var batch = Db.CreateBatch();
        batch.BatchCommands.Add(Cmd($"SELECT {QueueColumns} FROM queues WHERE organization_id = @org{only} ORDER BY name"));
        batch.BatchCommands.Add(Cmd(PostgresJobStore.CountByQueueAndStateSql(onlyQueue)));
        batch.BatchCommands.Add(Cmd("SELECT q.name, o.created_at, o.run_at FROM queues q CROSS JOIN LATERAL (" +
                                    "SELECT created_at, run_at FROM jobs j WHERE j.organization_id = q.organization_id AND j.queue = q.name AND j.state = 'queued' " +
                                    $"ORDER BY j.seq LIMIT 1) o WHERE q.organization_id = @org{(name is null ? "" : " AND q.name = @name")}"));
        batch.BatchCommands.Add(Cmd($"SELECT queue, count(*) FROM jobs WHERE organization_id = @org AND finished_at >= @since{onlyQueue} " +
                                    "AND state IN ('succeeded', 'failed') GROUP BY queue"));

        var rows = new List<QueueInfo>();
        var counts = new Dictionary<string, Dictionary<JobState, long>>(StringComparer.Ordinal);
        var ages = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var finished = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var r = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken)) rows.Add(Queue(r));
            await r.NextResultAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                var queue = r.GetString(0);
                if (!counts.TryGetValue(queue, out var perState)) counts[queue] = perState = JobStates.All.ToDictionary(s => s, _ => 0L);
                perState[JobStates.Parse(r.GetString(1))] = r.GetInt64(2);
            }
            await r.NextResultAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                var age = now - Time(Math.Max(r.GetInt64(1), r.GetInt64(2)));
                ages[r.GetString(0)] = age < TimeSpan.Zero ? TimeSpan.Zero : age;
            }
            await r.NextResultAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) finished[r.GetString(0)] = r.GetInt64(1);
        }
        return [.. rows.Select(q => q with
        {
            Counts = counts.TryGetValue(q.Name, out var c) ? c : JobStates.All.ToDictionary(s => s, _ => 0L),
            OldestQueuedAge = ages.TryGetValue(q.Name, out var a) ? a : null,
            FinishedLastMinute = finished.GetValueOrDefault(q.Name),
        })];

        NpgsqlBatchCommand Cmd(string sql)
        {
            var c = new NpgsqlBatchCommand(sql);
            c.Parameters.Uuid("org", organizationId).Long("since", Ms(now.AddMinutes(-1)));
            if (name is not null) c.Parameters.Text("name", name);
            return c;
        }
    }

    private static QueueInfo Queue(NpgsqlDataReader r) => new()
    {
        Name = r.GetString(0),
        Paused = r.GetBoolean(1),
        PauseReason = StringOrNull(r, 2),
        Settings = new QueueSettings
        {
            ConcurrencyLimit = IntOrNull(r, 3),
            RateLimit = IntOrNull(r, 4) is { } limit && IntOrNull(r, 5) is { } ms ? new RateLimit(limit, ms) : null,
            DefaultMaxAttempts = IntOrNull(r, 6),
            DefaultTimeoutMs = IntOrNull(r, 7),
        },
        CreatedAt = Time(r.GetInt64(8)),
        Counts = new Dictionary<JobState, long>(),
    };

    public async Task<bool> SetPausedAsync(PauseQueueParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("UPDATE queues SET paused = @paused, pause_reason = @reason WHERE organization_id = @org AND name = @name");
        cmd.Parameters.Bool("paused", p.Paused).Text("reason", p.Paused ? p.Reason : null).Uuid("org", p.OrganizationId).Text("name", p.Name);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>The waiting states whose jobs a purge removes, as far as the state machine allows deleting them.</summary>
    private static readonly string[] PurgedStates = [.. new[] { JobState.Queued, JobState.Scheduled, JobState.Retrying }
        .Where(s => JobStateMachine.Decide(new JobSnapshot(s, 0, 0, false), JobTrigger.Delete).Allowed)
        .Select(s => s.ToWire())];

    public async Task<long?> PurgeAsync(QueueParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand(
            "WITH q AS (SELECT 1 FROM queues WHERE organization_id = @org AND name = @name), " +
            "v AS (DELETE FROM jobs WHERE organization_id = @org AND queue = @name AND state = ANY(@states) AND state <> 'running' AND EXISTS (SELECT 1 FROM q) RETURNING id), " +
            "a AS (DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM v)), " +
            "l AS (DELETE FROM job_logs WHERE job_id IN (SELECT id FROM v)) " +
            "SELECT EXISTS (SELECT 1 FROM q), (SELECT count(*) FROM v)");
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name).Texts("states", PurgedStates);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return r.GetBoolean(0) ? r.GetInt64(1) : null;
    }

    /// <summary>
    /// Locks the queue row (FOR UPDATE waits for leases of the queue to commit), then deletes it only if no unfinished
    /// job is left, in one transaction.
    /// </summary>
    public async Task<DeleteQueueOutcome> DeleteAsync(QueueParams p, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var outcome = await DeleteAsync(connection, p, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return outcome;
    }

    /// <summary>The delete on <paramref name="connection"/>, in its transaction.</summary>
    internal static async Task<DeleteQueueOutcome> DeleteAsync(NpgsqlConnection connection, QueueParams p, CancellationToken cancellationToken)
    {
        await using (var find = new NpgsqlCommand("SELECT 1 FROM queues WHERE organization_id = @org AND name = @name FOR UPDATE", connection))
        {
            find.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
            if (await find.ExecuteScalarAsync(cancellationToken) is null) return DeleteQueueOutcome.NotFound;
        }
        await using var delete = new NpgsqlCommand(
            "DELETE FROM queues WHERE organization_id = @org AND name = @name AND NOT EXISTS (" +
            "SELECT 1 FROM jobs WHERE organization_id = @org AND queue = @name AND state NOT IN ('succeeded', 'failed', 'cancelled', 'running')) " +
            "AND NOT EXISTS (SELECT 1 FROM jobs WHERE organization_id = @org AND queue = @name AND state = 'running')", connection);
        delete.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken) > 0;
        return deleted ? DeleteQueueOutcome.Deleted : DeleteQueueOutcome.NotEmpty;
    }
}
