using Kairos.Core.Metrics;
using Kairos.Core.Storage;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>
/// The metrics rollup on PostgreSQL: one upsert-add statement per flush (rows in key order, so that two nodes adding
/// to the same minutes lock them in the same order), histograms merged as jsonb in SQL, series aggregated in SQL.
/// </summary>
internal sealed class PostgresMetricsStore(PostgresStore store) : IMetricsStore
{
    private NpgsqlDataSource Db => store.DataSource;

    private const string Upsert =
        "INSERT INTO metric_minutes AS m (organization_id, queue, minute, enqueued, started, succeeded, failed, retried, cancelled, runtime_hist, depth, oldest_age_ms) " +
        "SELECT org, queue, minute, enqueued, started, succeeded, failed, retried, cancelled, hist::jsonb, depth, oldest " +
        "FROM unnest(@org, @queue, @minute, @enqueued, @started, @succeeded, @failed, @retried, @cancelled, @hist, @depth, @oldest) WITH ORDINALITY " +
        "  AS r(org, queue, minute, enqueued, started, succeeded, failed, retried, cancelled, hist, depth, oldest, n) ORDER BY n " +
        "ON CONFLICT (organization_id, minute, queue) DO UPDATE SET " +
        "enqueued = m.enqueued + excluded.enqueued, started = m.started + excluded.started, succeeded = m.succeeded + excluded.succeeded, " +
        "failed = m.failed + excluded.failed, retried = m.retried + excluded.retried, cancelled = m.cancelled + excluded.cancelled, " +
        "runtime_hist = CASE WHEN m.runtime_hist IS NULL THEN excluded.runtime_hist WHEN excluded.runtime_hist IS NULL THEN m.runtime_hist " +
        "  ELSE (SELECT jsonb_object_agg(key, total) FROM (SELECT key, SUM(value::bigint) AS total FROM (SELECT * FROM jsonb_each_text(m.runtime_hist) " +
        "  UNION ALL SELECT * FROM jsonb_each_text(excluded.runtime_hist)) u GROUP BY key) s) END, " +
        "depth = COALESCE(excluded.depth, m.depth), oldest_age_ms = COALESCE(excluded.oldest_age_ms, m.oldest_age_ms)";

    public async Task AddAsync(AddMetricsParams p, CancellationToken cancellationToken)
    {
        if (p.Rows.Count == 0) return;
        // One row per key (a statement may not update a row twice), in key order.
        var rows = p.Rows.GroupBy(r => (r.OrganizationId, r.Minute, r.Queue)).Select(g =>
        {
            var sum = new MetricRow { OrganizationId = g.Key.OrganizationId, Queue = g.Key.Queue, Minute = g.Key.Minute };
            foreach (var r in g) sum.Add(r);
            return sum;
        }).OrderBy(r => r.OrganizationId).ThenBy(r => r.Minute).ThenBy(r => r.Queue, StringComparer.Ordinal).ToList();
        await using var cmd = Db.CreateCommand(Upsert);
        cmd.Parameters.Uuids("org", [.. rows.Select(r => r.OrganizationId)]).Texts("queue", [.. rows.Select(r => r.Queue)])
            .Longs("minute", [.. rows.Select(r => (long?)Ms(r.Minute))])
            .Longs("enqueued", [.. rows.Select(r => (long?)r.Enqueued)]).Longs("started", [.. rows.Select(r => (long?)r.Started)])
            .Longs("succeeded", [.. rows.Select(r => (long?)r.Succeeded)]).Longs("failed", [.. rows.Select(r => (long?)r.Failed)])
            .Longs("retried", [.. rows.Select(r => (long?)r.Retried)]).Longs("cancelled", [.. rows.Select(r => (long?)r.Cancelled)])
            .Texts("hist", [.. rows.Select(r => r.RunTimes.IsEmpty ? null : r.RunTimes.ToJson())])
            .Longs("depth", [.. rows.Select(r => r.Depth)]).Longs("oldest", [.. rows.Select(r => r.OldestAgeMs)]);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<QueueSample>> SampleQueuesAsync(CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand(
            "SELECT q.organization_id, q.name, COUNT(j.seq), MIN(j.run_at) FROM queues q " +
            "LEFT JOIN jobs j ON j.organization_id = q.organization_id AND j.queue = q.name AND j.state = 'queued' " +
            "GROUP BY q.organization_id, q.name");
        var samples = new List<QueueSample>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            samples.Add(new QueueSample(r.GetGuid(0), r.GetString(1), r.GetInt64(2), r.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))));
        }
        return samples;
    }

    public async Task<IReadOnlyList<MetricPoint>> SeriesAsync(MetricSeriesParams p, CancellationToken cancellationToken)
    {
        // By queue: the queue leads every grouping and is column 0 (o shifts the others).
        var by = p.ByQueue ? "queue, " : "";
        var o = p.ByQueue ? 1 : 0;
        var points = new List<(string? Queue, long Step, long[] Counts, long? Depth, long? Oldest)>();
        await using (var counts = Db.CreateCommand(
            $"SELECT {by}step, SUM(enqueued)::bigint, SUM(started)::bigint, SUM(succeeded)::bigint, SUM(failed)::bigint, SUM(retried)::bigint, " +
            "  SUM(cancelled)::bigint, MAX(depth)::bigint, MAX(oldest)::bigint FROM (" +
            $"  SELECT {by}@from + ((minute - @from) / @step) * @step AS step, SUM(enqueued) AS enqueued, SUM(started) AS started, " +
            "    SUM(succeeded) AS succeeded, SUM(failed) AS failed, SUM(retried) AS retried, SUM(cancelled) AS cancelled, " +
            $"    SUM(depth) AS depth, MAX(oldest_age_ms) AS oldest FROM metric_minutes m WHERE {Where(p)} GROUP BY {by}minute" +
            $") x GROUP BY {by}step ORDER BY {by}step"))
        {
            Bind(counts, p);
            await using var r = await counts.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                points.Add((p.ByQueue ? r.GetString(0) : null, r.GetInt64(o),
                    [r.GetInt64(o + 1), r.GetInt64(o + 2), r.GetInt64(o + 3), r.GetInt64(o + 4), r.GetInt64(o + 5), r.GetInt64(o + 6)],
                    r.IsDBNull(o + 7) ? null : r.GetInt64(o + 7), r.IsDBNull(o + 8) ? null : r.GetInt64(o + 8)));
            }
        }
        var histograms = new Dictionary<(string?, long), RunTimeHistogram>();
        await using (var hist = Db.CreateCommand(
            $"SELECT {(p.ByQueue ? "m.queue, " : "")}@from + ((m.minute - @from) / @step) * @step AS step, h.key::int, SUM(h.value::bigint)::bigint " +
            $"FROM metric_minutes m CROSS JOIN LATERAL jsonb_each_text(m.runtime_hist) AS h(key, value) WHERE m.runtime_hist IS NOT NULL AND {Where(p)} " +
            (p.ByQueue ? "GROUP BY 1, 2, 3" : "GROUP BY 1, 2")))
        {
            Bind(hist, p);
            await using var r = await hist.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                var key = (p.ByQueue ? r.GetString(0) : null, r.GetInt64(o));
                if (!histograms.TryGetValue(key, out var h)) histograms[key] = h = new RunTimeHistogram();
                h.Add(r.GetInt32(o + 1), r.GetInt64(o + 2));
            }
        }
        return [.. points.Select(x => new MetricPoint(DateTimeOffset.FromUnixTimeMilliseconds(x.Step), x.Counts[0], x.Counts[1], x.Counts[2], x.Counts[3],
            x.Counts[4], x.Counts[5], x.Depth, x.Oldest, histograms.GetValueOrDefault((x.Queue, x.Step)) ?? new RunTimeHistogram(), x.Queue))];
    }

    private static string Where(MetricSeriesParams p) =>
        "m.organization_id = @org AND m.minute >= @from AND m.minute < @to" + (p.Queue is null ? "" : " AND m.queue = @queue");

    private static void Bind(NpgsqlCommand cmd, MetricSeriesParams p)
    {
        cmd.Parameters.Uuid("org", p.OrganizationId).Long("from", Ms(p.From)).Long("to", Ms(p.To)).Long("step", p.StepMs);
        if (p.Queue is not null) cmd.Parameters.Text("queue", p.Queue);
    }

    public async Task<int> PruneAsync(PruneMetricsParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand(
            "DELETE FROM metric_minutes WHERE (organization_id, minute, queue) IN " +
            "(SELECT organization_id, minute, queue FROM metric_minutes WHERE minute < @before ORDER BY minute LIMIT @limit)");
        cmd.Parameters.Long("before", Ms(p.Before)).Int("limit", p.Limit);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
