using System.Globalization;
using System.Net;
using System.Text.Json;
using Kairos.Core.Dispatch;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>The worker protocol on real time: fetch (with long-poll), ack, fail, job heartbeat, logs, batch ack, stale leases.</summary>
public sealed class WorkerProtocolTests() : ApiTest(fakeTime: false)
{
    private static DateTimeOffset At(JsonElement e, string name) =>
        DateTimeOffset.Parse(e.Str(name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    // ------------------------------------------------------------------ fetch

    [Fact]
    public async Task Fetch_leases_a_job_with_everything_the_worker_needs()
    {
        var job = await EnqueueAsync(new { queue = "emails", type = "send", payload = new { to = "x@example.com" }, priority = 3, tags = new[] { "a" }, timeout_ms = 600_000 });
        var worker = await RegisterWorkerAsync(null, "emails");
        var before = DateTimeOffset.UtcNow;
        var fetched = Assert.Single(await FetchAsync(worker, "emails", 5, leaseMs: 20_000));

        Assert.Equal(job.Str("id"), fetched.Str("id"));
        Assert.Equal("emails", fetched.Str("queue"));
        Assert.Equal("send", fetched.Str("type"));
        Assert.Equal("x@example.com", fetched.GetProperty("payload").Str("to"));
        Assert.Equal(1, fetched.GetProperty("attempt").GetInt32());
        Assert.Equal(3, fetched.GetProperty("priority").GetInt32());
        Assert.Equal(600_000, fetched.GetProperty("timeout_ms").GetInt32());
        Assert.True(Guid.TryParse(fetched.Str("lease_token"), out _));
        var expires = At(fetched, "lease_expires_at");
        Assert.InRange(expires, before.AddSeconds(19), DateTimeOffset.UtcNow.AddSeconds(21));

        var read = await GetJobAsync(job.Str("id"));
        Assert.Equal("running", read.Str("state"));
        Assert.Equal(worker, read.Str("worker_id"));
        Assert.Equal(1, read.GetProperty("attempt").GetInt32());
        Assert.Equal(fetched.Str("lease_expires_at"), read.Str("lease_expires_at"));
        Assert.False(read.TryGetProperty("lease_token", out _));

        // Leased once only.
        Assert.Empty(await FetchAsync(worker, "emails"));
    }

    [Fact]
    public async Task Fetch_hands_out_higher_priority_first_then_oldest_and_at_most_max()
    {
        var low1 = await EnqueueAsync(new { queue = "q", type = "t", priority = 0 });
        var high = await EnqueueAsync(new { queue = "q", type = "t", priority = 10 });
        var low2 = await EnqueueAsync(new { queue = "q", type = "t", priority = 0 });
        var mid = await EnqueueAsync(new { queue = "q", type = "t", priority = 5 });
        var worker = await RegisterWorkerAsync(null, "q");

        var first = await FetchAsync(worker, "q", max: 3);
        Assert.Equal([high.Str("id"), mid.Str("id"), low1.Str("id")], first.Select(j => j.Str("id")));
        var rest = await FetchAsync(worker, "q", max: 3);
        Assert.Equal([low2.Str("id")], rest.Select(j => j.Str("id")));
    }

    [Fact]
    public async Task Fetch_takes_from_every_queue_asked_for_and_no_other()
    {
        var a = await EnqueueAsync("a");
        var b = await EnqueueAsync("b");
        await EnqueueAsync("c");
        var worker = await RegisterWorkerAsync(null, "a", "b");
        var answer = await Admin.PostJsonAsync("/api/v1/fetch", new { worker_id = worker, queues = new[] { "a", "b" }, max = 10, wait_ms = 0 }).Expect(HttpStatusCode.OK);
        var ids = answer.GetProperty("jobs").EnumerateArray().Select(j => j.Str("id")).Order().ToArray();
        Assert.Equal(new[] { a.Str("id"), b.Str("id") }.Order(), ids);
    }

    [Fact]
    public async Task Fetch_waits_for_a_job_and_returns_when_one_is_enqueued()
    {
        var worker = await RegisterWorkerAsync(null, "slow");
        using var deadline = Deadline(30);
        var fetch = Admin.PostAsync("/api/v1/fetch", System.Net.Http.Json.JsonContent.Create(
            new { worker_id = worker, queues = new[] { "slow" }, max = 1, wait_ms = 20_000 }, options: Http.BodyOptions), deadline.Token);
        var job = await EnqueueAsync("slow");
        var answer = await fetch.Expect(HttpStatusCode.OK);
        var fetched = Assert.Single(answer.GetProperty("jobs").EnumerateArray());
        Assert.Equal(job.Str("id"), fetched.Str("id"));
    }

    [Fact]
    public async Task Fetch_with_nothing_ready_answers_an_empty_list_after_wait_ms()
    {
        var worker = await RegisterWorkerAsync(null, "empty");
        var started = DateTimeOffset.UtcNow;
        var answer = await Admin.PostJsonAsync("/api/v1/fetch", new { worker_id = worker, queues = new[] { "empty" }, wait_ms = 300 }).Expect(HttpStatusCode.OK);
        Assert.Empty(answer.GetProperty("jobs").EnumerateArray());
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public async Task Fetch_for_an_unknown_worker_answers_404_and_leases_nothing()
    {
        var job = await EnqueueAsync();
        await Admin.PostJsonAsync("/api/v1/fetch", new { worker_id = Guid.NewGuid(), queues = new[] { "default" }, wait_ms = 0 })
            .ExpectProblem(HttpStatusCode.NotFound);
        Assert.Equal("queued", (await GetJobAsync(job.Str("id"))).Str("state"));
    }

    [Theory]
    [InlineData("""{"queues":["q"]}""", "worker_id")]
    [InlineData("""{"worker_id":"0190f000-0000-7000-8000-000000000001"}""", "queues")]
    [InlineData("""{"worker_id":"0190f000-0000-7000-8000-000000000001","queues":[]}""", "queues")]
    [InlineData("""{"worker_id":"0190f000-0000-7000-8000-000000000001","queues":["q"],"max":0}""", "max")]
    [InlineData("""{"worker_id":"0190f000-0000-7000-8000-000000000001","queues":["q"],"max":1001}""", "max")]
    [InlineData("""{"worker_id":"0190f000-0000-7000-8000-000000000001","queues":["q"],"wait_ms":-1}""", "wait_ms")]
    [InlineData("""{"worker_id":"0190f000-0000-7000-8000-000000000001","queues":["q"],"wait_ms":60001}""", "wait_ms")]
    [InlineData("""{"worker_id":"0190f000-0000-7000-8000-000000000001","queues":["q"],"lease_ms":1}""", "lease_ms")]
    public async Task Fetch_with_bad_fields_answers_400_naming_them(string body, string field)
    {
        await Admin.PostRawAsync("/api/v1/fetch", body).ExpectProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Fetch_with_a_wrong_typed_worker_id_answers_400_naming_it()
    {
        await Admin.PostRawAsync("/api/v1/fetch", """{"worker_id":"nope","queues":["q"]}""").ExpectBindingProblem(HttpStatusCode.BadRequest, "worker_id");
    }

    [Fact]
    public async Task A_fetch_waiting_on_a_paused_queue_returns_when_it_is_resumed()
    {
        var job = await EnqueueAsync("held");
        await Admin.PostAsync("/api/v1/queues/held/pause", null).Expect(HttpStatusCode.OK);
        var worker = await RegisterWorkerAsync(null, "held");
        Assert.Empty(await FetchAsync(worker, "held"));

        using var deadline = Deadline(30);
        var fetch = Admin.PostAsync("/api/v1/fetch", System.Net.Http.Json.JsonContent.Create(
            new { worker_id = worker, queues = new[] { "held" }, max = 1, wait_ms = 20_000 }, options: Http.BodyOptions), deadline.Token);
        await Admin.PostAsync("/api/v1/queues/held/resume", null).Expect(HttpStatusCode.OK);
        var answer = await fetch.Expect(HttpStatusCode.OK);
        Assert.Equal(job.Str("id"), Assert.Single(answer.GetProperty("jobs").EnumerateArray()).Str("id"));
    }

    // ------------------------------------------------------------------ ack and fail

    [Fact]
    public async Task Ack_succeeds_the_job_with_its_result()
    {
        var run = await StartJobAsync();
        var answer = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token, result = new { ok = true } }).Expect(HttpStatusCode.OK);
        Assert.Equal(run.Id, answer.Str("id"));
        Assert.Equal("succeeded", answer.Str("state"));

        var job = await GetJobAsync(run.Id);
        Assert.Equal("succeeded", job.Str("state"));
        Assert.True(job.GetProperty("result").GetProperty("ok").GetBoolean());
        Assert.False(job.IsNull("finished_at"));
        Assert.Equal("succeeded", Assert.Single(job.GetProperty("attempts").EnumerateArray()).Str("outcome"));

        // The same lease cannot finish it twice.
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "late" } }).ExpectProblem(HttpStatusCode.Conflict);
        var after = await GetJobAsync(run.Id);
        Assert.Equal("succeeded", after.Str("state"));
        Assert.Single(after.GetProperty("attempts").EnumerateArray());
    }

    [Fact]
    public async Task Ack_without_a_lease_token_answers_400()
    {
        var run = await StartJobAsync();
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { result = 1 }).ExpectProblem(HttpStatusCode.BadRequest, "lease_token");
        Assert.Equal("running", (await GetJobAsync(run.Id)).Str("state"));
    }

    [Fact]
    public async Task Fail_not_retryable_fails_the_job_at_once()
    {
        var run = await StartJobAsync();
        var answer = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new
        {
            lease_token = run.Token,
            error = new { message = "no such user", type = "NotFound" },
            retryable = false,
        }).Expect(HttpStatusCode.OK);
        Assert.Equal("failed", answer.Str("state"));

        var job = await GetJobAsync(run.Id);
        Assert.Equal("failed", job.Str("state"));
        Assert.Equal(1, job.GetProperty("attempt").GetInt32());
        Assert.Equal("no such user", job.GetProperty("last_error").Str("message"));
        Assert.Equal("NotFound", job.GetProperty("last_error").Str("type"));
    }

    [Fact]
    public async Task Fail_retryable_retries_after_retry_in_ms()
    {
        var run = await StartJobAsync();
        var before = DateTimeOffset.UtcNow;
        var answer = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new
        {
            lease_token = run.Token,
            error = new { message = "rate limited" },
            retry_in_ms = 600_000,
        }).Expect(HttpStatusCode.OK);
        Assert.Equal("retrying", answer.Str("state"));
        Assert.InRange(At(answer, "run_at"), before.AddMinutes(10).AddSeconds(-1), DateTimeOffset.UtcNow.AddMinutes(10).AddSeconds(1));

        var job = await GetJobAsync(run.Id);
        Assert.Equal("retrying", job.Str("state"));
        Assert.Equal(answer.Str("run_at"), job.Str("run_at"));
        Assert.Empty(await FetchAsync(run.WorkerId));
    }

    [Fact]
    public async Task Fail_without_retry_in_ms_backs_off_and_on_the_last_attempt_fails()
    {
        var run = await StartJobAsync(extra: new { queue = "default", type = "t", max_attempts = 1 });
        var answer = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "boom" } }).Expect(HttpStatusCode.OK);
        Assert.Equal("failed", answer.Str("state"));

        var other = await StartJobAsync(queue: "other");
        var retrying = await Admin.PostJsonAsync($"/api/v1/jobs/{other.Id}/fail", new { lease_token = other.Token, error = new { message = "boom" } }).Expect(HttpStatusCode.OK);
        Assert.Equal("retrying", retrying.Str("state"));
        Assert.True(At(retrying, "run_at") > DateTimeOffset.UtcNow.AddMilliseconds(-50));
    }

    [Theory]
    [InlineData("""{"error":{"message":"x"}}""", "lease_token")]
    [InlineData("""{"lease_token":"0190f000-0000-7000-8000-000000000001"}""", "error")]
    [InlineData("""{"lease_token":"0190f000-0000-7000-8000-000000000001","error":{}}""", "error.message")]
    [InlineData("""{"lease_token":"0190f000-0000-7000-8000-000000000001","error":{"message":"x"},"retry_in_ms":-5}""", "retry_in_ms")]
    public async Task Fail_with_bad_fields_answers_400_and_changes_nothing(string body, string field)
    {
        var run = await StartJobAsync();
        await Admin.PostRawAsync($"/api/v1/jobs/{run.Id}/fail", body).ExpectProblem(HttpStatusCode.BadRequest, field);
        var job = await GetJobAsync(run.Id);
        Assert.Equal("running", job.Str("state"));
        Assert.DoesNotContain(job.GetProperty("attempts").EnumerateArray(), a => !a.IsNull("finished_at"));
    }

    // ------------------------------------------------------------------ job heartbeat and logs

    [Fact]
    public async Task Job_heartbeat_extends_the_lease_and_records_progress()
    {
        var run = await StartJobAsync(leaseMs: 5_000);
        var first = At(run.Fetched, "lease_expires_at");
        var beat = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new
        {
            lease_token = run.Token,
            extend_ms = 600_000,
            progress = new { percent = 25, message = "a quarter" },
        }).Expect(HttpStatusCode.OK);
        Assert.False(beat.GetProperty("cancel_requested").GetBoolean());
        var extended = At(beat, "lease_expires_at");
        Assert.True(extended > first.AddMinutes(9), $"{extended:O} is not about ten minutes after {first:O}");

        var job = await GetJobAsync(run.Id);
        Assert.Equal(beat.Str("lease_expires_at"), job.Str("lease_expires_at"));
        Assert.Equal(25, job.GetProperty("progress").GetProperty("percent").GetInt32());
        Assert.Equal("a quarter", job.GetProperty("progress").Str("message"));
        Assert.Equal("running", job.Str("state"));
    }

    [Theory]
    [InlineData("""{"extend_ms":1000}""", "lease_token")]
    [InlineData("""{"lease_token":"0190f000-0000-7000-8000-000000000001","extend_ms":1}""", "extend_ms")]
    [InlineData("""{"lease_token":"0190f000-0000-7000-8000-000000000001","progress":{"percent":101}}""", "progress.percent")]
    public async Task Job_heartbeat_with_bad_fields_answers_400(string body, string field)
    {
        var run = await StartJobAsync();
        await Admin.PostRawAsync($"/api/v1/jobs/{run.Id}/heartbeat", body).ExpectProblem(HttpStatusCode.BadRequest, field);
        Assert.True((await GetJobAsync(run.Id)).IsNull("progress"));
    }

    [Fact]
    public async Task Logs_are_appended_to_the_job()
    {
        var run = await StartJobAsync();
        var answer = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = run.Token, lines = new[] { "one", "two" } }).Expect(HttpStatusCode.OK);
        Assert.Equal(2, answer.GetProperty("appended").GetInt32());
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = run.Token, lines = new[] { "three" } }).Expect(HttpStatusCode.OK);
        var job = await GetJobAsync(run.Id);
        Assert.Equal(["one", "two", "three"], job.GetProperty("logs").EnumerateArray().Select(l => l.Str("line")));
    }

    [Fact]
    public async Task Logs_without_lines_answer_400()
    {
        var run = await StartJobAsync();
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.BadRequest, "lines");
        Assert.Empty((await GetJobAsync(run.Id)).GetProperty("logs").EnumerateArray());
    }

    // ------------------------------------------------------------------ batch heartbeat

    [Fact]
    public async Task Batch_heartbeat_extends_every_current_lease_and_answers_per_item_in_order()
    {
        for (var i = 0; i < 3; i++) await EnqueueAsync("beats");
        var worker = await RegisterWorkerAsync(null, "beats");
        var jobs = await FetchAsync(worker, "beats", max: 3, leaseMs: 5_000);
        Assert.Equal(3, jobs.Length);
        await Admin.PostAsync($"/api/v1/jobs/{jobs[2].Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        var unknown = Guid.NewGuid().ToString();

        var results = await HeartbeatManyAsync(Admin, new object[]
        {
            new { id = jobs[0].Str("id"), lease_token = jobs[0].Str("lease_token") },
            new { id = jobs[1].Str("id"), lease_token = Guid.NewGuid().ToString() },
            new { id = jobs[2].Str("id"), lease_token = jobs[2].Str("lease_token") },
            new { id = jobs[1].Str("id"), lease_token = "not-a-token" },
            new { id = unknown, lease_token = Guid.NewGuid().ToString() },
        }, extendMs: 600_000);

        Assert.Equal([jobs[0].Str("id"), jobs[1].Str("id"), jobs[2].Str("id"), jobs[1].Str("id"), unknown], results.Select(r => r.Str("id")));
        Assert.Equal(["ok", "stale_lease", "ok", "stale_lease", "not_found"], results.Select(r => r.Str("status")));
        Assert.Equal([false, false, true, false, false], results.Select(r => r.GetProperty("cancel_requested").GetBoolean()));
        var extended = At(results[0], "lease_expires_at");
        Assert.True(extended > At(jobs[0], "lease_expires_at").AddMinutes(9), $"{extended:O} is not about ten minutes on");
        Assert.Equal(results[0].Str("lease_expires_at"), (await GetJobAsync(jobs[0].Str("id"))).Str("lease_expires_at"));
        Assert.Equal(results[2].Str("lease_expires_at"), (await GetJobAsync(jobs[2].Str("id"))).Str("lease_expires_at"));
        // The stale items extended nothing.
        Assert.Equal(jobs[1].Str("lease_expires_at"), (await GetJobAsync(jobs[1].Str("id"))).Str("lease_expires_at"));

        // Without extend_ms a lease gets its original length again.
        var again = Assert.Single(await HeartbeatManyAsync(Admin, new[] { new { id = jobs[1].Str("id"), lease_token = jobs[1].Str("lease_token") } }));
        Assert.Equal("ok", again.Str("status"));
        Assert.InRange(At(again, "lease_expires_at"), DateTimeOffset.UtcNow.AddSeconds(3), DateTimeOffset.UtcNow.AddSeconds(6));
    }

    [Fact]
    public async Task Batch_heartbeat_from_another_organization_finds_nothing_even_with_the_lease_token()
    {
        var run = await StartJobAsync(leaseMs: 5_000);
        var other = await OtherOrganizationAsync(Kairos.Core.Auth.ApiKeyScopes.Worker);

        var result = Assert.Single(await HeartbeatManyAsync(other, new[] { new { id = run.Id, lease_token = run.Token } }, 600_000));

        Assert.Equal("not_found", result.Str("status"));
        Assert.False(result.GetProperty("cancel_requested").GetBoolean());
        Assert.Equal(run.Fetched.Str("lease_expires_at"), (await GetJobAsync(run.Id)).Str("lease_expires_at"));
    }

    [Theory]
    [InlineData("""{}""", "leases")]
    [InlineData("""{"leases":[]}""", "leases")]
    [InlineData("""{"leases":[{"lease_token":"0190f000-0000-7000-8000-000000000001"}]}""", "leases[0].id")]
    [InlineData("""{"leases":[{"id":"0190f000-0000-7000-8000-000000000001"}]}""", "leases[0].lease_token")]
    [InlineData("""{"leases":[{"id":"0190f000-0000-7000-8000-000000000001","lease_token":"0190f000-0000-7000-8000-000000000001"}],"extend_ms":1}""", "extend_ms")]
    public async Task Batch_heartbeat_with_bad_fields_answers_400_naming_them(string body, string field)
    {
        await Admin.PostRawAsync("/api/v1/jobs/heartbeat", body).ExpectProblem(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Batch_heartbeat_of_more_than_1000_leases_answers_400()
    {
        var leases = Enumerable.Range(0, 1001).Select(_ => new { id = Guid.NewGuid(), lease_token = Guid.NewGuid() }).ToArray();
        await Admin.PostJsonAsync("/api/v1/jobs/heartbeat", new { leases }).ExpectProblem(HttpStatusCode.BadRequest, "leases");
    }

    [Fact]
    public async Task Batch_heartbeat_needs_the_worker_scope()
    {
        var run = await StartJobAsync();
        var reader = Client(await CreateKeyAsync("read"));
        await reader.PostJsonAsync("/api/v1/jobs/heartbeat", new { leases = new[] { new { id = run.Id, lease_token = run.Token } } })
            .ExpectProblem(HttpStatusCode.Forbidden);
    }

    // ------------------------------------------------------------------ stale and wrong lease tokens

    [Theory]
    [InlineData("random")]
    [InlineData("malformed")]
    [InlineData("previous")]
    public async Task A_wrong_lease_token_answers_409_for_ack_fail_heartbeat_and_logs_and_changes_nothing(string kind)
    {
        Leased run;
        string token;
        if (kind == "previous")
        {
            // The first lease ended (the worker failed it); the job runs again under a new lease.
            var first = await StartJobAsync();
            await Admin.PostJsonAsync($"/api/v1/jobs/{first.Id}/fail", new { lease_token = first.Token, error = new { message = "x" } })
                .Expect(HttpStatusCode.OK);
            await Admin.PostAsync($"/api/v1/jobs/{first.Id}/cancel", null).Expect(HttpStatusCode.OK);
            await Admin.PostAsync($"/api/v1/jobs/{first.Id}/retry", null).Expect(HttpStatusCode.OK);
            var again = Assert.Single(await FetchAsync(first.WorkerId));
            run = new Leased(first.Id, again.Str("lease_token"), first.WorkerId, again);
            token = first.Token;
        }
        else
        {
            run = await StartJobAsync();
            token = kind == "random" ? Guid.NewGuid().ToString() : "not-a-token";
        }
        var before = await GetJobAsync(run.Id);

        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = token, result = 1 }).ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = token, error = new { message = "x" }, retryable = false })
            .ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new { lease_token = token, extend_ms = 3_600_000, progress = new { percent = 99 } })
            .ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = token, lines = new[] { "intruder" } })
            .ExpectProblem(HttpStatusCode.Conflict);

        var after = await GetJobAsync(run.Id);
        Assert.Equal("running", after.Str("state"));
        Assert.Equal(before.Str("lease_expires_at"), after.Str("lease_expires_at"));
        Assert.Equal(before.GetProperty("attempt").GetInt32(), after.GetProperty("attempt").GetInt32());
        Assert.Equal(before.GetProperty("attempts").GetArrayLength(), after.GetProperty("attempts").GetArrayLength());
        Assert.True(after.IsNull("progress"));
        Assert.True(after.IsNull("result"));
        Assert.DoesNotContain(after.GetProperty("logs").EnumerateArray(), l => l.Str("line") == "intruder");
        // The batch heartbeat refuses the same token for its item and extends nothing.
        var beat = Assert.Single(await HeartbeatManyAsync(Admin, new[] { new { id = run.Id, lease_token = token } }, 3_600_000));
        Assert.Equal("stale_lease", beat.Str("status"));
        Assert.True(beat.IsNull("lease_expires_at"));
        Assert.Equal(before.Str("lease_expires_at"), (await GetJobAsync(run.Id)).Str("lease_expires_at"));

        // The right token still works.
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
    }

    // ------------------------------------------------------------------ batch

    [Fact]
    public async Task Batch_ack_answers_per_item_and_a_stale_item_spoils_nothing()
    {
        for (var i = 0; i < 4; i++) await EnqueueAsync("batch");
        var worker = await RegisterWorkerAsync(null, "batch");
        var jobs = await FetchAsync(worker, "batch", max: 4);
        Assert.Equal(4, jobs.Length);
        var stale = Guid.NewGuid().ToString();

        var answer = await Admin.PostJsonAsync("/api/v1/ack", new
        {
            acks = new object[]
            {
                new { id = jobs[0].Str("id"), lease_token = jobs[0].Str("lease_token"), result = new { n = 0 } },
                new { id = jobs[1].Str("id"), lease_token = stale },
                new { id = jobs[2].Str("id"), lease_token = jobs[2].Str("lease_token") },
            },
            fails = new object[]
            {
                new { id = jobs[3].Str("id"), lease_token = jobs[3].Str("lease_token"), error = new { message = "nope" }, retryable = false },
            },
        }).Expect(HttpStatusCode.OK);

        var results = answer.GetProperty("results").EnumerateArray().ToDictionary(r => r.Str("id"));
        Assert.Equal(4, results.Count);
        Assert.Equal("ok", results[jobs[0].Str("id")].Str("status"));
        Assert.Equal("stale_lease", results[jobs[1].Str("id")].Str("status"));
        Assert.Equal("ok", results[jobs[2].Str("id")].Str("status"));
        Assert.Equal("ok", results[jobs[3].Str("id")].Str("status"));
        Assert.Equal("failed", results[jobs[3].Str("id")].Str("state"));

        Assert.Equal("succeeded", (await GetJobAsync(jobs[0].Str("id"))).Str("state"));
        Assert.Equal(0, (await GetJobAsync(jobs[0].Str("id"))).GetProperty("result").GetProperty("n").GetInt32());
        Assert.Equal("running", (await GetJobAsync(jobs[1].Str("id"))).Str("state"));
        Assert.Equal("succeeded", (await GetJobAsync(jobs[2].Str("id"))).Str("state"));
        Assert.Equal("failed", (await GetJobAsync(jobs[3].Str("id"))).Str("state"));

        // The stale item's job still holds its real lease.
        await Admin.PostJsonAsync($"/api/v1/jobs/{jobs[1].Str("id")}/ack", new { lease_token = jobs[1].Str("lease_token") }).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Batch_ack_of_an_unknown_job_answers_not_found_for_it()
    {
        var run = await StartJobAsync();
        var unknown = Guid.NewGuid().ToString();
        var answer = await Admin.PostJsonAsync("/api/v1/ack", new
        {
            acks = new object[]
            {
                new { id = unknown, lease_token = Guid.NewGuid() },
                new { id = run.Id, lease_token = run.Token },
            },
        }).Expect(HttpStatusCode.OK);
        var results = answer.GetProperty("results").EnumerateArray().ToDictionary(r => r.Str("id"), r => r.Str("status"));
        Assert.Equal("not_found", results[unknown]);
        Assert.Equal("ok", results[run.Id]);
    }

    [Fact]
    public async Task Batch_ack_of_the_same_job_twice_applies_once()
    {
        var run = await StartJobAsync();
        var answer = await Admin.PostJsonAsync("/api/v1/ack", new
        {
            acks = new object[]
            {
                new { id = run.Id, lease_token = run.Token, result = 1 },
                new { id = run.Id, lease_token = run.Token, result = 2 },
            },
        }).Expect(HttpStatusCode.OK);
        var statuses = answer.GetProperty("results").EnumerateArray().Select(r => r.Str("status")).Order().ToArray();
        Assert.Equal(["ok", "stale_lease"], statuses);
        var job = await GetJobAsync(run.Id);
        Assert.Equal("succeeded", job.Str("state"));
        Assert.Equal(1, job.GetProperty("result").GetInt32());
        Assert.Single(job.GetProperty("attempts").EnumerateArray());
    }

    [Fact]
    public async Task Batch_ack_of_more_than_1000_items_answers_400()
    {
        var acks = Enumerable.Range(0, 1001).Select(_ => new { id = Guid.NewGuid(), lease_token = Guid.NewGuid() }).ToArray();
        await Admin.PostJsonAsync("/api/v1/ack", new { acks }).ExpectProblem(HttpStatusCode.BadRequest, "acks");
    }

    [Fact]
    public async Task Another_organization_cannot_finish_our_job_even_with_its_lease_token()
    {
        var run = await StartJobAsync();
        var otherKey = Kairos.Core.Auth.ApiKeySecrets.Generate();
        await Factory.Services.GetRequiredService<Kairos.Core.Storage.IKairosStore>().ApiKeys.CreateAsync(new Kairos.Core.Storage.CreateApiKeyParams(
            Guid.NewGuid(), "other", Kairos.Core.Auth.ApiKeySecrets.VisiblePrefix(otherKey), Kairos.Core.Auth.ApiKeySecrets.Hash(otherKey),
            Kairos.Core.Auth.ApiKeyScopes.Worker, null), CancellationToken.None);
        var other = Client(otherKey);

        await other.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.NotFound);
        await other.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "x" } }).ExpectProblem(HttpStatusCode.NotFound);
        await other.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new { lease_token = run.Token, progress = new { percent = 5 } }).ExpectProblem(HttpStatusCode.NotFound);
        await other.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = run.Token, lines = new[] { "x" } }).ExpectProblem(HttpStatusCode.NotFound);
        var batch = await other.PostJsonAsync("/api/v1/ack", new { acks = new[] { new { id = run.Id, lease_token = run.Token } } }).Expect(HttpStatusCode.OK);
        Assert.Equal("not_found", Assert.Single(batch.GetProperty("results").EnumerateArray()).Str("status"));
        await other.PostJsonAsync("/api/v1/fetch", new { worker_id = run.WorkerId, queues = new[] { "default" } }).ExpectProblem(HttpStatusCode.NotFound);
        await other.PostAsync($"/api/v1/workers/{run.WorkerId}/heartbeat", null).ExpectProblem(HttpStatusCode.NotFound);
        await other.DeleteAsync($"/api/v1/workers/{run.WorkerId}").ExpectProblem(HttpStatusCode.NotFound);

        var job = await GetJobAsync(run.Id);
        Assert.Equal("running", job.Str("state"));
        Assert.True(job.IsNull("progress"));
        Assert.Empty(job.GetProperty("logs").EnumerateArray());
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("""{}""", "acks")]
    [InlineData("""{"acks":[{"lease_token":"0190f000-0000-7000-8000-000000000001"}]}""", "acks[0].id")]
    [InlineData("""{"acks":[{"id":"0190f000-0000-7000-8000-000000000001"}]}""", "acks[0].lease_token")]
    [InlineData("""{"fails":[{"id":"0190f000-0000-7000-8000-000000000001","lease_token":"0190f000-0000-7000-8000-000000000001"}]}""", "fails[0].error")]
    public async Task Batch_ack_with_bad_items_answers_400_naming_them(string body, string field)
    {
        await Admin.PostRawAsync("/api/v1/ack", body).ExpectProblem(HttpStatusCode.BadRequest, field);
    }
}

/// <summary>Lease expiry on a fake clock, with the maintenance pass run by the test.</summary>
public sealed class LeaseExpiryTests() : ApiTest(fakeTime: true)
{
    private Task<MaintenancePass> RunMaintenanceAsync() =>
        Factory.Services.GetRequiredService<Dispatcher>().RunMaintenanceAsync(TimeSpan.FromHours(1), CancellationToken.None);

    [Fact]
    public async Task An_expired_lease_becomes_a_failed_attempt_and_the_job_retries()
    {
        var run = await StartJobAsync(leaseMs: 1_000);
        Time.Advance(TimeSpan.FromMilliseconds(500));
        await RunMaintenanceAsync();
        Assert.Equal("running", (await GetJobAsync(run.Id)).Str("state"));

        Time.Advance(TimeSpan.FromSeconds(2));
        await RunMaintenanceAsync();

        var job = await GetJobAsync(run.Id);
        Assert.Equal("retrying", job.Str("state"));
        var attempt = Assert.Single(job.GetProperty("attempts").EnumerateArray());
        Assert.Equal("lease expired", attempt.GetProperty("error").Str("message"));
        Assert.False(attempt.IsNull("finished_at"));
        Assert.Equal(run.WorkerId, attempt.Str("worker_id"));

        // The old lease is worth nothing now.
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/logs", new { lease_token = run.Token, lines = new[] { "late" } }).ExpectProblem(HttpStatusCode.Conflict);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/fail", new { lease_token = run.Token, error = new { message = "late" } }).ExpectProblem(HttpStatusCode.Conflict);
        var after = await GetJobAsync(run.Id);
        Assert.Equal("retrying", after.Str("state"));
        Assert.Single(after.GetProperty("attempts").EnumerateArray());
        Assert.Empty(after.GetProperty("logs").EnumerateArray());

        // When its retry comes, another lease runs it as attempt 2, and the old token cannot touch that one either.
        Time.Advance(TimeSpan.FromDays(1));
        await RunMaintenanceAsync();
        var again = Assert.Single(await FetchAsync(run.WorkerId));
        Assert.Equal(2, again.GetProperty("attempt").GetInt32());
        Assert.NotEqual(run.Token, again.Str("lease_token"));
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).ExpectProblem(HttpStatusCode.Conflict);
        Assert.Equal("running", (await GetJobAsync(run.Id)).Str("state"));
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = again.Str("lease_token") }).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_expired_lease_on_the_last_attempt_fails_the_job()
    {
        var run = await StartJobAsync(leaseMs: 1_000, extra: new { queue = "default", type = "t", max_attempts = 1 });
        Time.Advance(TimeSpan.FromSeconds(2));
        await RunMaintenanceAsync();
        var job = await GetJobAsync(run.Id);
        Assert.Equal("failed", job.Str("state"));
        Assert.Equal("lease expired", job.GetProperty("last_error").Str("message"));
    }

    [Fact]
    public async Task A_heartbeat_keeps_the_lease_from_expiring()
    {
        var run = await StartJobAsync(leaseMs: 1_000);
        Time.Advance(TimeSpan.FromMilliseconds(800));
        var beat = await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new { lease_token = run.Token, extend_ms = 10_000 }).Expect(HttpStatusCode.OK);
        Assert.Equal(Time.GetUtcNow().AddSeconds(10), DateTimeOffset.Parse(beat.Str("lease_expires_at"), CultureInfo.InvariantCulture));
        Time.Advance(TimeSpan.FromSeconds(5));
        await RunMaintenanceAsync();
        Assert.Equal("running", (await GetJobAsync(run.Id)).Str("state"));
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
    }
}
