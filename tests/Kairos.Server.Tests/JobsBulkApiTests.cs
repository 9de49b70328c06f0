using System.Net;
using System.Text.Json;

namespace Kairos.Server.Tests;

/// <summary>POST /jobs/bulk-retry|bulk-cancel|bulk-delete: by ids and by the list's filter, in batches, audited, validated.</summary>
public sealed class JobsBulkApiTests() : ApiTest(fakeTime: true)
{
    /// <summary>A job that failed for good (one attempt, not retryable).</summary>
    private async Task<string> FailedJobAsync(string queue = "bulk")
    {
        var run = await StartJobAsync(queue);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "boom" }, retryable = false })
            .Expect(HttpStatusCode.OK);
        return run.Id;
    }

    private async Task<string[]> EnqueueManyAsync(string queue, int count, string type = "bulk.job")
    {
        var jobs = Enumerable.Range(0, count).Select(i => new { queue, type, payload = new { i } }).ToArray();
        var created = await Admin.PostJsonAsync("/api/v1/jobs/bulk", new { jobs }).Expect(HttpStatusCode.Created);
        return created.GetProperty("ids").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    private async Task<string> StateAsync(string id) => (await GetJobAsync(id)).Str("state");

    private static void AssertOutcome(JsonElement answer, long count, long skipped = 0, long notFound = 0)
    {
        Assert.Equal(count, answer.GetProperty("count").GetInt64());
        Assert.Equal(skipped, answer.GetProperty("skipped").GetInt64());
        Assert.Equal(notFound, answer.GetProperty("not_found").GetInt64());
    }

    [Fact]
    public async Task Bulk_retry_by_ids_retries_the_failed_jobs_and_counts_the_rest()
    {
        var failed1 = await FailedJobAsync();
        var failed2 = await FailedJobAsync();
        var queued = (await EnqueueAsync("bulk")).Str("id");
        var unknown = Guid.NewGuid().ToString();

        var answer = await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { ids = new[] { failed1, failed2, queued, unknown, failed1 } })
            .Expect(HttpStatusCode.OK);
        AssertOutcome(answer, count: 2, skipped: 1, notFound: 1);
        Assert.Equal("queued", await StateAsync(failed1));
        Assert.Equal("queued", await StateAsync(failed2));
        Assert.Single((await GetJobAsync(failed1)).GetProperty("attempts").EnumerateArray());

        var audit = (await Admin.GetAsync("/api/v1/audit?action=job.bulk_retry").Expect(HttpStatusCode.OK)).GetProperty("items");
        var entry = Assert.Single(audit.EnumerateArray());
        Assert.Equal("job", entry.Str("target_type"));
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal(2, entry.GetProperty("details").GetProperty("count").GetInt64());
        Assert.Equal(5, entry.GetProperty("details").GetProperty("ids").GetInt32());
    }

    [Fact]
    public async Task Bulk_cancel_by_filter_cancels_every_match_across_batches_and_nothing_else()
    {
        // More than two batches of 500.
        var matching = await EnqueueManyAsync("big", 1_201);
        var otherQueue = await EnqueueManyAsync("small", 3);
        var otherType = await EnqueueManyAsync("big", 2, type: "other.type");
        var theirs = await OtherOrganizationAsync();
        var theirJob = (await theirs.PostJsonAsync("/api/v1/jobs", new { queue = "big", type = "bulk.job" }).Expect(HttpStatusCode.Created)).Str("id");

        var answer = await Admin.PostJsonAsync("/api/v1/jobs/bulk-cancel", new { filter = new { queue = "big", type = "bulk.job", state = "queued" } })
            .Expect(HttpStatusCode.OK);
        AssertOutcome(answer, count: 1_201);
        var cancelled = await Admin.GetAsync("/api/v1/jobs?queue=big&state=cancelled&limit=500").Expect(HttpStatusCode.OK);
        Assert.Equal(500, cancelled.GetProperty("items").GetArrayLength());
        Assert.Empty((await Admin.GetAsync("/api/v1/jobs?queue=big&state=queued&type=bulk.job").Expect(HttpStatusCode.OK)).Ids());
        Assert.Equal("cancelled", await StateAsync(matching[0]));
        Assert.Equal("cancelled", await StateAsync(matching[^1]));
        Assert.All(otherQueue.Concat(otherType), id => Assert.Equal("queued", StateAsync(id).GetAwaiter().GetResult()));
        Assert.Equal("queued", (await theirs.GetAsync($"/api/v1/jobs/{theirJob}").Expect(HttpStatusCode.OK)).Str("state"));

        // Nothing matches any more: a second run changes nothing.
        AssertOutcome(await Admin.PostJsonAsync("/api/v1/jobs/bulk-cancel", new { filter = new { queue = "big", type = "bulk.job", state = "queued" } })
            .Expect(HttpStatusCode.OK), count: 0);
    }

    [Fact]
    public async Task Bulk_delete_by_filter_removes_finished_jobs_and_skips_running_ones()
    {
        var failed = await FailedJobAsync("cleanup");
        var running = await StartJobAsync("cleanup");
        var queued = (await EnqueueAsync("cleanup")).Str("id");

        var answer = await Admin.PostJsonAsync("/api/v1/jobs/bulk-delete", new { filter = new { queue = "cleanup" } }).Expect(HttpStatusCode.OK);
        AssertOutcome(answer, count: 2, skipped: 1);
        await Admin.GetAsync($"/api/v1/jobs/{failed}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync($"/api/v1/jobs/{queued}").ExpectProblem(HttpStatusCode.NotFound);
        Assert.Equal("running", await StateAsync(running.Id));
        var audit = (await Admin.GetAsync("/api/v1/audit?action=job.bulk_delete").Expect(HttpStatusCode.OK)).GetProperty("items");
        Assert.Equal("cleanup", Assert.Single(audit.EnumerateArray()).GetProperty("details").GetProperty("filter").Str("queue"));
    }

    [Fact]
    public async Task Bad_bulk_requests_are_problems_naming_the_field_and_change_nothing()
    {
        var failed = await FailedJobAsync();
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { }).ExpectProblem(HttpStatusCode.BadRequest, "ids");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { ids = new[] { failed }, filter = new { } }).ExpectProblem(HttpStatusCode.BadRequest, "ids");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { ids = Array.Empty<string>() }).ExpectProblem(HttpStatusCode.BadRequest, "ids");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { ids = new[] { failed, "not-a-uuid" } }).ExpectProblem(HttpStatusCode.BadRequest, "ids[1]");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { ids = Enumerable.Range(0, 10_001).Select(_ => failed).ToArray() })
            .ExpectProblem(HttpStatusCode.BadRequest, "ids");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-retry", new { filter = new { state = "broken" } }).ExpectProblem(HttpStatusCode.BadRequest, "filter.state");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk-cancel", new { filter = new { created_after = "yesterday" } })
            .ExpectProblem(HttpStatusCode.BadRequest, "filter.created_after");
        await Admin.PostRawAsync("/api/v1/jobs/bulk-delete", "{\"ids\": 12}").ExpectBindingProblem(HttpStatusCode.BadRequest);
        Assert.Equal("failed", await StateAsync(failed));
    }

    [Fact]
    public async Task A_read_only_key_may_not_act_in_bulk()
    {
        var failed = await FailedJobAsync();
        var reader = Client(await CreateKeyAsync("read"));
        await reader.PostJsonAsync("/api/v1/jobs/bulk-retry", new { ids = new[] { failed } }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostJsonAsync("/api/v1/jobs/bulk-delete", new { filter = new { } }).ExpectProblem(HttpStatusCode.Forbidden);
        Assert.Equal("failed", await StateAsync(failed));
    }
}
