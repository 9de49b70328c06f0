using System.Net;
using System.Text.Json;

namespace Kairos.Server.Tests;

/// <summary>Stats, health probes, the OpenAPI document and reference page, request ids and problem answers in general.</summary>
public sealed class SystemApiTests() : ApiTest(fakeTime: false)
{
    [Fact]
    public async Task Stats_counts_jobs_per_state_and_queue_with_throughput_and_system_info()
    {
        var run = await StartJobAsync("s1");
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        await StartJobAsync("s1");
        await EnqueueAsync("s1");
        await EnqueueAsync("s2");
        await EnqueueAsync(new { queue = "s2", type = "t", delay_ms = 3_600_000 });

        var stats = await Admin.GetAsync("/api/v1/stats").Expect(HttpStatusCode.OK);
        var counts = stats.GetProperty("counts");
        foreach (var state in new[] { "pending", "scheduled", "queued", "running", "retrying", "succeeded", "failed", "cancelled" })
        {
            Assert.True(counts.TryGetProperty(state, out _), $"no count for {state}");
        }
        Assert.Equal(2, counts.GetProperty("queued").GetInt64());
        Assert.Equal(1, counts.GetProperty("running").GetInt64());
        Assert.Equal(1, counts.GetProperty("succeeded").GetInt64());
        Assert.Equal(1, counts.GetProperty("scheduled").GetInt64());
        Assert.Equal(0, counts.GetProperty("failed").GetInt64());

        var queues = stats.GetProperty("queues");
        Assert.Equal(1, queues.GetProperty("s1").GetProperty("queued").GetInt64());
        Assert.Equal(1, queues.GetProperty("s1").GetProperty("running").GetInt64());
        Assert.Equal(1, queues.GetProperty("s1").GetProperty("succeeded").GetInt64());
        Assert.Equal(1, queues.GetProperty("s2").GetProperty("queued").GetInt64());
        Assert.Equal(1, queues.GetProperty("s2").GetProperty("scheduled").GetInt64());
        Assert.Equal(1, stats.GetProperty("throughput_last_minute").GetInt64());

        var system = stats.GetProperty("system");
        Assert.False(string.IsNullOrEmpty(system.Str("version")));
        Assert.Equal("sqlite", system.Str("storage"));
        Assert.False(string.IsNullOrEmpty(system.Str("durability")));
        Assert.True(system.GetProperty("uptime_ms").GetInt64() >= 0);
        Assert.False(string.IsNullOrEmpty(system.Str("started_at")));
    }

    [Fact]
    public async Task Stats_of_an_empty_server_are_zero()
    {
        var stats = await Admin.GetAsync("/api/v1/stats").Expect(HttpStatusCode.OK);
        Assert.All(stats.GetProperty("counts").EnumerateObject(), c => Assert.Equal(0, c.Value.GetInt64()));
        Assert.Empty(stats.GetProperty("queues").EnumerateObject());
        Assert.Equal(0, stats.GetProperty("throughput_last_minute").GetInt64());
    }

    [Fact]
    public async Task Healthz_and_readyz_answer_without_a_key()
    {
        var anonymous = Client(null);
        var health = await anonymous.GetAsync("/healthz").Expect(HttpStatusCode.OK);
        Assert.Equal("ok", health.Str("status"));
        var ready = await anonymous.GetAsync("/readyz").Expect(HttpStatusCode.OK);
        Assert.Equal("ready", ready.Str("status"));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_api()
    {
        var doc = await Client(null).GetAsync("/openapi/v1.json").Expect(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Object, doc.ValueKind);
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/api/v1/jobs", "/api/v1/jobs/bulk", "/api/v1/jobs/{id}", "/api/v1/fetch", "/api/v1/ack", "/api/v1/queues", "/api/v1/workers", "/api/v1/stats", "/api/v1/events" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"the OpenAPI document has no {path}: {string.Join(", ", paths.EnumerateObject().Select(p => p.Name))}");
        }
        Assert.Equal("Kairos API", doc.GetProperty("info").Str("title"));
    }

    [Fact]
    public async Task The_reference_page_answers_200_after_redirects()
    {
        using var browser = Factory.CreateClient(); // follows redirects
        using var docs = await browser.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Equal("text/html", docs.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Kairos API", await docs.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Without a built console (-p:SkipWeb=true) / sends people to the reference; with one, / is the console (WebConsoleTests).
        using var root = await Client(null).GetAsync("/");
        if (Kairos.Server.Http.WebConsole.FindRoot() is null)
        {
            Assert.True((int)root.StatusCode is >= 300 and < 400, $"/ answered {(int)root.StatusCode}");
            Assert.EndsWith("/docs", root.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, root.StatusCode);
            Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Every_response_carries_an_X_Request_Id()
    {
        var anonymous = Client(null);
        var responses = new List<HttpResponseMessage>
        {
            await anonymous.GetAsync("/healthz"),
            await anonymous.GetAsync("/readyz"),
            await anonymous.GetAsync("/openapi/v1.json"),
            await anonymous.GetAsync("/api/v1/jobs"),
            await Client(await CreateKeyAsync("worker")).GetAsync("/api/v1/jobs"),
            await Admin.GetAsync("/api/v1/jobs"),
            await Admin.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }),
            await Admin.PostJsonAsync("/api/v1/jobs", new { queue = "q" }),
            await Admin.GetAsync("/api/v1/jobs/0190f000-0000-7000-8000-000000000001"),
            await Admin.DeleteAsync("/api/v1/queues/nowhere"),
            await Admin.GetAsync("/api/v1/no-such-endpoint"),
        };
        try
        {
            Assert.Equal(
                [200, 200, 200, 401, 403, 200, 201, 400, 404, 404, 404],
                responses.Select(r => (int)r.StatusCode));
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in responses)
            {
                Http.AssertRequestId(r);
                Assert.True(ids.Add(r.Headers.GetValues("X-Request-Id").Single()), "request ids repeat");
            }
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
    }

    [Fact]
    public async Task Binding_errors_carry_the_X_Request_Id_header()
    {
        using var notJson = await Admin.PostRawAsync("/api/v1/jobs", "this is not json");
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Http.AssertRequestId(notJson);
        using var wrongType = await Admin.PostRawAsync("/api/v1/jobs", """{"queue":"q","type":"t","priority":"high"}""");
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Http.AssertRequestId(wrongType);
        await Admin.PostRawAsync("/api/v1/jobs", """{"queue":"q","type":"t","priority":"high"}""").ExpectProblem(HttpStatusCode.BadRequest, "priority");
    }

    [Fact]
    public async Task An_incoming_request_id_is_echoed_and_a_bad_one_replaced()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/jobs/0190f000-0000-7000-8000-000000000001"))
        {
            request.Headers.Add("X-Request-Id", "trace-abc.123");
            using var response = await Admin.SendAsync(request);
            var problem = await response.ExpectProblem(HttpStatusCode.NotFound);
            Assert.Equal("trace-abc.123", response.Headers.GetValues("X-Request-Id").Single());
            Assert.Equal("trace-abc.123", problem.Str("request_id"));
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/healthz"))
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", "bad id with spaces");
            using var response = await Admin.SendAsync(request);
            Assert.NotEqual("bad id with spaces", response.Headers.GetValues("X-Request-Id").Single());
        }
    }

    [Fact]
    public async Task An_unknown_endpoint_answers_a_404_problem()
    {
        await Admin.GetAsync("/api/v1/no-such-endpoint").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_wrong_method_answers_a_405_problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/api/v1/jobs");
        using var response = await Admin.SendAsync(request);
        await response.ExpectProblem(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Every_list_takes_limit_and_cursor()
    {
        foreach (var q in new[] { "a", "b", "c" }) await EnqueueAsync(q);
        for (var i = 0; i < 3; i++) await RegisterWorkerAsync(null, "a");
        await CreateKeyAsync("read");
        await CreateKeyAsync("worker");
        foreach (var list in new[] { "/api/v1/queues", "/api/v1/workers", "/api/v1/api-keys" })
        {
            await Admin.GetAsync(list + "?limit=0").ExpectProblem(HttpStatusCode.BadRequest, "limit");
            await Admin.GetAsync(list + "?limit=501").ExpectProblem(HttpStatusCode.BadRequest, "limit");
            var seen = new List<string>();
            string? cursor = null;
            do
            {
                var page = await Admin.GetAsync(list + "?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))).Expect(HttpStatusCode.OK);
                var items = page.GetProperty("items").EnumerateArray().Select(x => x.TryGetProperty("id", out var id) ? id.GetString()! : x.Str("name")).ToArray();
                Assert.True(items.Length <= 2, $"{list}?limit=2 answered {items.Length} items");
                seen.AddRange(items);
                cursor = page.IsNull("next_cursor") ? null : page.Str("next_cursor");
            }
            while (cursor is not null);
            Assert.Equal(3, seen.Distinct().Count());
            Assert.Equal(3, seen.Count);
        }
    }

    [Fact]
    public async Task Problems_have_type_title_status_detail_and_request_id()
    {
        var problem = await Admin.GetAsync("/api/v1/jobs/0190f000-0000-7000-8000-000000000001").ExpectProblem(HttpStatusCode.NotFound);
        Assert.False(string.IsNullOrEmpty(problem.Str("type")));
        Assert.False(string.IsNullOrEmpty(problem.Str("detail")));
        var validation = await Admin.PostJsonAsync("/api/v1/jobs", new { type = "t" }).ExpectProblem(HttpStatusCode.BadRequest, "queue");
        Assert.False(string.IsNullOrEmpty(validation.Str("type")));
        Assert.Contains("queue", validation.Str("detail"), StringComparison.Ordinal);
    }
}
