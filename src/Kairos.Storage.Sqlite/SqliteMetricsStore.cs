using Kairos.Core.Metrics;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// The metrics rollup on SQLite: upsert-add of counts through the single writer (histograms merged bucket by bucket
/// in SQL), series aggregated in SQL, pruning in batches.
/// </summary>
internal sealed class SqliteMetricsStore(SqliteStore store) : IMetricsStore
{
    private const string Upsert =
        "INSERT INTO metric_minutes (organization_id, queue, minute, enqueued, started, succeeded, failed, retried, cancelled, runtime_hist, depth, oldest_age_ms) " +
        "VALUES ($org, $queue, $minute, $enqueued, $started, $succeeded, $failed, $retried, $cancelled, $hist, $depth, $oldest) " +
        "ON CONFLICT (organization_id, minute, queue) DO UPDATE SET " +
        "enqueued = enqueued + excluded.enqueued, started = started + excluded.started, succeeded = succeeded + excluded.succeeded, " +
        "failed = failed + excluded.failed, retried = retried + excluded.retried, cancelled = cancelled + excluded.cancelled, " +
        "runtime_hist = CASE WHEN metric_minutes.runtime_hist IS NULL THEN excluded.runtime_hist WHEN excluded.runtime_hist IS NULL THEN metric_minutes.runtime_hist " +
        "  ELSE (SELECT json_group_object(key, total) FROM (SELECT key, SUM(value) AS total FROM (SELECT key, value FROM json_each(metric_minutes.runtime_hist) " +
        "  UNION ALL SELECT key, value FROM json_each(excluded.runtime_hist)) GROUP BY key)) END, " +
        "depth = COALESCE(excluded.depth, depth), oldest_age_ms = COALESCE(excluded.oldest_age_ms, oldest_age_ms)";

    public Task AddAsync(AddMetricsParams p, CancellationToken cancellationToken)
    {
        if (p.Rows.Count == 0) return Task.CompletedTask;
        return store.WriteAsync(ctx =>
        {
            var cmd = ctx.Cmd(Upsert);
            foreach (var r in p.Rows)
            {
                cmd.Set("$org", r.OrganizationId.ToString()).Set("$queue", r.Queue).Set("$minute", Ms(r.Minute))
                    .Set("$enqueued", r.Enqueued).Set("$started", r.Started).Set("$succeeded", r.Succeeded).Set("$failed", r.Failed)
                    .Set("$retried", r.Retried).Set("$cancelled", r.Cancelled).Set("$hist", r.RunTimes.IsEmpty ? null : r.RunTimes.ToJson())
                    .Set("$depth", r.Depth).Set("$oldest", r.OldestAgeMs).ExecuteNonQuery();
            }
            return 0;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<QueueSample>> SampleQueuesAsync(CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<QueueSample>>(c =>
        {
            using var cmd = c.CreateCommand();
            // Every known queue (empty ones sample 0), with the queued jobs counted on the ready index.
            cmd.CommandText =
                "SELECT q.organization_id, q.name, COUNT(j.seq), MIN(j.run_at) FROM queues q " +
                "LEFT JOIN jobs j ON j.organization_id = q.organization_id AND j.queue = q.name AND j.state = 'queued' " +
                "GROUP BY q.organization_id, q.name";
            var samples = new List<QueueSample>();
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                samples.Add(new QueueSample(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetInt64(2), r.IsDBNull(3) ? null : Time(r.GetInt64(3))));
            }
            return samples;
        }, cancellationToken);

    public Task<IReadOnlyList<MetricPoint>> SeriesAsync(MetricSeriesParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<MetricPoint>>(c =>
        {
            // By queue: the queue leads every grouping and is column 0 (o shifts the others).
            var by = p.ByQueue ? "queue, " : "";
            var o = p.ByQueue ? 1 : 0;
            using var counts = c.CreateCommand();
            counts.CommandText =
                $"SELECT {by}step, SUM(enqueued), SUM(started), SUM(succeeded), SUM(failed), SUM(retried), SUM(cancelled), MAX(depth), MAX(oldest) FROM (" +
                $"  SELECT {by}$from + ((minute - $from) / $step) * $step AS step, SUM(enqueued) AS enqueued, SUM(started) AS started, " +
                "    SUM(succeeded) AS succeeded, SUM(failed) AS failed, SUM(retried) AS retried, SUM(cancelled) AS cancelled, " +
                $"    SUM(depth) AS depth, MAX(oldest_age_ms) AS oldest FROM metric_minutes WHERE {Where(p, "metric_minutes")} GROUP BY {by}minute" +
                $") GROUP BY {by}step ORDER BY {by}step";
            Bind(counts, p);
            var points = new List<(string? Queue, long Step, long[] Counts, long? Depth, long? Oldest)>();
            using (var r = counts.ExecuteReader())
            {
                while (r.Read())
                {
                    points.Add((p.ByQueue ? r.GetString(0) : null, r.GetInt64(o),
                        [r.GetInt64(o + 1), r.GetInt64(o + 2), r.GetInt64(o + 3), r.GetInt64(o + 4), r.GetInt64(o + 5), r.GetInt64(o + 6)],
                        r.IsDBNull(o + 7) ? null : r.GetInt64(o + 7), r.IsDBNull(o + 8) ? null : r.GetInt64(o + 8)));
                }
            }
            using var hist = c.CreateCommand();
            hist.CommandText =
                $"SELECT {(p.ByQueue ? "m.queue, " : "")}$from + ((m.minute - $from) / $step) * $step AS step, CAST(h.key AS INTEGER), SUM(h.value) " +
                $"FROM metric_minutes m, json_each(m.runtime_hist) h WHERE m.runtime_hist IS NOT NULL AND {Where(p, "m")} " +
                $"GROUP BY {by}step, h.key";
            Bind(hist, p);
            var histograms = new Dictionary<(string?, long), RunTimeHistogram>();
            using (var r = hist.ExecuteReader())
            {
                while (r.Read())
                {
                    var key = (p.ByQueue ? r.GetString(0) : null, r.GetInt64(o));
                    if (!histograms.TryGetValue(key, out var h)) histograms[key] = h = new RunTimeHistogram();
                    h.Add(r.GetInt32(o + 1), r.GetInt64(o + 2));
                }
            }
            return [.. points.Select(x => new MetricPoint(Time(x.Step), x.Counts[0], x.Counts[1], x.Counts[2], x.Counts[3], x.Counts[4], x.Counts[5],
                x.Depth, x.Oldest, histograms.GetValueOrDefault((x.Queue, x.Step)) ?? new RunTimeHistogram(), x.Queue))];
        }, cancellationToken);

    private static string Where(MetricSeriesParams p, string table) =>
        $"{table}.organization_id = $org AND {table}.minute >= $from AND {table}.minute < $to" + (p.Queue is null ? "" : $" AND {table}.queue = $queue");

    private static void Bind(SqliteCommand cmd, MetricSeriesParams p)
    {
        cmd.Set("$org", p.OrganizationId.ToString()).Set("$from", Ms(p.From)).Set("$to", Ms(p.To)).Set("$step", p.StepMs);
        if (p.Queue is not null) cmd.Set("$queue", p.Queue);
    }

    public Task<int> PruneAsync(PruneMetricsParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Cmd(
                "DELETE FROM metric_minutes WHERE (organization_id, minute, queue) IN " +
                "(SELECT organization_id, minute, queue FROM metric_minutes WHERE minute < $before ORDER BY minute LIMIT $limit)")
            .Set("$before", Ms(p.Before)).Set("$limit", p.Limit).ExecuteNonQuery(), cancellationToken);
}
