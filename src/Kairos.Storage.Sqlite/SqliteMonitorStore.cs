using Kairos.Core.Monitors;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// Monitors on SQLite. Every change goes through the single writer, so a ping reads the monitor, records its run and
/// saves the new status in one transaction that nothing else (another ping, the watch) interleaves with.
/// </summary>
internal sealed class SqliteMonitorStore(SqliteStore store) : IMonitorStore
{
    private const string Columns = MonitorRows.Columns;

    private static readonly string SaveSql =
        "UPDATE monitors SET " + string.Join(", ", MonitorRows.StatusColumns.Select(c => $"{c} = ${c}")) + " WHERE id = $id";

    private static CheckInMonitor? One(SqliteCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        return r.Read() ? MonitorRows.Read(r) : null;
    }

    internal static CheckInMonitor? Find(WriteContext ctx, string org, string name) =>
        One(ctx.Cmd($"SELECT {Columns} FROM monitors WHERE organization_id = $org AND name = $name").Set("$org", org).Set("$name", name));

    private static SqliteCommand SetDefinition(SqliteCommand cmd, MonitorDefinition d)
    {
        string[] names = ["$name", "$slug", "$period", "$cron", "$tz", "$grace", "$max_runtime", "$start_grace", "$threshold", "$tags"];
        var values = MonitorRows.DefinitionValues(d);
        for (var i = 0; i < names.Length; i++) cmd.Set(names[i], values[i]);
        return cmd;
    }

    public Task<CheckInMonitor?> CreateAsync(CreateMonitorParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Create(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static CheckInMonitor? Create(WriteContext ctx, CreateMonitorParams p)
    {
        var org = p.OrganizationId.ToString();
        var now = ctx.Now;
        var exists = ctx.Cmd("SELECT COUNT(*) FROM monitors WHERE organization_id = $org AND (name = $name OR slug = $slug)")
            .Set("$org", org).Set("$name", p.Definition.Name).Set("$slug", p.Definition.Slug).ExecuteScalar();
        if (exists is long n && n > 0) return null;
        var status = MonitorStateMachine.Initial(p.Paused, now);
        var cmd = ctx.Cmd(
            "INSERT INTO monitors (id, organization_id, name, slug, period_seconds, cron, timezone, grace_seconds, max_runtime_seconds, start_grace_seconds, " +
            "failure_threshold, tags, ping_key_hash, ping_key_sealed, state, reason, state_changed_at, pause_reason, created_at, updated_at) VALUES " +
            "($id, $org, $name, $slug, $period, $cron, $tz, $grace, $max_runtime, $start_grace, $threshold, $tags, $hash, $sealed, $state, $reason, $now, " +
            "$pause_reason, $now, $now)");
        SetDefinition(cmd, p.Definition).Set("$id", Kairos.Core.Ids.New(ctx.Time).ToString()).Set("$org", org).Set("$hash", p.PingKeyHash)
            .Set("$sealed", p.PingKeySealed).Set("$state", status.State.ToWire()).Set("$reason", status.Reason)
            .Set("$pause_reason", p.Paused ? p.PauseReason : null).Set("$now", Ms(now)).ExecuteNonQuery();
        return Find(ctx, org, p.Definition.Name);
    }

    public Task<CheckInMonitor?> UpdateAsync(UpdateMonitorParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Update(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static CheckInMonitor? Update(WriteContext ctx, UpdateMonitorParams p)
    {
        var org = p.OrganizationId.ToString();
        if (Find(ctx, org, p.Definition.Name) is not { } current) return null;
        var taken = ctx.Cmd("SELECT COUNT(*) FROM monitors WHERE organization_id = $org AND slug = $slug AND id <> $id")
            .Set("$org", org).Set("$slug", p.Definition.Slug).Set("$id", current.Id.ToString()).ExecuteScalar();
        if (taken is long n && n > 0) return null;
        var now = ctx.Now;
        var status = MonitorStateMachine.Redefine(current.Definition, p.Definition, current.Status, now);
        var cmd = ctx.Cmd(
            "UPDATE monitors SET slug = $slug, period_seconds = $period, cron = $cron, timezone = $tz, grace_seconds = $grace, max_runtime_seconds = $max_runtime, " +
            "start_grace_seconds = $start_grace, failure_threshold = $threshold, tags = $tags, updated_at = $now WHERE id = $id AND name = $name");
        SetDefinition(cmd, p.Definition).Set("$id", current.Id.ToString()).Set("$now", Ms(now)).ExecuteNonQuery();
        Save(ctx, current.Id, status, MonitorStateMachine.NextCheck(p.Definition, status), current.PauseReason);
        return Find(ctx, org, p.Definition.Name);
    }

    public Task<CheckInMonitor?> GetAsync(MonitorParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM monitors WHERE organization_id = $org AND name = $name";
            return One(cmd.Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name));
        }, cancellationToken);

    public Task<Page<CheckInMonitor>> ListAsync(ListMonitorsParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        return store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM monitors WHERE organization_id = $org AND name > $after AND ($state IS NULL OR state = $state) ORDER BY name LIMIT $n";
            cmd.Set("$org", p.OrganizationId.ToString()).Set("$after", after ?? "").Set("$state", p.State?.ToWire()).Set("$n", p.Limit + 1);
            var items = new List<CheckInMonitor>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) items.Add(MonitorRows.Read(r));
            return ScheduleCursor.Page(items, p.Limit, m => m.Name);
        }, cancellationToken);
    }

    public Task<bool> DeleteAsync(MonitorParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Delete(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static bool Delete(WriteContext ctx, MonitorParams p)
    {
        if (Find(ctx, p.OrganizationId.ToString(), p.Name) is not { } m) return false;
        ctx.Cmd("DELETE FROM monitor_runs WHERE monitor_id = $id").Set("$id", m.Id.ToString()).ExecuteNonQuery();
        ctx.Cmd("DELETE FROM monitors WHERE id = $id").Set("$id", m.Id.ToString()).ExecuteNonQuery();
        return true;
    }

    public Task<MonitorChange?> SetPausedAsync(PauseMonitorParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            if (Find(ctx, p.OrganizationId.ToString(), p.Name) is not { } m) return null;
            return (MonitorChange?)Completed(MonitorTransactions.SetPausedAsync(m, p.Paused, p.Reason, ctx.Now, new Session(ctx, m), CancellationToken.None));
        }, cancellationToken);

    public Task<CheckInMonitor?> SetPingKeyAsync(SetMonitorPingKeyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            var changed = ctx.Cmd("UPDATE monitors SET ping_key_hash = $hash, ping_key_sealed = $sealed WHERE organization_id = $org AND name = $name")
                .Set("$hash", p.PingKeyHash).Set("$sealed", p.PingKeySealed).Set("$org", org).Set("$name", p.Name).ExecuteNonQuery();
            return changed == 0 ? null : Find(ctx, org, p.Name);
        }, cancellationToken);

    public Task<Page<MonitorRun>?> ListRunsAsync(ListMonitorRunsParams p, CancellationToken cancellationToken)
    {
        var before = ScheduleCursor.ReadSeq(p.Cursor);
        return store.ReadAsync<Page<MonitorRun>?>(c =>
        {
            string monitorId;
            using (var find = c.CreateCommand())
            {
                find.CommandText = "SELECT id FROM monitors WHERE organization_id = $org AND name = $name";
                if (find.Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name).ExecuteScalar() is not string id) return null;
                monitorId = id;
            }
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {MonitorRows.RunColumns} FROM monitor_runs WHERE monitor_id = $id AND seq < $before ORDER BY seq DESC LIMIT $n";
            cmd.Set("$id", monitorId).Set("$before", before ?? long.MaxValue).Set("$n", p.Limit + 1);
            var runs = new List<MonitorRun>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) runs.Add(MonitorRows.ReadRun(r));
            return ScheduleCursor.PageBySeq(runs, p.Limit, run => run.Id);
        }, cancellationToken);
    }

    public Task<MonitorChange?> PingAsync(PingMonitorParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var cmd = p.Slug is null
                ? ctx.Cmd($"SELECT {Columns} FROM monitors WHERE ping_key_hash = $hash").Set("$hash", p.KeyHash)
                : ctx.Cmd($"SELECT {Columns} FROM monitors WHERE slug = $slug AND organization_id = (SELECT organization_id FROM monitor_ping_keys WHERE key_hash = $hash)")
                    .Set("$hash", p.KeyHash).Set("$slug", p.Slug);
            if (One(cmd) is not { } m) return null;
            return (MonitorChange?)Completed(MonitorTransactions.PingAsync(m, p.Ping, ctx.Now, new Session(ctx, m), CancellationToken.None));
        }, cancellationToken);

    public Task<OrganizationPingKey?> GetOrganizationPingKeyAsync(Guid organizationId, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT key_sealed, created_at FROM monitor_ping_keys WHERE organization_id = $org";
            using var r = cmd.Set("$org", organizationId.ToString()).ExecuteReader();
            return r.Read() ? new OrganizationPingKey(organizationId, r.GetString(0), Time(r.GetInt64(1))) : null;
        }, cancellationToken);

    public Task<OrganizationPingKey> SetOrganizationPingKeyAsync(SetOrganizationPingKeyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var now = ctx.Now;
            ctx.Cmd("INSERT INTO monitor_ping_keys (organization_id, key_hash, key_sealed, created_at) VALUES ($org, $hash, $sealed, $now) " +
                    "ON CONFLICT (organization_id) DO UPDATE SET key_hash = excluded.key_hash, key_sealed = excluded.key_sealed, created_at = excluded.created_at")
                .Set("$org", p.OrganizationId.ToString()).Set("$hash", p.KeyHash).Set("$sealed", p.KeySealed).Set("$now", Ms(now)).ExecuteNonQuery();
            return new OrganizationPingKey(p.OrganizationId, p.KeySealed, Time(Ms(now)));
        }, cancellationToken);

    public Task<IReadOnlyList<DueMonitor>> ListDueAsync(ListDueMonitorsParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<DueMonitor>>(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT organization_id, id, next_check_at FROM monitors WHERE next_check_at IS NOT NULL AND next_check_at <= $now ORDER BY next_check_at LIMIT $n";
            cmd.Set("$now", Ms(store.Time.GetUtcNow())).Set("$n", p.Limit);
            var due = new List<DueMonitor>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) due.Add(new DueMonitor(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), Time(r.GetInt64(2))));
            return due;
        }, cancellationToken);

    public Task<MonitorChange?> EvaluateAsync(EvaluateMonitorParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var cmd = ctx.Cmd($"SELECT {Columns} FROM monitors WHERE id = $id AND organization_id = $org")
                .Set("$id", p.MonitorId.ToString()).Set("$org", p.OrganizationId.ToString());
            if (One(cmd) is not { } m) return null;
            return Completed(MonitorTransactions.EvaluateAsync(m, ctx.Now, new Session(ctx, m), CancellationToken.None));
        }, cancellationToken);

    public Task<DateTimeOffset?> NextCheckAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT MIN(next_check_at) FROM monitors WHERE next_check_at IS NOT NULL";
            return cmd.ExecuteScalar() is long ms ? Time(ms) : (DateTimeOffset?)null;
        }, cancellationToken);

    private static void Save(WriteContext ctx, Guid id, MonitorStatus status, DateTimeOffset? nextCheckAt, string? pauseReason)
    {
        var cmd = ctx.Cmd(SaveSql).Set("$id", id.ToString());
        var values = MonitorRows.StatusValues(status, nextCheckAt, pauseReason);
        for (var i = 0; i < values.Length; i++) cmd.Set("$" + MonitorRows.StatusColumns[i], values[i]);
        cmd.ExecuteNonQuery();
    }

    private static T Completed<T>(Task<T> task) =>
        // The session's steps run on the writer's connection without awaiting anything: the change is done when it returns.
        task.IsCompleted ? task.GetAwaiter().GetResult() : throw new InvalidOperationException("A SQLite monitor change must complete synchronously.");

    /// <summary>The change's writes, on the writer's connection inside its transaction.</summary>
    private sealed class Session(WriteContext ctx, CheckInMonitor m) : IMonitorSession
    {
        private readonly string _id = m.Id.ToString();

        public ValueTask<MonitorRun> RecordRunAsync(MonitorPing ping, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var at = Ms(now);
            long? seq = null;
            if (ping.Kind != PingKind.Start)
            {
                seq = ctx.Cmd("SELECT seq FROM monitor_runs WHERE monitor_id = $id AND outcome = 'running' AND rid IS $rid ORDER BY seq DESC LIMIT 1")
                    .Set("$id", _id).Set("$rid", ping.Rid).ExecuteScalar() as long?;
            }
            if (seq is { } open)
            {
                // The finish of an open run: its outcome and what the finish brought (its log, unless it brought none).
                ctx.Cmd("UPDATE monitor_runs SET outcome = $outcome, finished_at = $now, exit_code = $exit, log = coalesce($log, log), " +
                        "log_truncated = CASE WHEN $log IS NULL THEN log_truncated ELSE $truncated END, source_ip = $ip, user_agent = $agent WHERE seq = $seq")
                    .Set("$outcome", MonitorRows.Outcome(ping).ToWire()).Set("$now", at).Set("$exit", ping.ExitCode).Set("$log", ping.Body)
                    .Set("$truncated", ping.BodyTruncated ? 1 : 0).Set("$ip", ping.SourceIp).Set("$agent", ping.UserAgent).Set("$seq", open).ExecuteNonQuery();
            }
            else
            {
                seq = (long)ctx.Cmd("INSERT INTO monitor_runs (organization_id, monitor_id, rid, outcome, started_at, finished_at, exit_code, log, log_truncated, " +
                                    "source_ip, user_agent, created_at) VALUES ($org, $id, $rid, $outcome, $started, $finished, $exit, $log, $truncated, $ip, $agent, $now) " +
                                    "RETURNING seq")
                    .Set("$org", m.OrganizationId.ToString()).Set("$id", _id).Set("$rid", ping.Rid).Set("$outcome", MonitorRows.Outcome(ping).ToWire())
                    .Set("$started", ping.Kind == PingKind.Start ? at : null).Set("$finished", ping.Kind == PingKind.Start ? null : at)
                    .Set("$exit", ping.ExitCode).Set("$log", ping.Body).Set("$truncated", ping.BodyTruncated ? 1 : 0).Set("$ip", ping.SourceIp)
                    .Set("$agent", ping.UserAgent).Set("$now", at).ExecuteScalar()!;
                ctx.Cmd("DELETE FROM monitor_runs WHERE monitor_id = $id AND seq <= " +
                        "(SELECT seq FROM monitor_runs WHERE monitor_id = $id ORDER BY seq DESC LIMIT 1 OFFSET $kept)")
                    .Set("$id", _id).Set("$kept", MonitorTransactions.RunsKept).ExecuteNonQuery();
            }
            using var r = ctx.Cmd($"SELECT {MonitorRows.RunColumns} FROM monitor_runs WHERE seq = $seq").Set("$seq", seq).ExecuteReader();
            r.Read();
            return ValueTask.FromResult(MonitorRows.ReadRun(r));
        }

        public ValueTask TimeOutRunsAsync(DateTimeOffset startedBy, DateTimeOffset now, CancellationToken cancellationToken)
        {
            ctx.Cmd("UPDATE monitor_runs SET outcome = 'timeout', finished_at = $now WHERE monitor_id = $id AND outcome = 'running' AND started_at <= $by")
                .Set("$now", Ms(now)).Set("$id", _id).Set("$by", Ms(startedBy)).ExecuteNonQuery();
            return ValueTask.CompletedTask;
        }

        public ValueTask<DateTimeOffset?> RunningSinceAsync(CancellationToken cancellationToken)
        {
            var min = ctx.Cmd("SELECT MIN(started_at) FROM monitor_runs WHERE monitor_id = $id AND outcome = 'running'").Set("$id", _id).ExecuteScalar();
            return ValueTask.FromResult(min is long ms ? Time(ms) : (DateTimeOffset?)null);
        }

        public ValueTask SaveAsync(MonitorStatus status, DateTimeOffset? nextCheckAt, string? pauseReason, CancellationToken cancellationToken)
        {
            Save(ctx, m.Id, status, nextCheckAt, pauseReason);
            return ValueTask.CompletedTask;
        }
    }
}
