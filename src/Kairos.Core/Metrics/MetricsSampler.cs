using Kairos.Core.Storage;

namespace Kairos.Core.Metrics;

/// <summary>
/// The leader's share of the metrics: at the start of every minute, each queue's depth (queued jobs) and the age of
/// its oldest queued job go into that minute's rows; once an hour, minutes older than the retention are deleted (in
/// batches).
/// </summary>
public sealed class MetricsSampler(IKairosStore store, TimeProvider time)
{
    public static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    /// <summary>How long minutes are kept (default 90 days).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    public Action<Exception>? OnError { get; set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var nextPrune = time.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await SampleAsync(cancellationToken);
                if (time.GetUtcNow() >= nextPrune)
                {
                    await PruneAsync(cancellationToken);
                    nextPrune = time.GetUtcNow() + PruneInterval;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                OnError?.Invoke(ex);
            }
            var now = time.GetUtcNow();
            var next = MetricRow.MinuteOf(now).AddMinutes(1);
            try
            {
                await Task.Delay(next - now, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Samples every queue now, into the current minute.</summary>
    public async Task SampleAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minute = MetricRow.MinuteOf(now);
        var samples = await store.Metrics.SampleQueuesAsync(cancellationToken);
        if (samples.Count == 0) return;
        var rows = samples.Select(s => new MetricRow
        {
            OrganizationId = s.OrganizationId,
            Queue = s.Queue,
            Minute = minute,
            Depth = s.Depth,
            OldestAgeMs = s.OldestReadySince is { } since ? Math.Max(0, (long)(now - since).TotalMilliseconds) : 0,
        }).ToList();
        await store.Metrics.AddAsync(new AddMetricsParams(rows), cancellationToken);
    }

    /// <summary>Deletes the minutes older than the retention, batch after batch; answers how many rows went.</summary>
    public async Task<long> PruneAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - Retention;
        long total = 0;
        while (true)
        {
            var n = await store.Metrics.PruneAsync(new PruneMetricsParams(before), cancellationToken);
            total += n;
            if (n < new PruneMetricsParams(before).Limit) return total;
        }
    }
}
