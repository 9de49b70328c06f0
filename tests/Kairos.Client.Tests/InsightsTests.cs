using Kairos.Core.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Client.Tests;

/// <summary>The client's search, bulk actions and metric series against the real server.</summary>
[Collection(ServerCollection.Name)]
public sealed class InsightsTests(ServerFixture server) : IDisposable
{
    private readonly KairosClient _client = server.Client();
    private readonly string _queue = "i-" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose() => _client.Dispose();

    public sealed record Order(string Customer, string Carrier);

    [Fact]
    public async Task Search_then_bulk_cancel_and_retry_by_filter_and_by_ids()
    {
        var dhl = await _client.EnqueueAsync("order.ship", new Order("ada@example.com", "dhl-express"), new EnqueueOptions { Queue = _queue });
        var ups = await _client.EnqueueAsync("order.ship", new Order("grace@example.com", "ups"), new EnqueueOptions { Queue = _queue });

        var found = await _client.ListJobsAsync(new JobQuery { Queue = _queue, Search = "dhl ada" });
        Assert.Equal([dhl.Id], found.Items.Select(j => j.Id));
        var all = new List<Job>();
        await foreach (var j in _client.ListAllJobsAsync(new JobQuery { Queue = _queue, Search = "order", Limit = 1 })) all.Add(j);
        Assert.Equal([ups.Id, dhl.Id], all.Select(j => j.Id));

        var cancelled = await _client.BulkCancelJobsAsync(JobSelection.Matching(new JobQuery { Queue = _queue, Search = "ups" }));
        Assert.Equal(1, cancelled.Count);
        Assert.Equal(JobStates.Cancelled, (await _client.GetJobAsync(ups.Id)).State);
        Assert.Equal(JobStates.Queued, (await _client.GetJobAsync(dhl.Id)).State);

        var retried = await _client.BulkRetryJobsAsync(JobSelection.ByIds([ups.Id, dhl.Id, Guid.NewGuid()]));
        Assert.Equal(1, retried.Count);
        Assert.Equal(1, retried.Skipped);
        Assert.Equal(1, retried.NotFound);
        var deleted = await _client.BulkDeleteJobsAsync(JobSelection.Matching(new JobQuery { Queue = _queue }));
        Assert.Equal(2, deleted.Count);
        var error = await Assert.ThrowsAsync<KairosException>(() => _client.BulkDeleteJobsAsync(JobSelection.ByIds([])));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("ids", error.Errors.Keys);
    }

    [Fact]
    public async Task Metric_series_show_what_was_enqueued()
    {
        await _client.EnqueueAsync("metrics.probe", new Order("x", "y"), new EnqueueOptions { Queue = _queue });
        await _client.EnqueueAsync("metrics.probe", new Order("x", "y"), new EnqueueOptions { Queue = _queue });
        await server.Services.GetRequiredService<MetricsRecorder>().FlushAsync(CancellationToken.None);

        var series = await _client.GetMetricSeriesAsync(new MetricQuery { Metrics = ["enqueued", "depth"], Queue = _queue, Step = "hour" });
        Assert.Equal("hour", series.Step);
        Assert.Equal(_queue, series.Queue);
        Assert.Equal(24, series["enqueued"].Points.Count);
        Assert.Equal(2, series["enqueued"].Points.Sum(p => p.Value));   // in the current hour (or the one before, at an hour's turn)
        Assert.Equal(0, series["enqueued"].Points[0].Value);
        var error = await Assert.ThrowsAsync<KairosException>(() => _client.GetMetricSeriesAsync(new MetricQuery { Metrics = ["nope"] }));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("metric", error.Errors.Keys);
    }

    [Fact]
    public async Task Metric_series_by_queue_name_their_queue()
    {
        var other = _queue + "-other";
        await _client.EnqueueAsync("metrics.probe", new Order("x", "y"), new EnqueueOptions { Queue = other });
        for (var i = 0; i < 3; i++) await _client.EnqueueAsync("metrics.probe", new Order("x", "y"), new EnqueueOptions { Queue = _queue });
        await server.Services.GetRequiredService<MetricsRecorder>().FlushAsync(CancellationToken.None);

        var byQueue = await _client.GetMetricSeriesAsync(new MetricQuery { Metrics = ["enqueued"], ByQueue = true, Step = "hour" });
        Assert.Equal(3, byQueue["enqueued", _queue].Points.Sum(p => p.Value));
        Assert.Equal(1, byQueue["enqueued", other].Points.Sum(p => p.Value));
        // The limit is sent (other tests share this server's queues, so its ranking is the API tests' to check).
        var error = await Assert.ThrowsAsync<KairosException>(() => _client.GetMetricSeriesAsync(new MetricQuery { Metrics = ["enqueued"], ByQueue = true, Limit = 0 }));
        Assert.Contains("limit", error.Errors.Keys);
        error = await Assert.ThrowsAsync<KairosException>(() => _client.GetMetricSeriesAsync(new MetricQuery { Metrics = ["enqueued"], Limit = 1 }));
        Assert.Contains("limit", error.Errors.Keys);
    }
}
