using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kairos.Core.Auth;
using Kairos.Core.Dispatch;
using Kairos.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>
/// The jobs API: enqueue (single, deduplicated, scheduled, bulk), list with filters and cursors, detail, retry, cancel,
/// delete, organization isolation and bad input. Time is fake so that times can be asserted exactly.
/// </summary>
public sealed partial class JobsApiTests() : ApiTest(fakeTime: true)
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex Rfc3339Millis();

    private static DateTimeOffset At(JsonElement e, string name) =>
        DateTimeOffset.Parse(e.Str(name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    // ------------------------------------------------------------------ POST /jobs

    [Fact]
    public async Task Create_answers_201_with_the_job_in_snake_case()
    {
        using var response = await Admin.PostJsonAsync("/api/v1/jobs", new
        {
            queue = "emails",
            type = "send_welcome",
            payload = new { to = "ada@example.com", n = new[] { 1, 2, 3 } },
            priority = 5,
            max_attempts = 7,
            timeout_ms = 60_000,
            tags = new[] { "signup", "eu" },
        });
        var job = await response.Expect(HttpStatusCode.Created);

        var id = Guid.Parse(job.Str("id"));
        Assert.Equal(7, id.Version); // UUIDv7
        Assert.Equal($"/api/v1/jobs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("emails", job.Str("queue"));
        Assert.Equal("send_welcome", job.Str("type"));
        Assert.Equal("ada@example.com", job.GetProperty("payload").GetProperty("to").GetString());
        Assert.Equal([1, 2, 3], job.GetProperty("payload").GetProperty("n").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal("queued", job.Str("state"));
        Assert.Equal(5, job.GetProperty("priority").GetInt32());
        Assert.Equal(0, job.GetProperty("attempt").GetInt32());
        Assert.Equal(7, job.GetProperty("max_attempts").GetInt32());
        Assert.Equal(60_000, job.GetProperty("timeout_ms").GetInt32());
        Assert.Equal(["signup", "eu"], job.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.False(job.GetProperty("deduplicated").GetBoolean());
        Assert.Matches(Rfc3339Millis(), job.Str("created_at"));
        Assert.Matches(Rfc3339Millis(), job.Str("run_at"));
        Assert.Equal(Time.GetUtcNow(), At(job, "created_at"));
        Assert.False(job.TryGetProperty("maxAttempts", out _));

        var read = await GetJobAsync(id.ToString());
        Assert.Equal("queued", read.Str("state"));
        Assert.Equal("send_welcome", read.Str("type"));
    }

    [Fact]
    public async Task Create_applies_the_defaults()
    {
        var job = await EnqueueAsync(new { queue = "q", type = "t" });
        Assert.Equal(0, job.GetProperty("priority").GetInt32());
        Assert.Equal(25, job.GetProperty("max_attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("payload").ValueKind);
        Assert.Empty(job.GetProperty("tags").EnumerateArray());
        Assert.Equal(At(job, "created_at"), At(job, "run_at"));
    }

    [Fact]
    public async Task Unique_key_of_an_unfinished_job_answers_200_with_that_job_and_inserts_nothing()
    {
        var first = await EnqueueAsync(new { queue = "emails", type = "t", unique_key = "user-42" });
        using var again = await Admin.PostJsonAsync("/api/v1/jobs", new { queue = "emails", type = "t", unique_key = "user-42", payload = new { other = true } });
        var second = await again.Expect(HttpStatusCode.OK);

        Assert.True(second.GetProperty("deduplicated").GetBoolean());
        Assert.Equal(first.Str("id"), second.Str("id"));
        var list = await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        Assert.Equal([first.Str("id")], list.Ids());

        // The same key in another queue is another job.
        var elsewhere = await EnqueueAsync(new { queue = "sms", type = "t", unique_key = "user-42" });
        Assert.NotEqual(first.Str("id"), elsewhere.Str("id"));

        // Once the job finished, the key is free again.
        await Admin.PostAsync($"/api/v1/jobs/{first.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        var third = await EnqueueAsync(new { queue = "emails", type = "t", unique_key = "user-42" });
        Assert.NotEqual(first.Str("id"), third.Str("id"));
        Assert.False(third.GetProperty("deduplicated").GetBoolean());
    }

    [Fact]
    public async Task Run_at_in_the_future_makes_a_scheduled_job()
    {
        var runAt = Time.GetUtcNow().AddHours(2);
        var job = await EnqueueAsync(new { queue = "q", type = "t", run_at = runAt.ToString("O", CultureInfo.InvariantCulture) });
        Assert.Equal("scheduled", job.Str("state"));
        Assert.Equal(runAt, At(job, "run_at"));

        // Nothing to fetch until then.
        var worker = await RegisterWorkerAsync(null, "q");
        Assert.Empty(await FetchAsync(worker, "q"));
        Assert.Equal("scheduled", (await GetJobAsync(job.Str("id"))).Str("state"));
    }

    [Fact]
    public async Task Run_at_in_the_past_makes_a_queued_job()
    {
        var job = await EnqueueAsync(new { queue = "q", type = "t", run_at = Time.GetUtcNow().AddHours(-1).ToString("O", CultureInfo.InvariantCulture) });
        Assert.Equal("queued", job.Str("state"));
    }

    [Fact]
    public async Task Delay_ms_schedules_the_job_that_far_ahead()
    {
        var job = await EnqueueAsync(new { queue = "q", type = "t", delay_ms = 90_000 });
        Assert.Equal("scheduled", job.Str("state"));
        Assert.Equal(At(job, "created_at").AddMilliseconds(90_000), At(job, "run_at"));

        // When the time comes, maintenance makes it queued.
        Time.Advance(TimeSpan.FromSeconds(91));
        await Factory.Services.GetRequiredService<Dispatcher>().RunMaintenanceAsync(TimeSpan.FromHours(1), CancellationToken.None);
        Assert.Equal("queued", (await GetJobAsync(job.Str("id"))).Str("state"));
    }

    [Fact]
    public async Task Run_at_and_delay_ms_together_or_a_negative_delay_are_refused()
    {
        await Admin.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t", delay_ms = 10, run_at = "2040-01-01T00:00:00.000Z" })
            .ExpectProblem(HttpStatusCode.BadRequest, "delay_ms");
        await Admin.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t", delay_ms = -1 })
            .ExpectProblem(HttpStatusCode.BadRequest, "delay_ms");
        await AssertNoJobsAsync();
    }

    // ------------------------------------------------------------------ POST /jobs/bulk

    [Fact]
    public async Task Bulk_answers_201_with_the_ids_in_order()
    {
        var body = new { jobs = Enumerable.Range(0, 5).Select(i => new { queue = "bulk", type = "t", payload = new { i } }).ToArray() };
        var answer = await Admin.PostJsonAsync("/api/v1/jobs/bulk", body).Expect(HttpStatusCode.Created);
        var ids = answer.GetProperty("ids").EnumerateArray().Select(x => x.GetString()!).ToArray();
        Assert.Equal(5, ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            var job = await GetJobAsync(ids[i]);
            Assert.Equal(i, job.GetProperty("payload").GetProperty("i").GetInt32());
            Assert.Equal("queued", job.Str("state"));
        }
    }

    [Fact]
    public async Task Bulk_with_one_invalid_item_answers_400_naming_it_and_inserts_nothing()
    {
        var jobs = Enumerable.Range(0, 6).Select(i => (object)new { queue = "bulk", type = "t" }).ToArray();
        jobs[3] = new { type = "t" }; // no queue
        await Admin.PostJsonAsync("/api/v1/jobs/bulk", new { jobs }).ExpectProblem(HttpStatusCode.BadRequest, "jobs[3].queue");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Bulk_with_one_wrong_typed_item_answers_400_naming_it_and_inserts_nothing()
    {
        var jobs = Enumerable.Range(0, 6).Select(i => (object)new { queue = "bulk", type = "t" }).ToArray();
        jobs[4] = new { queue = "bulk", type = "t", priority = "high" };
        await Admin.PostJsonAsync("/api/v1/jobs/bulk", new { jobs }).ExpectBindingProblem(HttpStatusCode.BadRequest, "jobs[4].priority");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Bulk_of_10000_is_accepted_and_10001_refused()
    {
        var tooMany = new { jobs = Enumerable.Range(0, 10_001).Select(i => new { queue = "bulk", type = "t" }).ToArray() };
        await Admin.PostJsonAsync("/api/v1/jobs/bulk", tooMany).ExpectProblem(HttpStatusCode.BadRequest, "jobs");
        await AssertNoJobsAsync();

        var max = new { jobs = Enumerable.Range(0, 10_000).Select(i => new { queue = "bulk", type = "t", payload = i }).ToArray() };
        var answer = await Admin.PostJsonAsync("/api/v1/jobs/bulk", max).Expect(HttpStatusCode.Created);
        Assert.Equal(10_000, answer.GetProperty("ids").EnumerateArray().Select(x => x.GetString()).Distinct().Count());
        var queue = await Admin.GetAsync("/api/v1/queues/bulk").Expect(HttpStatusCode.OK);
        Assert.Equal(10_000, queue.GetProperty("counts").GetProperty("queued").GetInt64());
    }

    [Fact]
    public async Task Bulk_without_jobs_is_refused()
    {
        await Admin.PostJsonAsync("/api/v1/jobs/bulk", new { jobs = Array.Empty<object>() }).ExpectProblem(HttpStatusCode.BadRequest, "jobs");
        await Admin.PostJsonAsync("/api/v1/jobs/bulk", new { }).ExpectProblem(HttpStatusCode.BadRequest, "jobs");
    }

    [Fact]
    public async Task Bulk_with_an_oversized_payload_answers_413_and_inserts_nothing()
    {
        var big = new string('x', 1024 * 1024 + 10);
        var body = new { jobs = new object[] { new { queue = "bulk", type = "t" }, new { queue = "bulk", type = "t", payload = big } } };
        await Admin.PostJsonAsync("/api/v1/jobs/bulk", body).ExpectProblem(HttpStatusCode.RequestEntityTooLarge);
        await AssertNoJobsAsync();
    }

    // ------------------------------------------------------------------ GET /jobs

    [Fact]
    public async Task List_filters_by_state_queue_type_and_tag()
    {
        var a = await EnqueueAsync(new { queue = "emails", type = "welcome", tags = new[] { "vip" } });
        var b = await EnqueueAsync(new { queue = "emails", type = "digest" });
        var c = await EnqueueAsync(new { queue = "sms", type = "welcome", tags = new[] { "vip", "eu" } });
        var d = await EnqueueAsync(new { queue = "sms", type = "otp" });
        await Admin.PostAsync($"/api/v1/jobs/{d.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);

        async Task<string[]> Ids(string query) => (await Admin.GetAsync("/api/v1/jobs" + query).Expect(HttpStatusCode.OK)).Ids();

        Assert.Equal(IdsOf(d, c, b, a), await Ids(""));
        Assert.Equal(IdsOf(b, a), await Ids("?queue=emails"));
        Assert.Equal(IdsOf(c, a), await Ids("?type=welcome"));
        Assert.Equal(IdsOf(c, a), await Ids("?tag=vip"));
        Assert.Equal([c.Str("id")], await Ids("?tag=eu"));
        Assert.Equal([d.Str("id")], await Ids("?state=cancelled"));
        Assert.Equal(IdsOf(c, b, a), await Ids("?state=queued"));
        Assert.Equal([c.Str("id")], await Ids("?state=queued&queue=sms&type=welcome&tag=vip"));
        Assert.Empty(await Ids("?queue=none"));
        Assert.Equal(IdsOf(a, b, c, d), await Ids("?sort=created_at"));
    }

    [Fact]
    public async Task List_filters_by_creation_time()
    {
        var a = await EnqueueAsync("q");
        Time.Advance(TimeSpan.FromSeconds(10));
        var b = await EnqueueAsync("q");
        Time.Advance(TimeSpan.FromSeconds(10));
        var c = await EnqueueAsync("q");

        async Task<string[]> Ids(string query) => (await Admin.GetAsync("/api/v1/jobs" + query).Expect(HttpStatusCode.OK)).Ids();
        static string Q(JsonElement job) => Uri.EscapeDataString(job.Str("created_at"));

        Assert.Equal(IdsOf(c, b), await Ids($"?created_after={Q(b)}"));
        Assert.Equal([a.Str("id")], await Ids($"?created_before={Q(b)}"));
        Assert.Equal([b.Str("id")], await Ids($"?created_after={Q(b)}&created_before={Q(c)}"));
        await Admin.GetAsync("/api/v1/jobs?created_after=yesterday").ExpectProblem(HttpStatusCode.BadRequest, "created_after");
        await Admin.GetAsync("/api/v1/jobs?created_before=13/13/2020").ExpectProblem(HttpStatusCode.BadRequest, "created_before");
    }

    [Fact]
    public async Task Cursor_pagination_walks_every_job_exactly_once_newest_first()
    {
        var created = new List<string>();
        for (var i = 0; i < 11; i++)
        {
            created.Add((await EnqueueAsync("pages")).Str("id"));
            if (i % 3 == 0) Time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = "/api/v1/jobs?limit=4" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await Admin.GetAsync(url).Expect(HttpStatusCode.OK);
            var ids = page.Ids();
            Assert.True(ids.Length <= 4);
            seen.AddRange(ids);
            cursor = page.IsNull("next_cursor") ? null : page.Str("next_cursor");
            pages++;
            Assert.True(pages <= 10, "the cursor never ends");
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(created), seen);
    }

    [Fact]
    public async Task List_without_a_limit_gives_50_and_a_cursor()
    {
        var body = new { jobs = Enumerable.Range(0, 60).Select(i => new { queue = "q", type = "t" }).ToArray() };
        await Admin.PostJsonAsync("/api/v1/jobs/bulk", body).Expect(HttpStatusCode.Created);
        var page = await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        Assert.Equal(50, page.Ids().Length);
        Assert.False(page.IsNull("next_cursor"));
        var all = await Admin.GetAsync("/api/v1/jobs?limit=500").Expect(HttpStatusCode.OK);
        Assert.Equal(60, all.Ids().Length);
        Assert.True(all.IsNull("next_cursor"));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=-3", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("state=sleeping", "state")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=czpub3Q", "cursor")]
    [InlineData("sort=sideways", "sort")]
    public async Task List_with_bad_parameters_answers_400_naming_them(string query, string field)
    {
        await EnqueueAsync();
        await Admin.GetAsync("/api/v1/jobs?" + query).ExpectProblem(HttpStatusCode.BadRequest, field);
    }

    // ------------------------------------------------------------------ GET /jobs/{id}

    [Fact]
    public async Task Get_shows_attempts_with_worker_and_error_progress_result_and_logs()
    {
        var run = await StartJobAsync("work");
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = run.Token, lines = new[] { "starting", "step 1" } }).Expect(HttpStatusCode.OK);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new { lease_token = run.Token, progress = new { percent = 40, message = "halfway-ish" } })
            .Expect(HttpStatusCode.OK);
        Time.Advance(TimeSpan.FromSeconds(2));
        var failed = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new
        {
            lease_token = run.Token,
            error = new { message = "SMTP said no", type = "SmtpException", stack = "at Mailer.Send()\nat Job.Run()" },
            retry_in_ms = 1_000,
        }).Expect(HttpStatusCode.OK);
        Assert.Equal("retrying", failed.Str("state"));

        var mid = await GetJobAsync(run.Id);
        Assert.Equal("retrying", mid.Str("state"));
        Assert.Equal(40, mid.GetProperty("progress").GetProperty("percent").GetInt32());
        Assert.Equal("halfway-ish", mid.GetProperty("progress").GetProperty("message").GetString());
        Assert.Equal("SMTP said no", mid.GetProperty("last_error").Str("message"));

        Time.Advance(TimeSpan.FromSeconds(1));
        await Factory.Services.GetRequiredService<Dispatcher>().RunMaintenanceAsync(TimeSpan.FromHours(1), CancellationToken.None);
        var again = Assert.Single(await FetchAsync(run.WorkerId, "work"));
        Assert.Equal(2, again.GetProperty("attempt").GetInt32());
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = again.Str("lease_token"), lines = new[] { "second try" } }).Expect(HttpStatusCode.OK);
        Time.Advance(TimeSpan.FromSeconds(3));
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = again.Str("lease_token"), result = new { sent = 1, id = "m-1" } })
            .Expect(HttpStatusCode.OK);

        var job = await GetJobAsync(run.Id);
        Assert.Equal("succeeded", job.Str("state"));
        Assert.Equal(2, job.GetProperty("attempt").GetInt32());
        Assert.Equal(1, job.GetProperty("result").GetProperty("sent").GetInt32());
        Assert.Equal("m-1", job.GetProperty("result").Str("id"));
        Assert.False(job.IsNull("finished_at"));
        Assert.False(job.IsNull("started_at"));

        var attempts = job.GetProperty("attempts").EnumerateArray().ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.Equal(1, attempts[0].GetProperty("number").GetInt32());
        Assert.Equal(run.WorkerId, attempts[0].Str("worker_id"));
        Assert.False(attempts[0].IsNull("started_at"));
        Assert.Equal(At(attempts[0], "started_at").AddSeconds(2), At(attempts[0], "finished_at"));
        var error = attempts[0].GetProperty("error");
        Assert.Equal("SMTP said no", error.Str("message"));
        Assert.Equal("SmtpException", error.Str("type"));
        Assert.Equal("at Mailer.Send()\nat Job.Run()", error.Str("stack"));
        Assert.Equal(2, attempts[1].GetProperty("number").GetInt32());
        Assert.Equal(run.WorkerId, attempts[1].Str("worker_id"));
        Assert.True(attempts[1].IsNull("error"));
        Assert.False(attempts[1].IsNull("finished_at"));

        var logs = job.GetProperty("logs").EnumerateArray().Select(l => l.Str("line")).ToArray();
        Assert.Equal(["starting", "step 1", "second try"], logs);
        Assert.All(job.GetProperty("logs").EnumerateArray(), l => Assert.Matches(Rfc3339Millis(), l.Str("at")));
    }

    [Fact]
    public async Task List_items_leave_out_attempts_and_logs()
    {
        await EnqueueAsync();
        var list = await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.True(item.IsNull("attempts"));
        Assert.True(item.IsNull("logs"));
    }

    // ------------------------------------------------------------------ retry, cancel, delete

    [Fact]
    public async Task Retry_puts_a_failed_job_back_in_the_queue_keeping_its_attempts()
    {
        var run = await StartJobAsync();
        var failed = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "bad input" }, retryable = false })
            .Expect(HttpStatusCode.OK);
        Assert.Equal("failed", failed.Str("state"));

        var retried = await Admin.PostAsync($"/api/v1/jobs/{run.Id}/retry", null).Expect(HttpStatusCode.OK);
        Assert.Equal("queued", retried.Str("state"));
        var job = await GetJobAsync(run.Id);
        Assert.Equal("queued", job.Str("state"));
        var attempt = Assert.Single(job.GetProperty("attempts").EnumerateArray());
        Assert.Equal("bad input", attempt.GetProperty("error").Str("message"));

        // And it runs again as attempt 2.
        var again = Assert.Single(await FetchAsync(run.WorkerId));
        Assert.Equal(2, again.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task Retry_puts_a_cancelled_job_back_in_the_queue()
    {
        var job = await EnqueueAsync();
        await Admin.PostAsync($"/api/v1/jobs/{job.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        var retried = await Admin.PostAsync($"/api/v1/jobs/{job.Str("id")}/retry", null).Expect(HttpStatusCode.OK);
        Assert.Equal("queued", retried.Str("state"));
    }

    [Fact]
    public async Task Retry_of_a_running_or_queued_job_answers_409_and_changes_nothing()
    {
        var run = await StartJobAsync();
        var before = await GetJobAsync(run.Id);
        await Admin.PostAsync($"/api/v1/jobs/{run.Id}/retry", null).ExpectProblem(HttpStatusCode.Conflict);
        var after = await GetJobAsync(run.Id);
        Assert.Equal("running", after.Str("state"));
        Assert.Equal(before.Str("lease_expires_at"), after.Str("lease_expires_at"));
        Assert.Equal(1, after.GetProperty("attempt").GetInt32());
        // The lease still works.
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);

        var queued = await EnqueueAsync();
        await Admin.PostAsync($"/api/v1/jobs/{queued.Str("id")}/retry", null).ExpectProblem(HttpStatusCode.Conflict);
        Assert.Equal("queued", (await GetJobAsync(queued.Str("id"))).Str("state"));
    }

    [Fact]
    public async Task Cancel_of_a_queued_or_scheduled_job_cancels_it_at_once()
    {
        var queued = await EnqueueAsync();
        var cancelled = await Admin.PostAsync($"/api/v1/jobs/{queued.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        Assert.Equal("cancelled", cancelled.Str("state"));
        Assert.Equal("cancelled", (await GetJobAsync(queued.Str("id"))).Str("state"));

        var scheduled = await EnqueueAsync(new { queue = "default", type = "t", delay_ms = 60_000 });
        await Admin.PostAsync($"/api/v1/jobs/{scheduled.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        Assert.Equal("cancelled", (await GetJobAsync(scheduled.Str("id"))).Str("state"));

        // Nothing left to fetch.
        var worker = await RegisterWorkerAsync(null, "default");
        Assert.Empty(await FetchAsync(worker));
    }

    [Fact]
    public async Task Cancel_of_a_running_job_requests_it_and_the_worker_is_told()
    {
        var run = await StartJobAsync();
        var answer = await Admin.PostAsync($"/api/v1/jobs/{run.Id}/cancel", null).Expect(HttpStatusCode.OK);
        Assert.Equal("running", answer.Str("state"));
        Assert.True(answer.GetProperty("cancel_requested").GetBoolean());

        var job = await GetJobAsync(run.Id);
        Assert.Equal("running", job.Str("state"));
        Assert.True(job.GetProperty("cancel_requested").GetBoolean());

        var beat = await Admin.PostAsync($"/api/v1/workers/{run.WorkerId}/heartbeat", null).Expect(HttpStatusCode.OK);
        Assert.Equal([run.Id], beat.GetProperty("cancel_job_ids").EnumerateArray().Select(x => x.GetString()));

        var jobBeat = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        Assert.True(jobBeat.GetProperty("cancel_requested").GetBoolean());

        // The worker gives up: the job ends cancelled.
        var failed = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "cancelled by request" } })
            .Expect(HttpStatusCode.OK);
        Assert.Equal("cancelled", failed.Str("state"));
        Assert.Equal("cancelled", (await GetJobAsync(run.Id)).Str("state"));
    }

    [Fact]
    public async Task Cancel_of_a_finished_job_answers_409_and_changes_nothing()
    {
        var run = await StartJobAsync();
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token, result = 1 }).Expect(HttpStatusCode.OK);
        await Admin.PostAsync($"/api/v1/jobs/{run.Id}/cancel", null).ExpectProblem(HttpStatusCode.Conflict);
        var job = await GetJobAsync(run.Id);
        Assert.Equal("succeeded", job.Str("state"));
        Assert.False(job.GetProperty("cancel_requested").GetBoolean());

        var cancelled = await EnqueueAsync();
        await Admin.PostAsync($"/api/v1/jobs/{cancelled.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        await Admin.PostAsync($"/api/v1/jobs/{cancelled.Str("id")}/cancel", null).ExpectProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Delete_of_a_running_job_answers_409_and_keeps_it()
    {
        var run = await StartJobAsync();
        await Admin.DeleteAsync($"/api/v1/jobs/{run.Id}").ExpectProblem(HttpStatusCode.Conflict);
        var job = await GetJobAsync(run.Id);
        Assert.Equal("running", job.Str("state"));
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Delete_of_a_queued_job_answers_204_then_404()
    {
        var job = await EnqueueAsync();
        using (var deleted = await Admin.DeleteAsync($"/api/v1/jobs/{job.Str("id")}"))
        {
            await deleted.Expect(HttpStatusCode.NoContent);
        }
        await Admin.GetAsync($"/api/v1/jobs/{job.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync($"/api/v1/jobs/{job.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        await AssertNoJobsAsync();
        var worker = await RegisterWorkerAsync(null, "default");
        Assert.Empty(await FetchAsync(worker));
    }

    [Fact]
    public async Task Delete_of_a_finished_job_removes_it()
    {
        var run = await StartJobAsync();
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        await Admin.DeleteAsync($"/api/v1/jobs/{run.Id}").Expect(HttpStatusCode.NoContent);
        await Admin.GetAsync($"/api/v1/jobs/{run.Id}").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("0190f000-0000-7000-8000-00000000abcd")]
    [InlineData("not-a-guid")]
    public async Task Unknown_or_malformed_job_ids_answer_404(string id)
    {
        await EnqueueAsync();
        await Admin.GetAsync($"/api/v1/jobs/{id}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/jobs/{id}/retry", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/jobs/{id}/cancel", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync($"/api/v1/jobs/{id}").ExpectProblem(HttpStatusCode.NotFound);
        var token = Guid.NewGuid().ToString();
        await Admin.PostJsonAsync($"/api/v1/jobs/{id}/ack", new { lease_token = token }).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostJsonAsync($"/api/v1/jobs/{id}/fail", new { lease_token = token, error = new { message = "x" } }).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostJsonAsync($"/api/v1/jobs/{id}/heartbeat", new { lease_token = token }).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostJsonAsync($"/api/v1/jobs/{id}/logs", new { lease_token = token, lines = new[] { "x" } }).ExpectProblem(HttpStatusCode.NotFound);
        Assert.Single((await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
    }

    // ------------------------------------------------------------------ organizations

    [Fact]
    public async Task A_job_of_another_organization_is_not_found_here()
    {
        var otherKey = ApiKeySecrets.Generate();
        await Factory.Services.GetRequiredService<IKairosStore>().ApiKeys.CreateAsync(new CreateApiKeyParams(
            Guid.NewGuid(), "other", ApiKeySecrets.VisiblePrefix(otherKey), ApiKeySecrets.Hash(otherKey), ApiKeyScopes.Admin, null), CancellationToken.None);
        var other = Client(otherKey);

        var theirs = await other.PostJsonAsync("/api/v1/jobs", new { queue = "shared-name", type = "t" }).Expect(HttpStatusCode.Created);
        var ours = await EnqueueAsync("shared-name");
        var id = theirs.Str("id");

        await Admin.GetAsync($"/api/v1/jobs/{id}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/jobs/{id}/cancel", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync($"/api/v1/jobs/{id}").ExpectProblem(HttpStatusCode.NotFound);
        Assert.Equal([ours.Str("id")], (await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
        var queue = await Admin.GetAsync("/api/v1/queues/shared-name").Expect(HttpStatusCode.OK);
        Assert.Equal(1, queue.GetProperty("counts").GetProperty("queued").GetInt64());

        // Our workers do not get their jobs.
        var worker = await RegisterWorkerAsync(null, "shared-name");
        var fetched = Assert.Single(await FetchAsync(worker, "shared-name"));
        Assert.Equal(ours.Str("id"), fetched.Str("id"));
        Assert.Empty(await FetchAsync(worker, "shared-name"));

        // And the other organization still has its job, untouched.
        var still = await other.GetAsync($"/api/v1/jobs/{id}").Expect(HttpStatusCode.OK);
        Assert.Equal("queued", still.Str("state"));
        await other.GetAsync($"/api/v1/jobs/{ours.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        await other.GetAsync($"/api/v1/workers/{worker}").ExpectProblem(HttpStatusCode.NotFound);
    }

    // ------------------------------------------------------------------ bad input

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        var job = await EnqueueAsync(new { queue = "q", type = "t", colour = "blue", nested = new { deep = true }, priority = 2 });
        Assert.Equal(2, job.GetProperty("priority").GetInt32());
        Assert.False(job.TryGetProperty("colour", out _));
    }

    [Theory]
    [InlineData("""{"type":"t"}""", "queue")]
    [InlineData("""{"queue":"q"}""", "type")]
    [InlineData("""{"queue":"","type":"t"}""", "queue")]
    [InlineData("""{"queue":"q","type":"t","max_attempts":0}""", "max_attempts")]
    [InlineData("""{"queue":"q","type":"t","timeout_ms":0}""", "timeout_ms")]
    [InlineData("""{"queue":"q","type":"t","unique_key":""}""", "unique_key")]
    [InlineData("""{"queue":"q","type":"t","tags":["ok",""]}""", "tags[1]")]
    public async Task Missing_or_invalid_fields_answer_400_naming_the_field(string body, string field)
    {
        await Admin.PostRawAsync("/api/v1/jobs", body).ExpectProblem(HttpStatusCode.BadRequest, field);
        await AssertNoJobsAsync();
    }

    // Wrong types fail while the body is bound, an answer that lacks X-Request-Id (see ExpectBindingProblem).
    [Theory]
    [InlineData("""{"queue":"q","type":"t","priority":"high"}""", "priority")]
    [InlineData("""{"queue":"q","type":"t","priority":1.5}""", "priority")]
    [InlineData("""{"queue":42,"type":"t"}""", "queue")]
    [InlineData("""{"queue":"q","type":"t","max_attempts":"3"}""", "max_attempts")]
    [InlineData("""{"queue":"q","type":"t","run_at":"tomorrow"}""", "run_at")]
    [InlineData("""{"queue":"q","type":"t","tags":"vip"}""", "tags")]
    [InlineData("""{"queue":"q","type":"t","delay_ms":"soon"}""", "delay_ms")]
    public async Task Wrong_typed_fields_answer_400_naming_the_field(string body, string field)
    {
        await Admin.PostRawAsync("/api/v1/jobs", body).ExpectBindingProblem(HttpStatusCode.BadRequest, field);
        await AssertNoJobsAsync();
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"queue\":\"q\",")]
    [InlineData("")]
    [InlineData("[1,2,3]")]
    public async Task A_body_that_is_not_a_json_object_answers_400(string body)
    {
        var problem = await Admin.PostRawAsync("/api/v1/jobs", body).ExpectBindingProblem(HttpStatusCode.BadRequest);
        Assert.True(problem.TryGetProperty("errors", out _), $"no errors in {problem}");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task A_payload_over_1_MiB_answers_413_and_inserts_nothing()
    {
        var big = new string('x', 1024 * 1024 + 1);
        await Admin.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t", payload = new { blob = big } })
            .ExpectProblem(HttpStatusCode.RequestEntityTooLarge);
        await AssertNoJobsAsync();
        await Admin.GetAsync("/api/v1/queues/q").ExpectProblem(HttpStatusCode.NotFound);

        // Just under the limit is fine.
        var fits = new string('x', 1024 * 1024 - 100);
        await EnqueueAsync(new { queue = "q", type = "t", payload = fits });
    }

    [Fact]
    public async Task A_payload_over_1_MiB_of_multibyte_text_answers_413_and_inserts_nothing()
    {
        // 700,000 two-byte characters: 1.4 MB of UTF-8, sent as is (not \u-escaped).
        var body = "{\"queue\":\"q\",\"type\":\"t\",\"payload\":\"" + new string('\u00e9', 700_000) + "\"}";
        await Admin.PostRawAsync("/api/v1/jobs", body).ExpectProblem(HttpStatusCode.RequestEntityTooLarge);
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task A_body_sent_as_text_plain_answers_415_problem()
    {
        await Admin.PostRawAsync("/api/v1/jobs", "queue=q&type=t", "text/plain").ExpectProblem(HttpStatusCode.UnsupportedMediaType);
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Bulk_with_a_null_item_answers_400_naming_it()
    {
        await Admin.PostRawAsync("/api/v1/jobs/bulk", """{"jobs":[{"queue":"q","type":"t"},null]}""").ExpectProblem(HttpStatusCode.BadRequest, "jobs[1]");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Bulk_with_a_unique_key_twice_inserts_one_job_for_both()
    {
        var answer = await Admin.PostJsonAsync("/api/v1/jobs/bulk", new
        {
            jobs = new object[]
            {
                new { queue = "q", type = "t", unique_key = "k" },
                new { queue = "q", type = "t", unique_key = "k" },
                new { queue = "q", type = "t" },
            },
        }).Expect(HttpStatusCode.Created);
        var ids = answer.GetProperty("ids").EnumerateArray().Select(x => x.GetString()).ToArray();
        Assert.Equal(3, ids.Length);
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(2, (await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids().Length);
    }

    private static string[] IdsOf(params JsonElement[] jobs) => jobs.Select(j => j.Str("id")).ToArray();

    private async Task AssertNoJobsAsync()
    {
        var list = await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        Assert.Empty(list.Ids());
        Assert.True(list.IsNull("next_cursor"));
    }
}
