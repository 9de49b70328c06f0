using System.Net;
using System.Text.Json;
using Kairos.Core.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>
/// GET /metrics/series on a fake clock: transitions made through the API are counted in memory and flushed to the
/// rollup, the leader's samples give depth and oldest age, steps aggregate minutes, and bad requests name the field.
/// </summary>
public sealed class MetricsApiTests() : ApiTest(fakeTime: true)
{
    private Task<int> FlushAsync() => Factory.Services.GetRequiredService<MetricsRecorder>().FlushAsync(CancellationToken.None);

    private async Task<Dictionary<string, JsonElement[]>> SeriesAsync(string query, HttpClient? client = null)
    {
        var answer = await (client ?? Admin).GetAsync("/api/v1/metrics/series?" + query).Expect(HttpStatusCode.OK);
        return answer.GetProperty("series").EnumerateArray().ToDictionary(s => s.Str("metric"), s => s.GetProperty("points").EnumerateArray().ToArray());
    }

    private static double? ValueAt(JsonElement[] points, DateTimeOffset time) =>
        points.Single(p => DateTimeOffset.Parse(p.Str("time"), System.Globalization.CultureInfo.InvariantCulture) == time).GetProperty("value") is { ValueKind: JsonValueKind.Number } v
            ? v.GetDouble()
            : null;

    private DateTimeOffset ThisMinute => MetricRow.MinuteOf(Time.GetUtcNow());

    private async Task FailAsync(Leased run, bool retryable = false) =>
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "x" }, retryable }).Expect(HttpStatusCode.OK);

    [Fact]
    public async Task Transitions_made_through_the_api_are_counted_per_minute()
    {
        var a = await StartJobAsync("mail");
        var b = await StartJobAsync("mail");
        await EnqueueAsync("mail");
        Time.Advance(TimeSpan.FromMilliseconds(1_500));
        await Admin.PostJsonAsync($"/api/v1/jobs/{a.Id}/ack", new { lease_token = a.Token }).Expect(HttpStatusCode.OK);
        await FailAsync(b);
        await FlushAsync();

        var answer = await Admin.GetAsync("/api/v1/metrics/series?metric=enqueued,started,succeeded,failed,finished,success_rate,run_time_p50_ms").Expect(HttpStatusCode.OK);
        Assert.Equal("minute", answer.Str("step"));
        Assert.True(answer.IsNull("queue"));
        var series = answer.GetProperty("series").EnumerateArray().ToDictionary(s => s.Str("metric"), s => s.GetProperty("points").EnumerateArray().ToArray());
        Assert.All(series.Values, points => Assert.Equal(60, points.Length));
        var minute = ThisMinute;
        Assert.Equal(minute.AddMinutes(1), DateTimeOffset.Parse(answer.Str("to"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(3, ValueAt(series["enqueued"], minute));
        Assert.Equal(2, ValueAt(series["started"], minute));
        Assert.Equal(1, ValueAt(series["succeeded"], minute));
        Assert.Equal(1, ValueAt(series["failed"], minute));
        Assert.Equal(2, ValueAt(series["finished"], minute));
        Assert.Equal(0.5, ValueAt(series["success_rate"], minute));
        Assert.InRange(ValueAt(series["run_time_p50_ms"], minute)!.Value, 1_400, 1_600);
        // Earlier minutes are zero (counts) or empty (rates, run times).
        Assert.Equal(0, ValueAt(series["succeeded"], minute.AddMinutes(-1)));
        Assert.Null(ValueAt(series["success_rate"], minute.AddMinutes(-1)));
        Assert.Null(ValueAt(series["run_time_p50_ms"], minute.AddMinutes(-1)));
    }

    [Fact]
    public async Task Retries_cancels_queues_and_hours_are_told_apart()
    {
        var failing = await StartJobAsync("reports");
        await FailAsync(failing, retryable: true);
        var cancelled = await EnqueueAsync("reports");
        await Admin.PostAsync($"/api/v1/jobs/{cancelled.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        await Admin.PostAsync($"/api/v1/jobs/{cancelled.Str("id")}/retry", null).Expect(HttpStatusCode.OK);
        await EnqueueAsync("other");
        await FlushAsync();
        var firstHour = new DateTimeOffset(ThisMinute.Year, ThisMinute.Month, ThisMinute.Day, ThisMinute.Hour, 0, 0, TimeSpan.Zero);
        Time.Advance(TimeSpan.FromHours(1));
        await EnqueueAsync("reports");
        await FlushAsync();

        var reports = await SeriesAsync("metric=enqueued,retried,cancelled&queue=reports&step=hour");
        Assert.Equal(24, reports["enqueued"].Length);
        Assert.Equal(2, ValueAt(reports["enqueued"], firstHour));
        Assert.Equal(2, ValueAt(reports["retried"], firstHour));   // an automatic retry and one by hand
        Assert.Equal(1, ValueAt(reports["cancelled"], firstHour));
        Assert.Equal(1, ValueAt(reports["enqueued"], firstHour.AddHours(1)));
        var all = await SeriesAsync("metric=enqueued&step=day");
        Assert.Equal(30, all["enqueued"].Length);
        Assert.Equal(4, all["enqueued"][^1].GetProperty("value").GetDouble());
        // Another organization sees none of it.
        var other = await OtherOrganizationAsync();
        Assert.All((await SeriesAsync("metric=enqueued&step=day", other))["enqueued"], p => Assert.Equal(0, p.GetProperty("value").GetDouble()));
    }

    [Fact]
    public async Task The_leaders_samples_give_depth_and_the_oldest_jobs_age()
    {
        await EnqueueAsync("backlog");
        Time.Advance(TimeSpan.FromSeconds(30));
        await EnqueueAsync("backlog");
        await EnqueueAsync("backlog");
        await EnqueueAsync("empty");
        await Admin.PostAsync($"/api/v1/jobs/{(await EnqueueAsync("empty")).Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        await Factory.Services.GetRequiredService<MetricsSampler>().SampleAsync(CancellationToken.None);

        var backlog = await SeriesAsync("metric=depth,oldest_age_ms&queue=backlog");
        Assert.Equal(3, ValueAt(backlog["depth"], ThisMinute));
        Assert.Equal(30_000, ValueAt(backlog["oldest_age_ms"], ThisMinute));
        Assert.Null(ValueAt(backlog["depth"], ThisMinute.AddMinutes(-1)));
        Assert.Equal(1, ValueAt((await SeriesAsync("metric=depth&queue=empty"))["depth"], ThisMinute));
        Assert.Equal(4, ValueAt((await SeriesAsync("metric=depth"))["depth"], ThisMinute));
    }

    [Fact]
    public async Task By_queue_answers_a_series_per_queue_the_largest_first()
    {
        foreach (var (queue, n) in new[] { ("small", 1), ("large", 3), ("middle", 2), ("also-middle", 2) })
        {
            for (var i = 0; i < n; i++) await EnqueueAsync(queue);
        }
        await Factory.Services.GetRequiredService<MetricsSampler>().SampleAsync(CancellationToken.None);
        await FlushAsync();

        var answer = await Admin.GetAsync("/api/v1/metrics/series?metric=depth,enqueued&by=queue").Expect(HttpStatusCode.OK);
        var series = answer.GetProperty("series").EnumerateArray().Select(s => (Queue: s.Str("queue"), Metric: s.Str("metric"), Points: s.GetProperty("points").EnumerateArray().ToArray())).ToList();
        // Ranked by the first metric's total (ties by name), each queue's metrics together, in the order asked.
        Assert.Equal(["large", "large", "also-middle", "also-middle", "middle", "middle", "small", "small"], series.Select(s => s.Queue));
        Assert.Equal(["depth", "enqueued"], series.Take(2).Select(s => s.Metric));
        Assert.All(series, s => Assert.Equal(60, s.Points.Length));
        Assert.Equal(3, ValueAt(series[0].Points, ThisMinute));
        Assert.Equal(2, ValueAt(series[4].Points, ThisMinute));
        Assert.Equal(1, ValueAt(series[7].Points, ThisMinute));
        Assert.Null(ValueAt(series[0].Points, ThisMinute.AddMinutes(-1)));

        var top = await Admin.GetAsync("/api/v1/metrics/series?metric=depth&by=queue&limit=2").Expect(HttpStatusCode.OK);
        Assert.Equal(["large", "also-middle"], top.GetProperty("series").EnumerateArray().Select(s => s.Str("queue")));
        // Another organization sees none of these queues.
        var other = await OtherOrganizationAsync();
        Assert.Equal(0, (await other.GetAsync("/api/v1/metrics/series?metric=depth&by=queue").Expect(HttpStatusCode.OK)).GetProperty("series").GetArrayLength());
        // A summed series names no queue.
        Assert.True((await Admin.GetAsync("/api/v1/metrics/series?metric=depth").Expect(HttpStatusCode.OK)).GetProperty("series")[0].IsNull("queue"));
    }

    [Fact]
    public async Task The_recorder_flushes_on_its_own_every_few_seconds()
    {
        await EnqueueAsync("auto");
        var minute = ThisMinute;
        Time.Advance(MetricsRecorder.FlushInterval);
        using var deadline = Deadline();
        while (ValueAt((await SeriesAsync($"metric=enqueued&queue=auto&to={Uri.EscapeDataString(minute.AddMinutes(1).ToString("O"))}"))["enqueued"], minute) != 1)
        {
            await Task.Delay(20, deadline.Token); // waits for the flush the clock released, at most until the deadline
        }
    }

    [Fact]
    public async Task Bad_series_requests_are_problems_naming_the_field()
    {
        await Admin.GetAsync("/api/v1/metrics/series").ExpectProblem(HttpStatusCode.BadRequest, "metric");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded,latency").ExpectProblem(HttpStatusCode.BadRequest, "metric");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&step=week").ExpectProblem(HttpStatusCode.BadRequest, "step");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&from=soon").ExpectProblem(HttpStatusCode.BadRequest, "from");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&by=type").ExpectProblem(HttpStatusCode.BadRequest, "by");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&by=queue&limit=0").ExpectProblem(HttpStatusCode.BadRequest, "limit");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&by=queue&limit=101").ExpectProblem(HttpStatusCode.BadRequest, "limit");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&limit=5").ExpectProblem(HttpStatusCode.BadRequest, "limit");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&from=2031-03-14T10:00:00Z&to=2031-03-14T09:00:00Z").ExpectProblem(HttpStatusCode.BadRequest, "from");
        await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&from=2031-03-10T00:00:00Z&to=2031-03-14T00:00:00Z").ExpectProblem(HttpStatusCode.BadRequest, "from");
        var custom = await Admin.GetAsync("/api/v1/metrics/series?metric=succeeded&step=hour&from=2031-03-10T00:30:00Z&to=2031-03-11T00:00:00Z").Expect(HttpStatusCode.OK);
        Assert.Equal("2031-03-10T00:00:00.000Z", custom.Str("from"));
        Assert.Equal(24, custom.GetProperty("series")[0].GetProperty("points").GetArrayLength());
    }
}
