using System.Globalization;

namespace Kairos.Client;

public sealed partial class KairosClient
{
    // ---- bulk actions and metrics ----

    /// <summary>Retries the failed and cancelled jobs of the selection, in batches on the server.</summary>
    public Task<BulkResult> BulkRetryJobsAsync(JobSelection jobs, CancellationToken cancellationToken = default) => BulkAsync("bulk-retry", jobs, cancellationToken);

    /// <summary>Cancels the unfinished jobs of the selection (running ones are asked to stop).</summary>
    public Task<BulkResult> BulkCancelJobsAsync(JobSelection jobs, CancellationToken cancellationToken = default) => BulkAsync("bulk-cancel", jobs, cancellationToken);

    /// <summary>Deletes the jobs of the selection that are not running.</summary>
    public Task<BulkResult> BulkDeleteJobsAsync(JobSelection jobs, CancellationToken cancellationToken = default) => BulkAsync("bulk-delete", jobs, cancellationToken);

    private Task<BulkResult> BulkAsync(string action, JobSelection jobs, CancellationToken cancellationToken)
    {
        var f = jobs.Filter;
        var body = new BulkBody
        {
            Ids = jobs.Ids,
            Filter = f is null ? null : new BulkFilter
            {
                State = f.State, Queue = f.Queue, Type = f.Type, Tag = f.Tag, CreatedAfter = f.CreatedAfter, CreatedBefore = f.CreatedBefore, Q = f.Search,
            },
        };
        return SendAsync(HttpMethod.Post, $"api/v1/jobs/{action}", Json(body, KairosInsightsJson.Default.BulkBody), KairosInsightsJson.Default.BulkResult,
            idempotent: false, cancellationToken);
    }

    /// <summary>Time series of job metrics from the server's rollup (per minute, hour or day).</summary>
    public Task<MetricSeriesSet> GetMetricSeriesAsync(MetricQuery query, CancellationToken cancellationToken = default)
    {
        var q = new Query().Add("metric", string.Join(',', query.Metrics)).Add("queue", query.Queue).Add("by", query.ByQueue ? "queue" : null)
            .Add("limit", query.Limit?.ToString(CultureInfo.InvariantCulture)).Add("step", query.Step)
            .Add("from", query.From?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))
            .Add("to", query.To?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        return SendAsync(HttpMethod.Get, "api/v1/metrics/series" + q, null, KairosInsightsJson.Default.MetricSeriesSet, idempotent: true, cancellationToken);
    }
}
