using System.Net;
using System.Text.Json;
using Kairos.Core.Dispatch;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>Queues: create/configure, counts, age and throughput, pause/resume, purge, delete. Fake time.</summary>
public sealed class QueuesApiTests() : ApiTest(fakeTime: true)
{
    private static long Count(JsonElement queue, string state) => queue.GetProperty("counts").GetProperty(state).GetInt64();

    [Fact]
    public async Task Put_creates_or_configures_a_queue_and_new_jobs_take_its_defaults()
    {
        var created = await Admin.PutJsonAsync("/api/v1/queues/emails", new
        {
            concurrency_limit = 2,
            rate_limit = new { limit = 10, period_ms = 1000 },
            default_max_attempts = 3,
            default_timeout_ms = 5000,
        }).Expect(HttpStatusCode.OK);
        Assert.Equal("emails", created.Str("name"));
        Assert.Equal(2, created.GetProperty("concurrency_limit").GetInt32());
        Assert.Equal(10, created.GetProperty("rate_limit").GetProperty("limit").GetInt32());
        Assert.Equal(1000, created.GetProperty("rate_limit").GetProperty("period_ms").GetInt32());
        Assert.Equal(3, created.GetProperty("default_max_attempts").GetInt32());
        Assert.Equal(5000, created.GetProperty("default_timeout_ms").GetInt32());
        Assert.False(created.GetProperty("paused").GetBoolean());

        var read = await Admin.GetAsync("/api/v1/queues/emails").Expect(HttpStatusCode.OK);
        Assert.Equal(2, read.GetProperty("concurrency_limit").GetInt32());
        Assert.Equal(5000, read.GetProperty("default_timeout_ms").GetInt32());

        var job = await EnqueueAsync("emails");
        Assert.Equal(3, job.GetProperty("max_attempts").GetInt32());
        Assert.Equal(5000, job.GetProperty("timeout_ms").GetInt32());
        var own = await EnqueueAsync(new { queue = "emails", type = "t", max_attempts = 9, timeout_ms = 100 });
        Assert.Equal(9, own.GetProperty("max_attempts").GetInt32());
        Assert.Equal(100, own.GetProperty("timeout_ms").GetInt32());

        // PUT again replaces the settings.
        var changed = await Admin.PutJsonAsync("/api/v1/queues/emails", new { concurrency_limit = 7 }).Expect(HttpStatusCode.OK);
        Assert.Equal(7, changed.GetProperty("concurrency_limit").GetInt32());
        Assert.True(changed.IsNull("rate_limit"));
        Assert.True(changed.IsNull("default_max_attempts"));
        Assert.Equal(7, (await Admin.GetAsync("/api/v1/queues/emails").Expect(HttpStatusCode.OK)).GetProperty("concurrency_limit").GetInt32());
    }

    [Theory]
    [InlineData("""{"concurrency_limit":0}""", "concurrency_limit")]
    [InlineData("""{"default_max_attempts":0}""", "default_max_attempts")]
    [InlineData("""{"default_timeout_ms":-1}""", "default_timeout_ms")]
    [InlineData("""{"rate_limit":{"limit":5}}""", "rate_limit.period_ms")]
    [InlineData("""{"rate_limit":{"period_ms":5}}""", "rate_limit.limit")]
    [InlineData("""{"rate_limit":{"limit":0,"period_ms":1000}}""", "rate_limit.limit")]
    public async Task Put_with_bad_settings_answers_400_and_creates_nothing(string body, string field)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        await Admin.PutAsync("/api/v1/queues/badq", content).ExpectProblem(HttpStatusCode.BadRequest, field);
        await Admin.GetAsync("/api/v1/queues/badq").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Put_with_a_wrong_typed_setting_answers_400_naming_it()
    {
        using var content = new StringContent("""{"concurrency_limit":"many"}""", System.Text.Encoding.UTF8, "application/json");
        await Admin.PutAsync("/api/v1/queues/badq", content).ExpectBindingProblem(HttpStatusCode.BadRequest, "concurrency_limit");
        await Admin.GetAsync("/api/v1/queues/badq").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_of_an_unknown_queue_answers_404()
    {
        await Admin.GetAsync("/api/v1/queues/nowhere").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Queues_exist_when_first_used_and_list_counts_per_state()
    {
        var empty = await Admin.GetAsync("/api/v1/queues").Expect(HttpStatusCode.OK);
        Assert.Empty(empty.GetProperty("items").EnumerateArray());

        var a = await EnqueueAsync("work");
        await EnqueueAsync("work");
        var c = await EnqueueAsync("work");
        await EnqueueAsync(new { queue = "work", type = "t", delay_ms = 60_000 });
        await EnqueueAsync("other");
        await Admin.PostAsync($"/api/v1/jobs/{c.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        var worker = await RegisterWorkerAsync(null, "work");
        var leased = Assert.Single(await FetchAsync(worker, "work", max: 1));
        Assert.Equal(a.Str("id"), leased.Str("id"));

        var list = await Admin.GetAsync("/api/v1/queues").Expect(HttpStatusCode.OK);
        var names = list.GetProperty("items").EnumerateArray().Select(q => q.Str("name")).ToArray();
        Assert.Equal(["other", "work"], names);
        var work = list.GetProperty("items").EnumerateArray().Single(q => q.Str("name") == "work");
        Assert.Equal(1, Count(work, "queued"));
        Assert.Equal(1, Count(work, "running"));
        Assert.Equal(1, Count(work, "scheduled"));
        Assert.Equal(1, Count(work, "cancelled"));
        Assert.Equal(0, Count(work, "succeeded"));
        Assert.Equal(0, Count(work, "failed"));
        Assert.Equal(0, Count(work, "retrying"));
        Assert.Equal(0, Count(work, "pending"));

        var single = await Admin.GetAsync("/api/v1/queues/work").Expect(HttpStatusCode.OK);
        Assert.Equal(work.GetProperty("counts").ToString(), single.GetProperty("counts").ToString());
    }

    [Fact]
    public async Task Oldest_queued_age_and_throughput_of_the_last_minute()
    {
        var fresh = await Admin.PutJsonAsync("/api/v1/queues/tp", new { }).Expect(HttpStatusCode.OK);
        Assert.True(fresh.IsNull("oldest_queued_age_ms"));
        Assert.Equal(0, fresh.GetProperty("throughput_last_minute").GetInt64());

        await EnqueueAsync("tp");
        Time.Advance(TimeSpan.FromSeconds(5));
        await EnqueueAsync("tp");
        Time.Advance(TimeSpan.FromSeconds(2));
        var q = await Admin.GetAsync("/api/v1/queues/tp").Expect(HttpStatusCode.OK);
        Assert.Equal(7_000, q.GetProperty("oldest_queued_age_ms").GetInt64());

        var worker = await RegisterWorkerAsync(null, "tp");
        var jobs = await FetchAsync(worker, "tp", max: 2);
        Assert.Equal(2, jobs.Length);
        await Admin.PostJsonAsync($"/api/v1/jobs/{jobs[0].Str("id")}/ack", new { lease_token = jobs[0].Str("lease_token") }).Expect(HttpStatusCode.OK);
        await Admin.PostJsonAsync($"/api/v1/jobs/{jobs[1].Str("id")}/fail", new { lease_token = jobs[1].Str("lease_token"), error = new { message = "x" }, retryable = false })
            .Expect(HttpStatusCode.OK);

        q = await Admin.GetAsync("/api/v1/queues/tp").Expect(HttpStatusCode.OK);
        Assert.True(q.IsNull("oldest_queued_age_ms"));
        Assert.Equal(2, q.GetProperty("throughput_last_minute").GetInt64());
        Assert.Equal(1, Count(q, "succeeded"));
        Assert.Equal(1, Count(q, "failed"));

        Time.Advance(TimeSpan.FromMinutes(2));
        q = await Admin.GetAsync("/api/v1/queues/tp").Expect(HttpStatusCode.OK);
        Assert.Equal(0, q.GetProperty("throughput_last_minute").GetInt64());
    }

    [Fact]
    public async Task A_paused_queue_hands_out_nothing_until_resumed()
    {
        var job = await EnqueueAsync("p");
        var worker = await RegisterWorkerAsync(null, "p");
        var paused = await Admin.PostJsonAsync("/api/v1/queues/p/pause", new { reason = "deploy" }).Expect(HttpStatusCode.OK);
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal("deploy", paused.Str("pause_reason"));
        Assert.True((await Admin.GetAsync("/api/v1/queues/p").Expect(HttpStatusCode.OK)).GetProperty("paused").GetBoolean());

        Assert.Empty(await FetchAsync(worker, "p"));
        Assert.Equal("queued", (await GetJobAsync(job.Str("id"))).Str("state"));
        // Enqueueing into a paused queue is fine; the job waits.
        var second = await EnqueueAsync("p");
        Assert.Equal("queued", second.Str("state"));
        Assert.Empty(await FetchAsync(worker, "p"));

        var resumed = await Admin.PostAsync("/api/v1/queues/p/resume", null).Expect(HttpStatusCode.OK);
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.True(resumed.IsNull("pause_reason"));
        var fetched = await FetchAsync(worker, "p");
        Assert.Equal([job.Str("id"), second.Str("id")], fetched.Select(j => j.Str("id")));
    }

    [Fact]
    public async Task Pause_without_a_body_works()
    {
        await EnqueueAsync("p");
        var paused = await Admin.PostAsync("/api/v1/queues/p/pause", null).Expect(HttpStatusCode.OK);
        Assert.True(paused.GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task Pause_resume_and_purge_of_an_unknown_queue_answer_404()
    {
        await Admin.PostJsonAsync("/api/v1/queues/nowhere/pause", new { reason = "x" }).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync("/api/v1/queues/nowhere/resume", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync("/api/v1/queues/nowhere/purge", null).ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("/api/v1/queues/nowhere").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/queues/nowhere").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Purge_removes_queued_scheduled_and_retrying_jobs_and_answers_how_many()
    {
        var running = await StartJobAsync("pq");
        var retrying = await StartJobAsync("pq");
        await Admin.PostJsonAsync($"/api/v1/jobs/{retrying.Id}/fail", new { lease_token = retrying.Token, error = new { message = "x" }, retry_in_ms = 3_600_000 })
            .Expect(HttpStatusCode.OK);
        var done = await StartJobAsync("pq");
        await Admin.PostJsonAsync($"/api/v1/jobs/{done.Id}/ack", new { lease_token = done.Token }).Expect(HttpStatusCode.OK);
        var queued1 = await EnqueueAsync("pq");
        var queued2 = await EnqueueAsync("pq");
        var scheduled = await EnqueueAsync(new { queue = "pq", type = "t", delay_ms = 60_000 });
        var elsewhere = await EnqueueAsync("not-purged");

        var answer = await Admin.PostAsync("/api/v1/queues/pq/purge", null).Expect(HttpStatusCode.OK);
        Assert.Equal(4, answer.GetProperty("purged").GetInt64());
        Assert.Equal("pq", answer.Str("queue"));

        foreach (var gone in new[] { retrying.Id, queued1.Str("id"), queued2.Str("id"), scheduled.Str("id") })
        {
            await Admin.GetAsync($"/api/v1/jobs/{gone}").ExpectProblem(HttpStatusCode.NotFound);
        }
        Assert.Equal("running", (await GetJobAsync(running.Id)).Str("state"));
        Assert.Equal("succeeded", (await GetJobAsync(done.Id)).Str("state"));
        Assert.Equal("queued", (await GetJobAsync(elsewhere.Str("id"))).Str("state"));
        var q = await Admin.GetAsync("/api/v1/queues/pq").Expect(HttpStatusCode.OK);
        Assert.Equal(0, Count(q, "queued"));
        Assert.Equal(1, Count(q, "running"));

        var again = await Admin.PostAsync("/api/v1/queues/pq/purge", null).Expect(HttpStatusCode.OK);
        Assert.Equal(0, again.GetProperty("purged").GetInt64());
    }

    [Fact]
    public async Task Delete_answers_409_while_the_queue_has_unfinished_jobs_and_204_after()
    {
        var run = await StartJobAsync("dq");
        var queued = await EnqueueAsync("dq");

        await Admin.DeleteAsync("/api/v1/queues/dq").ExpectProblem(HttpStatusCode.Conflict);
        var q = await Admin.GetAsync("/api/v1/queues/dq").Expect(HttpStatusCode.OK);
        Assert.Equal(1, Count(q, "queued"));
        Assert.Equal(1, Count(q, "running"));

        await Admin.PostAsync($"/api/v1/jobs/{queued.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        await Admin.DeleteAsync("/api/v1/queues/dq").ExpectProblem(HttpStatusCode.Conflict); // still running
        Assert.Equal("running", (await GetJobAsync(run.Id)).Str("state"));

        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        using (var deleted = await Admin.DeleteAsync("/api/v1/queues/dq"))
        {
            await deleted.Expect(HttpStatusCode.NoContent);
        }
        await Admin.GetAsync("/api/v1/queues/dq").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("/api/v1/queues/dq").ExpectProblem(HttpStatusCode.NotFound);
        Assert.DoesNotContain((await Admin.GetAsync("/api/v1/queues").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray(), x => x.Str("name") == "dq");
    }

    [Fact]
    public async Task A_concurrency_limit_is_never_exceeded_across_workers()
    {
        await Admin.PutJsonAsync("/api/v1/queues/limited", new { concurrency_limit = 2 }).Expect(HttpStatusCode.OK);
        for (var i = 0; i < 5; i++) await EnqueueAsync("limited");
        var w1 = await RegisterWorkerAsync(null, "limited");
        var w2 = await RegisterWorkerAsync(null, "limited");

        var first = await FetchAsync(w1, "limited", max: 10);
        Assert.Equal(2, first.Length);
        Assert.Empty(await FetchAsync(w2, "limited", max: 10));
        Assert.Empty(await FetchAsync(w1, "limited", max: 10));

        await Admin.PostJsonAsync($"/api/v1/jobs/{first[0].Str("id")}/ack", new { lease_token = first[0].Str("lease_token") }).Expect(HttpStatusCode.OK);
        Assert.Single(await FetchAsync(w2, "limited", max: 10));
        var q = await Admin.GetAsync("/api/v1/queues/limited").Expect(HttpStatusCode.OK);
        Assert.Equal(2, Count(q, "running"));
    }

    [Fact]
    public async Task A_rate_limit_holds_jobs_back_until_its_period_passes()
    {
        await Admin.PutJsonAsync("/api/v1/queues/rated", new { rate_limit = new { limit = 2, period_ms = 10_000 } }).Expect(HttpStatusCode.OK);
        for (var i = 0; i < 5; i++) await EnqueueAsync("rated");
        var worker = await RegisterWorkerAsync(null, "rated");
        Assert.Equal(2, (await FetchAsync(worker, "rated", max: 10)).Length);
        Assert.Empty(await FetchAsync(worker, "rated", max: 10));
        Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(2, (await FetchAsync(worker, "rated", max: 10)).Length);
    }

    [Fact]
    public async Task Purging_makes_delete_possible()
    {
        await EnqueueAsync("tmp");
        await EnqueueAsync(new { queue = "tmp", type = "t", delay_ms = 1000 });
        await Admin.DeleteAsync("/api/v1/queues/tmp").ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostAsync("/api/v1/queues/tmp/purge", null).Expect(HttpStatusCode.OK);
        await Admin.DeleteAsync("/api/v1/queues/tmp").Expect(HttpStatusCode.NoContent);
        // Used again, it comes back.
        await EnqueueAsync("tmp");
        await Factory.Services.GetRequiredService<Dispatcher>().RunMaintenanceAsync(TimeSpan.FromHours(1), CancellationToken.None);
        var q = await Admin.GetAsync("/api/v1/queues/tmp").Expect(HttpStatusCode.OK);
        Assert.Equal(1, Count(q, "queued"));
    }
}
