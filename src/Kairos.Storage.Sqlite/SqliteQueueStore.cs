using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

internal sealed class SqliteQueueStore(SqliteStore store) : IQueueStore
{
    /// <summary>The queue's settings from the writer's cache, reading the row on first use; null when it does not exist.</summary>
    internal static QueueRow? Get(WriteContext ctx, string org, string name)
    {
        if (ctx.Queues.TryGetValue((org, name), out var cached)) return cached;
        var cmd = ctx.Cmd($"SELECT {QueueColumns} FROM queues WHERE organization_id = $org AND name = $name");
        using var r = cmd.Set("$org", org).Set("$name", name).ExecuteReader();
        var row = r.Read() ? Queue(r) : null;
        ctx.Queues[(org, name)] = row;
        return row;
    }

    /// <summary>Queues exist when first used.</summary>
    internal static QueueRow Ensure(WriteContext ctx, string org, string name)
    {
        if (Get(ctx, org, name) is { } row) return row;
        var now = Ms(ctx.Now);
        ctx.Cmd("INSERT OR IGNORE INTO queues (organization_id, name, created_at) VALUES ($org, $name, $now)")
            .Set("$org", org).Set("$name", name).Set("$now", now).ExecuteNonQuery();
        row = new QueueRow(name, false, null, null, null, null, null, null, now);
        ctx.Queues[(org, name)] = row;
        return row;
    }

    public async Task<QueueInfo> UpsertAsync(UpsertQueueParams p, CancellationToken cancellationToken)
    {
        await store.WriteAsync(ctx => Upsert(ctx, p), cancellationToken);
        return (await GetAsync(new QueueParams(p.OrganizationId, p.Name), cancellationToken))!;
    }

    /// <summary>The upsert, in the writer's transaction.</summary>
    internal static bool Upsert(WriteContext ctx, UpsertQueueParams p)
    {
        var org = p.OrganizationId.ToString();
        var s = QueueSettingsMask.Apply(p.Settings, p.Fields);
        // A setting outside p.Fields keeps its value ($set_* = 0); a new queue gets null for it.
        ctx.Cmd("INSERT INTO queues (organization_id, name, concurrency_limit, rate_limit, rate_period_ms, default_max_attempts, default_timeout_ms, created_at) " +
                "VALUES ($org, $name, $cl, $rl, $rp, $ma, $to, $now) ON CONFLICT (organization_id, name) DO UPDATE SET " +
                "concurrency_limit = CASE WHEN $set_cl THEN $cl ELSE concurrency_limit END, " +
                "rate_limit = CASE WHEN $set_rl THEN $rl ELSE rate_limit END, rate_period_ms = CASE WHEN $set_rl THEN $rp ELSE rate_period_ms END, " +
                "default_max_attempts = CASE WHEN $set_ma THEN $ma ELSE default_max_attempts END, " +
                "default_timeout_ms = CASE WHEN $set_to THEN $to ELSE default_timeout_ms END")
            .Set("$org", org).Set("$name", p.Name).Set("$cl", s.ConcurrencyLimit).Set("$rl", s.RateLimit?.Limit)
            .Set("$rp", s.RateLimit?.PeriodMs).Set("$ma", s.DefaultMaxAttempts).Set("$to", s.DefaultTimeoutMs).Set("$now", Ms(ctx.Now))
            .Set("$set_cl", p.Fields.HasFlag(QueueSettingFields.ConcurrencyLimit) ? 1 : 0).Set("$set_rl", p.Fields.HasFlag(QueueSettingFields.RateLimit) ? 1 : 0)
            .Set("$set_ma", p.Fields.HasFlag(QueueSettingFields.DefaultMaxAttempts) ? 1 : 0).Set("$set_to", p.Fields.HasFlag(QueueSettingFields.DefaultTimeoutMs) ? 1 : 0)
            .ExecuteNonQuery();
        ctx.Queues.Remove((org, p.Name));
        return true;
    }

    public async Task<QueueInfo?> GetAsync(QueueParams p, CancellationToken cancellationToken)
    {
        var found = await Read(p.OrganizationId, p.Name, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<QueueInfo>> ListAsync(ListQueuesParams p, CancellationToken cancellationToken) =>
        Read(p.OrganizationId, null, cancellationToken);

    private Task<IReadOnlyList<QueueInfo>> Read(Guid organizationId, string? name, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<QueueInfo>>(c =>
        {
            var org = organizationId.ToString();
            var now = store.Time.GetUtcNow();
            var rows = new List<QueueRow>();
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = $"SELECT {QueueColumns} FROM queues WHERE organization_id = $org" + (name is null ? " ORDER BY name" : " AND name = $name");
                cmd.Set("$org", org);
                if (name is not null) cmd.Set("$name", name);
                using var r = cmd.ExecuteReader();
                while (r.Read()) rows.Add(Queue(r));
            }
            var result = new List<QueueInfo>(rows.Count);
            using var counts = c.CreateCommand();
            counts.CommandText = "SELECT state, COUNT(*) FROM jobs WHERE organization_id = $org AND queue = $queue GROUP BY state";
            using var oldest = c.CreateCommand();
            oldest.CommandText = "SELECT created_at, run_at FROM jobs WHERE organization_id = $org AND queue = $queue AND state = 'queued' ORDER BY seq LIMIT 1";
            using var finished = c.CreateCommand();
            finished.CommandText = "SELECT COUNT(*) FROM jobs WHERE organization_id = $org AND finished_at >= $since AND queue = $queue AND state IN ('succeeded', 'failed')";
            foreach (var row in rows)
            {
                var perState = JobStates.All.ToDictionary(s => s, _ => 0L);
                counts.Set("$org", org).Set("$queue", row.Name);
                using (var r = counts.ExecuteReader())
                {
                    while (r.Read()) perState[JobStates.Parse(r.GetString(0))] = r.GetInt64(1);
                }
                TimeSpan? age = null;
                oldest.Set("$org", org).Set("$queue", row.Name);
                using (var r = oldest.ExecuteReader())
                {
                    if (r.Read())
                    {
                        var readySince = Math.Max(r.GetInt64(0), r.GetInt64(1));
                        age = now - Time(readySince);
                        if (age < TimeSpan.Zero) age = TimeSpan.Zero;
                    }
                }
                var done = (long)finished.Set("$org", org).Set("$queue", row.Name).Set("$since", Ms(now.AddMinutes(-1))).ExecuteScalar()!;
                result.Add(new QueueInfo
                {
                    Name = row.Name,
                    Paused = row.Paused,
                    PauseReason = row.PauseReason,
                    Settings = new QueueSettings
                    {
                        ConcurrencyLimit = row.ConcurrencyLimit,
                        RateLimit = row.RateLimit is { } l && row.RatePeriodMs is { } ms ? new RateLimit(l, ms) : null,
                        DefaultMaxAttempts = row.DefaultMaxAttempts,
                        DefaultTimeoutMs = row.DefaultTimeoutMs,
                    },
                    CreatedAt = Time(row.CreatedAt),
                    Counts = perState,
                    OldestQueuedAge = age,
                    FinishedLastMinute = done,
                });
            }
            return result;
        }, cancellationToken);

    public Task<bool> SetPausedAsync(PauseQueueParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            var changed = ctx.Cmd("UPDATE queues SET paused = $paused, pause_reason = $reason WHERE organization_id = $org AND name = $name")
                .Set("$paused", p.Paused ? 1 : 0).Set("$reason", p.Paused ? p.Reason : null).Set("$org", org).Set("$name", p.Name)
                .ExecuteNonQuery();
            ctx.Queues.Remove((org, p.Name));
            return changed > 0;
        }, cancellationToken);

    public Task<long?> PurgeAsync(QueueParams p, CancellationToken cancellationToken) =>
        store.WriteAsync<long?>(ctx =>
        {
            var org = p.OrganizationId.ToString();
            if (Get(ctx, org, p.Name) is null) return null;
            var victims = new List<(long Seq, string Id, JobState State)>();
            var select = ctx.Cmd("SELECT seq, id, state FROM jobs WHERE organization_id = $org AND queue = $queue AND state IN ('queued', 'scheduled', 'retrying')");
            using (var r = select.Set("$org", org).Set("$queue", p.Name).ExecuteReader())
            {
                while (r.Read()) victims.Add((r.GetInt64(0), r.GetString(1), JobStates.Parse(r.GetString(2))));
            }
            foreach (var (seq, id, state) in victims)
            {
                var decision = JobStateMachine.Decide(new JobSnapshot(state, 0, 0, false), JobTrigger.Delete);
                if (decision.Allowed) SqliteJobStore.RemoveJob(ctx, org, seq, id);
            }
            return victims.Count;
        }, cancellationToken);

    public Task<DeleteQueueOutcome> DeleteAsync(QueueParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Delete(ctx, p), cancellationToken);

    /// <summary>The delete, in the writer's transaction.</summary>
    internal static DeleteQueueOutcome Delete(WriteContext ctx, QueueParams p)
    {
        var org = p.OrganizationId.ToString();
        if (Get(ctx, org, p.Name) is null) return DeleteQueueOutcome.NotFound;
        var unfinished = (long)ctx.Cmd("SELECT COUNT(*) FROM jobs WHERE organization_id = $org AND queue = $queue " +
                                       "AND state NOT IN ('succeeded', 'failed', 'cancelled')")
            .Set("$org", org).Set("$queue", p.Name).ExecuteScalar()!;
        if (unfinished > 0) return DeleteQueueOutcome.NotEmpty;
        ctx.Cmd("DELETE FROM queues WHERE organization_id = $org AND name = $name").Set("$org", org).Set("$name", p.Name).ExecuteNonQuery();
        ctx.Queues.Remove((org, p.Name));
        return DeleteQueueOutcome.Deleted;
    }
}
