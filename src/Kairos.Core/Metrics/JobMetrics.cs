using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Core.Metrics;

/// <summary>
/// Counts this node's job transitions in memory, per organization, queue and minute: the metrics rollup's data,
/// gathered from the <see cref="JobChange"/>s the node already produces for its events, so the job's own path gets no
/// extra write. <see cref="MetricsRecorder"/> takes what was counted and adds it to the store every few seconds
/// (upsert-add); what a crash loses is what was counted since the last flush.
/// </summary>
public sealed class JobMetrics(TimeProvider time)
{
    /// <summary>Rows held back for a store that cannot be written, at most.</summary>
    public const int MaxHeldRows = 100_000;

    private readonly Lock _gate = new();
    private Dictionary<(Guid Org, string Queue, long Minute), MetricRow> _rows = [];

    /// <summary>Counts one transition (called for every change the node publishes).</summary>
    public void Record(JobChange change)
    {
        if (change.Removed) return;
        var now = time.GetUtcNow();
        var minute = MetricRow.MinuteOf(now);
        lock (_gate)
        {
            var key = (change.OrganizationId, change.Queue, minute.ToUnixTimeMilliseconds());
            if (!_rows.TryGetValue(key, out var row))
            {
                row = new MetricRow { OrganizationId = change.OrganizationId, Queue = change.Queue, Minute = minute };
                _rows[key] = row;
            }
            if (change.From is null) row.Enqueued++;
            if (change.From == JobState.Running && change.To != JobState.Running && change.StartedAt is { } started)
            {
                row.RunTimes.Add((now - started).TotalMilliseconds);
            }
            switch (change.To)
            {
                case JobState.Running when change.From != JobState.Running && !change.CancelRequested:
                    row.Started++;
                    break;
                case JobState.Succeeded:
                    row.Succeeded++;
                    break;
                case JobState.Failed:
                    row.Failed++;
                    break;
                case JobState.Retrying:
                case JobState.Queued when change.From is JobState.Failed or JobState.Cancelled:
                    row.Retried++;
                    break;
                case JobState.Cancelled:
                    row.Cancelled++;
                    break;
            }
        }
    }

    /// <summary>Everything counted since the last take, and starts counting afresh.</summary>
    public IReadOnlyList<MetricRow> Take()
    {
        Dictionary<(Guid, string, long), MetricRow> taken;
        lock (_gate)
        {
            if (_rows.Count == 0) return [];
            taken = _rows;
            _rows = [];
        }
        return [.. taken.Values.Where(r => r.HasCounts)];
    }

    /// <summary>Puts back rows a flush could not write, to go with the next one.</summary>
    public void Return(IEnumerable<MetricRow> rows)
    {
        lock (_gate)
        {
            // A store that stays down must not make this grow without bound: past this, counts are dropped.
            if (_rows.Count > MaxHeldRows) return;
            foreach (var r in rows)
            {
                var key = (r.OrganizationId, r.Queue, r.Minute.ToUnixTimeMilliseconds());
                if (_rows.TryGetValue(key, out var row)) row.Add(r);
                else _rows[key] = r;
            }
        }
    }
}
