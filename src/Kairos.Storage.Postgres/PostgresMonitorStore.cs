using Kairos.Core;
using Kairos.Core.Monitors;
using Kairos.Core.Storage;
using Npgsql;
using NpgsqlTypes;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Monitors on PostgreSQL, where pings arrive on every node and the watch runs on the leader. Every change locks the
/// monitor row (SELECT ... FOR UPDATE) in its transaction, so a ping and an evaluation of the same monitor take turns
/// and each reads what the other wrote.
/// </summary>
internal sealed class PostgresMonitorStore(PostgresStore store) : IMonitorStore
{
    private const string Columns = MonitorRows.Columns;

    private static readonly string SaveSql =
        "UPDATE monitors SET " + string.Join(", ", MonitorRows.StatusColumns.Select(c => $"{c} = @{c}")) + " WHERE id = @id";

    private static readonly string[] DefinitionParameters = ["name", "slug", "period", "cron", "tz", "grace", "max_runtime", "start_grace", "threshold", "tags"];

    private NpgsqlDataSource Db => store.DataSource;
    private DateTimeOffset Now => store.Time.GetUtcNow();

    private static async Task<CheckInMonitor?> OneAsync(NpgsqlCommand cmd, CancellationToken cancellationToken)
    {
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? MonitorRows.Read(r) : null;
    }

    private static readonly NpgsqlDbType[] DefinitionTypes =
    [
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint,
        NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
    ];

    /// <summary>The definition's parameters (integer columns take bigint parameters through an assignment cast).</summary>
    private static NpgsqlParameterCollection SetDefinition(NpgsqlParameterCollection p, MonitorDefinition d)
    {
        var values = MonitorRows.DefinitionValues(d);
        for (var i = 0; i < values.Length; i++) p.Add(new NpgsqlParameter(DefinitionParameters[i], DefinitionTypes[i]) { Value = values[i] ?? DBNull.Value });
        return p;
    }

    public async Task<CheckInMonitor?> CreateAsync(CreateMonitorParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await CreateAsync(c, store.Time, p, cancellationToken);
    }

    /// <summary>The insert on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static async Task<CheckInMonitor?> CreateAsync(NpgsqlConnection c, TimeProvider time, CreateMonitorParams p, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var status = MonitorStateMachine.Initial(p.Paused, now);
        // Both unique indexes (name, slug) turn a conflict into no row.
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO monitors (id, organization_id, name, slug, period_seconds, cron, timezone, grace_seconds, max_runtime_seconds, start_grace_seconds, " +
            "failure_threshold, tags, ping_key_hash, ping_key_sealed, state, reason, state_changed_at, pause_reason, created_at, updated_at) VALUES " +
            "(@id, @org, @name, @slug, @period, @cron, @tz, @grace, @max_runtime, @start_grace, @threshold, @tags, @hash, @sealed, @state, @reason, @now, " +
            $"@pause_reason, @now, @now) ON CONFLICT DO NOTHING RETURNING {Columns}", c);
        SetDefinition(cmd.Parameters, p.Definition).Uuid("id", Ids.New(time)).Uuid("org", p.OrganizationId).Text("hash", p.PingKeyHash)
            .Text("sealed", p.PingKeySealed).Text("state", status.State.ToWire()).Text("reason", status.Reason)
            .Text("pause_reason", p.Paused ? p.PauseReason : null).Long("now", Ms(now));
        return await OneAsync(cmd, cancellationToken);
    }

    public async Task<CheckInMonitor?> UpdateAsync(UpdateMonitorParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var updated = await UpdateAsync(c, store.Time, p, cancellationToken);
        if (updated is not null) await tx.CommitAsync(cancellationToken);
        return updated;
    }

    /// <summary>
    /// The update on <paramref name="c"/>, in its transaction (the row locked); null when there is none of that name or
    /// the slug is another monitor's (then the caller rolls back).
    /// </summary>
    internal static async Task<CheckInMonitor?> UpdateAsync(NpgsqlConnection c, TimeProvider time, UpdateMonitorParams p, CancellationToken cancellationToken)
    {
        if (await LockAsync(c, p.OrganizationId, p.Definition.Name, null, cancellationToken) is not { } current) return null;
        var now = time.GetUtcNow();
        var status = MonitorStateMachine.Redefine(current.Definition, p.Definition, current.Status, now);
        await using (var cmd = new NpgsqlCommand(
                         "UPDATE monitors SET slug = @slug, period_seconds = @period, cron = @cron, timezone = @tz, grace_seconds = @grace, " +
                         "max_runtime_seconds = @max_runtime, start_grace_seconds = @start_grace, failure_threshold = @threshold, tags = @tags, updated_at = @now " +
                         "WHERE id = @id AND NOT EXISTS (SELECT 1 FROM monitors o WHERE o.organization_id = @org AND o.slug = @slug AND o.id <> @id)", c))
        {
            SetDefinition(cmd.Parameters, p.Definition).Uuid("id", current.Id).Uuid("org", p.OrganizationId).Long("now", Ms(now));
            if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0) return null;
        }
        await SaveAsync(c, current.Id, status, MonitorStateMachine.NextCheck(p.Definition, status), current.PauseReason, cancellationToken);
        return await LockAsync(c, p.OrganizationId, p.Definition.Name, null, cancellationToken);
    }

    public async Task<CheckInMonitor?> GetAsync(MonitorParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM monitors WHERE organization_id = @org AND name = @name");
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
        return await OneAsync(cmd, cancellationToken);
    }

    public async Task<Page<CheckInMonitor>> ListAsync(ListMonitorsParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM monitors WHERE organization_id = @org AND name COLLATE \"C\" > @after " +
                                               "AND (@state::text IS NULL OR state = @state) ORDER BY name COLLATE \"C\" LIMIT @n");
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("after", after ?? "").Text("state", p.State?.ToWire()).Int("n", p.Limit + 1);
        var items = new List<CheckInMonitor>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) items.Add(MonitorRows.Read(r));
        return ScheduleCursor.Page(items, p.Limit, m => m.Name);
    }

    public async Task<bool> DeleteAsync(MonitorParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await DeleteAsync(c, p, cancellationToken);
    }

    /// <summary>The delete on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static async Task<bool> DeleteAsync(NpgsqlConnection c, MonitorParams p, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            "WITH d AS (DELETE FROM monitors WHERE organization_id = @org AND name = @name RETURNING id), " +
            "r AS (DELETE FROM monitor_runs WHERE monitor_id IN (SELECT id FROM d)) SELECT count(*) FROM d", c);
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    public Task<MonitorChange?> SetPausedAsync(PauseMonitorParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(c => LockAsync(c, p.OrganizationId, p.Name, null, cancellationToken),
            async (c, m) => await MonitorTransactions.SetPausedAsync(m, p.Paused, p.Reason, Now, new Session(c, m), cancellationToken), cancellationToken);

    public async Task<CheckInMonitor?> SetPingKeyAsync(SetMonitorPingKeyParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("UPDATE monitors SET ping_key_hash = @hash, ping_key_sealed = @sealed WHERE organization_id = @org AND name = @name " +
                                               $"RETURNING {Columns}");
        cmd.Parameters.Text("hash", p.PingKeyHash).Text("sealed", p.PingKeySealed).Uuid("org", p.OrganizationId).Text("name", p.Name);
        return await OneAsync(cmd, cancellationToken);
    }

    public async Task<Page<MonitorRun>?> ListRunsAsync(ListMonitorRunsParams p, CancellationToken cancellationToken)
    {
        var before = ScheduleCursor.ReadSeq(p.Cursor);
        Guid monitorId;
        await using (var find = Db.CreateCommand("SELECT id FROM monitors WHERE organization_id = @org AND name = @name"))
        {
            find.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
            if (await find.ExecuteScalarAsync(cancellationToken) is not Guid id) return null;
            monitorId = id;
        }
        await using var cmd = Db.CreateCommand($"SELECT {MonitorRows.RunColumns} FROM monitor_runs WHERE monitor_id = @id AND seq < @before ORDER BY seq DESC LIMIT @n");
        cmd.Parameters.Uuid("id", monitorId).Long("before", before ?? long.MaxValue).Int("n", p.Limit + 1);
        var runs = new List<MonitorRun>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) runs.Add(MonitorRows.ReadRun(r));
        return ScheduleCursor.PageBySeq(runs, p.Limit, run => run.Id);
    }

    public Task<MonitorChange?> PingAsync(PingMonitorParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            await using var cmd = new NpgsqlCommand(p.Slug is null
                ? $"SELECT {Columns} FROM monitors WHERE ping_key_hash = @hash FOR UPDATE"
                : $"SELECT {Columns} FROM monitors WHERE slug = @slug AND organization_id = (SELECT organization_id FROM monitor_ping_keys WHERE key_hash = @hash) FOR UPDATE", c);
            cmd.Parameters.Text("hash", p.KeyHash).Text("slug", p.Slug);
            return await OneAsync(cmd, cancellationToken);
        }, async (c, m) => await MonitorTransactions.PingAsync(m, p.Ping, Now, new Session(c, m), cancellationToken), cancellationToken);

    public async Task<OrganizationPingKey?> GetOrganizationPingKeyAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT key_sealed, created_at FROM monitor_ping_keys WHERE organization_id = @org");
        cmd.Parameters.Uuid("org", organizationId);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? new OrganizationPingKey(organizationId, r.GetString(0), Time(r.GetInt64(1))) : null;
    }

    public async Task<OrganizationPingKey> SetOrganizationPingKeyAsync(SetOrganizationPingKeyParams p, CancellationToken cancellationToken)
    {
        var now = Ms(Now);
        await using var cmd = Db.CreateCommand("INSERT INTO monitor_ping_keys (organization_id, key_hash, key_sealed, created_at) VALUES (@org, @hash, @sealed, @now) " +
                                               "ON CONFLICT (organization_id) DO UPDATE SET key_hash = excluded.key_hash, key_sealed = excluded.key_sealed, created_at = excluded.created_at");
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("hash", p.KeyHash).Text("sealed", p.KeySealed).Long("now", now);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        return new OrganizationPingKey(p.OrganizationId, p.KeySealed, Time(now));
    }

    public async Task<IReadOnlyList<DueMonitor>> ListDueAsync(ListDueMonitorsParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT organization_id, id, next_check_at FROM monitors WHERE next_check_at <= @now ORDER BY next_check_at LIMIT @n");
        cmd.Parameters.Long("now", Ms(Now)).Int("n", p.Limit);
        var due = new List<DueMonitor>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) due.Add(new DueMonitor(r.GetGuid(0), r.GetGuid(1), Time(r.GetInt64(2))));
        return due;
    }

    public Task<MonitorChange?> EvaluateAsync(EvaluateMonitorParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(c => LockAsync(c, p.OrganizationId, null, p.MonitorId, cancellationToken),
            (c, m) => MonitorTransactions.EvaluateAsync(m, Now, new Session(c, m), cancellationToken), cancellationToken);

    public async Task<DateTimeOffset?> NextCheckAsync(CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT min(next_check_at) FROM monitors");
        return await cmd.ExecuteScalarAsync(cancellationToken) is long ms ? Time(ms) : null;
    }

    /// <summary>The monitor row by name or id, locked until the transaction ends.</summary>
    internal static async Task<CheckInMonitor?> LockAsync(NpgsqlConnection c, Guid org, string? name, Guid? id, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"SELECT {Columns} FROM monitors WHERE organization_id = @org AND " +
                                                (id is null ? "name = @name" : "id = @id") + " FOR UPDATE", c);
        cmd.Parameters.Uuid("org", org).Text("name", name).Uuid("id", id);
        return await OneAsync(cmd, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> on the monitor <paramref name="find"/> locks, in one transaction; null when there is none.</summary>
    private async Task<MonitorChange?> InTransactionAsync(Func<NpgsqlConnection, Task<CheckInMonitor?>> find,
        Func<NpgsqlConnection, CheckInMonitor, Task<MonitorChange?>> work, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        if (await find(c) is not { } m) return null;
        var result = await work(c, m);
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task SaveAsync(NpgsqlConnection c, Guid id, MonitorStatus status, DateTimeOffset? nextCheckAt, string? pauseReason,
        CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(SaveSql, c);
        var values = MonitorRows.StatusValues(status, nextCheckAt, pauseReason);
        for (var i = 0; i < values.Length; i++)
        {
            var column = MonitorRows.StatusColumns[i];
            // Status columns: the text ones by name, the others bigint/integer (long parameters).
            var text = column is "state" or "reason" or "pause_reason";
            cmd.Parameters.Add(new NpgsqlParameter(column, text ? NpgsqlDbType.Text : NpgsqlDbType.Bigint) { Value = values[i] ?? DBNull.Value });
        }
        cmd.Parameters.Uuid("id", id);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The change's writes, on the connection of its transaction.</summary>
    private sealed class Session(NpgsqlConnection c, CheckInMonitor m) : IMonitorSession
    {
        public async ValueTask<MonitorRun> RecordRunAsync(MonitorPing ping, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var at = Ms(now);
            var outcome = MonitorRows.Outcome(ping).ToWire();
            long? open = null;
            if (ping.Kind != PingKind.Start)
            {
                await using var find = new NpgsqlCommand("SELECT seq FROM monitor_runs WHERE monitor_id = @id AND outcome = 'running' " +
                                                         "AND rid IS NOT DISTINCT FROM @rid ORDER BY seq DESC LIMIT 1", c);
                find.Parameters.Uuid("id", m.Id).Text("rid", ping.Rid);
                open = await find.ExecuteScalarAsync(cancellationToken) as long?;
            }
            NpgsqlCommand cmd;
            if (open is { } seq)
            {
                // The finish of an open run: its outcome and what the finish brought (its log, unless it brought none).
                cmd = new NpgsqlCommand("UPDATE monitor_runs SET outcome = @outcome, finished_at = @now, exit_code = @exit, log = coalesce(@log, log), " +
                                        "log_truncated = CASE WHEN @log IS NULL THEN log_truncated ELSE @truncated END, source_ip = @ip, user_agent = @agent " +
                                        $"WHERE seq = @seq RETURNING {MonitorRows.RunColumns}", c);
                cmd.Parameters.Long("seq", seq);
            }
            else
            {
                cmd = new NpgsqlCommand("INSERT INTO monitor_runs (organization_id, monitor_id, rid, outcome, started_at, finished_at, exit_code, log, log_truncated, " +
                                        "source_ip, user_agent, created_at) VALUES (@org, @id, @rid, @outcome, @started, @finished, @exit, @log, @truncated, @ip, @agent, @now) " +
                                        $"RETURNING {MonitorRows.RunColumns}", c);
                cmd.Parameters.Uuid("org", m.OrganizationId).Uuid("id", m.Id).Text("rid", ping.Rid).Long("started", ping.Kind == PingKind.Start ? at : null)
                    .Long("finished", ping.Kind == PingKind.Start ? null : at);
            }
            MonitorRun run;
            await using (cmd)
            {
                cmd.Parameters.Text("outcome", outcome).Long("now", at).Int("exit", ping.ExitCode).Text("log", ping.Body).Bool("truncated", ping.BodyTruncated)
                    .Text("ip", ping.SourceIp).Text("agent", ping.UserAgent);
                await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
                await r.ReadAsync(cancellationToken);
                run = MonitorRows.ReadRun(r);
            }
            if (open is null)
            {
                await using var prune = new NpgsqlCommand("DELETE FROM monitor_runs WHERE monitor_id = @id AND seq <= " +
                                                          "(SELECT seq FROM monitor_runs WHERE monitor_id = @id ORDER BY seq DESC LIMIT 1 OFFSET @kept)", c);
                prune.Parameters.Uuid("id", m.Id).Int("kept", MonitorTransactions.RunsKept);
                await prune.ExecuteNonQueryAsync(cancellationToken);
            }
            return run;
        }

        public async ValueTask TimeOutRunsAsync(DateTimeOffset startedBy, DateTimeOffset now, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand("UPDATE monitor_runs SET outcome = 'timeout', finished_at = @now WHERE monitor_id = @id AND outcome = 'running' " +
                                                    "AND started_at <= @by", c);
            cmd.Parameters.Long("now", Ms(now)).Uuid("id", m.Id).Long("by", Ms(startedBy));
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        public async ValueTask<DateTimeOffset?> RunningSinceAsync(CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand("SELECT min(started_at) FROM monitor_runs WHERE monitor_id = @id AND outcome = 'running'", c);
            cmd.Parameters.Uuid("id", m.Id);
            return await cmd.ExecuteScalarAsync(cancellationToken) is long ms ? Time(ms) : null;
        }

        public async ValueTask SaveAsync(MonitorStatus status, DateTimeOffset? nextCheckAt, string? pauseReason, CancellationToken cancellationToken) =>
            await PostgresMonitorStore.SaveAsync(c, m.Id, status, nextCheckAt, pauseReason, cancellationToken);
    }
}
