using Kairos.Core.Storage;

namespace Kairos.Core.Metrics;

/// <summary>
/// Every node: adds what <see cref="JobMetrics"/> counted to the store every <see cref="FlushInterval"/> (and once more
/// when the node stops). A failed write keeps the counts for the next flush. A crash (kill -9) loses at most the
/// transitions counted since the last flush; a flush that wrote but whose answer was lost is not repeated, so nothing
/// is counted twice.
/// </summary>
public sealed class MetricsRecorder(JobMetrics metrics, IKairosStore store, TimeProvider time)
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);

    public Action<Exception>? OnError { get; set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(FlushInterval, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            await FlushAsync(CancellationToken.None);
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes what was counted so far; answers the number of rows written (0 when the write failed).</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var rows = metrics.Take();
        if (rows.Count == 0) return 0;
        try
        {
            await store.Metrics.AddAsync(new AddMetricsParams(rows), cancellationToken);
            return rows.Count;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            metrics.Return(rows);
            OnError?.Invoke(ex);
            return 0;
        }
    }
}
