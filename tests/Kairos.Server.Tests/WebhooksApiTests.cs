using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kairos.Core.Storage;
using Kairos.Core.Webhooks;
using Kairos.Server.Outbound;
using Kairos.Server.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>
/// Webhooks through the API on a fake clock: signed deliveries to a local fake receiver, run as jobs on Kairos' own
/// queue, retried with backoff, logged, redelivered; and the refusal of internal addresses.
/// </summary>
#pragma warning disable CA1001 // the receiver is disposed by IAsyncLifetime.DisposeAsync, which xUnit calls after every test
public sealed class WebhooksApiTests() : ApiTest(fakeTime: true, options: o => o with { OutboundAllowPrivate = true }), IAsyncLifetime
{
    private FakeReceiver _receiver = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        _receiver = await FakeReceiver.StartAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private Task<JsonElement> CreateAsync(params string[] events) =>
        Admin.PostJsonAsync("/api/v1/webhooks", new { url = _receiver.Url, description = "ops", event_types = events }).Expect(HttpStatusCode.Created);

    /// <summary>The documented algorithm, written out here on its own: HMAC-SHA256 keyed with the secret over "{t}.{body}", lowercase hex.</summary>
    private static bool VerifiesAsDocumented(string secret, string header, string body)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{parts["t"]}.{body}"));
        return Convert.ToHexStringLower(mac) == parts["v1"];
    }

    [Fact]
    public async Task A_delivery_is_signed_as_documented_and_the_secret_is_shown_only_once()
    {
        var created = await CreateAsync("job.enqueued");
        var secret = created.Str("secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var id = created.Str("id");
        Assert.DoesNotContain(secret, (await Admin.GetAsync($"/api/v1/webhooks/{id}").Expect(HttpStatusCode.OK)).ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, (await Admin.GetAsync("/api/v1/webhooks").Expect(HttpStatusCode.OK)).ToString(), StringComparison.Ordinal);
        // Stored encrypted: the database holds the endpoint, not its secret.
        var stored = DatabaseText();
        Assert.Contains(_receiver.Url, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(secret["whsec_".Length..], stored, StringComparison.Ordinal);

        var job = await EnqueueAsync("mail");
        var got = Assert.Single(await _receiver.WaitForAsync(1));
        Assert.True(VerifiesAsDocumented(secret, got.Header("Kairos-Signature"), got.Body), got.Header("Kairos-Signature"));
        Assert.Equal(Time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            got.Header("Kairos-Signature").Split(',')[0]["t=".Length..]);
        Assert.False(VerifiesAsDocumented("whsec_wrong", got.Header("Kairos-Signature"), got.Body));
        Assert.False(VerifiesAsDocumented(secret, got.Header("Kairos-Signature"), got.Body.Replace("mail", "evil", StringComparison.Ordinal)));
        var body = JsonDocument.Parse(got.Body).RootElement;
        Assert.Equal("job.enqueued", body.Str("type"));
        Assert.StartsWith("evt_", body.Str("id"), StringComparison.Ordinal);
        Assert.Equal(body.Str("id"), got.Header("Kairos-Event-Id"));
        Assert.Equal(Kairos.Core.Auth.Organizations.Default.ToString(), body.Str("organization_id"));
        Assert.Equal(job.Str("id"), body.GetProperty("data").Str("job_id"));
        Assert.Equal("application/json; charset=utf-8", got.Header("Content-Type"));

        // The delivery log: the request's headers, the status, the answer's start; the delivery's own job is not an event for the endpoint.
        var deliveries = (await Admin.GetAsync($"/api/v1/webhooks/{id}/deliveries").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        var delivery = Assert.Single(deliveries);
        var full = await WaitForDeliveryAsync(id, delivery.Str("id"), "succeeded");
        var attempt = Assert.Single(full.GetProperty("attempt_log").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("status").GetInt32());
        Assert.Equal("ok", attempt.Str("response"));
        Assert.Contains("Kairos-Signature: t=", attempt.Str("request_headers"), StringComparison.Ordinal);
        Assert.Equal(body.Str("id"), full.Str("event_id"));
        Assert.Equal("mail", full.GetProperty("body").GetProperty("data").Str("queue"));
    }

    [Fact]
    public async Task A_receiver_that_fails_three_times_then_succeeds_gets_the_event_once_acknowledged()
    {
        _receiver.Status = n => n <= 3 ? 500 : 204;
        var id = (await CreateAsync("job.*")).Str("id");
        await EnqueueAsync("billing");
        for (var n = 1; n <= 4; n++)
        {
            // Each failure schedules the next attempt minutes later (1, 2, 4 min): move the clock on until it comes.
            using var deadline = Deadline();
            while (_receiver.Received.Count < n)
            {
                deadline.Token.ThrowIfCancellationRequested();
                if (n > 1) Time.Advance(TimeSpan.FromMinutes(1));
                try { await _receiver.WaitForAsync(n, seconds: 1); } catch (Xunit.Sdk.FailException) { }
            }
        }
        var got = await _receiver.WaitForAsync(4);
        Assert.Single(got.Select(r => JsonDocument.Parse(r.Body).RootElement.Str("id")).Distinct());
        Assert.Equal(got[0].Body, got[3].Body);
        Assert.Equal(["1", "2", "3", "4"], got.Select(r => r.Header("Kairos-Delivery-Attempt")));

        var delivery = Assert.Single((await Admin.GetAsync($"/api/v1/webhooks/{id}/deliveries").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        var full = await WaitForDeliveryAsync(id, delivery.Str("id"), "succeeded");
        Assert.Equal([500, 500, 500, 204], full.GetProperty("attempt_log").EnumerateArray().Select(a => a.GetProperty("status").GetInt32()));
        // Acknowledged: its job succeeded, so nothing runs it again.
        var job = await GetJobAsync(full.Str("job_id"));
        Assert.Equal("succeeded", job.Str("state"));
        Assert.Equal("kairos.webhooks", job.Str("queue"));
        Assert.Equal(4, job.GetProperty("attempt").GetInt32());
        Assert.Null((await Admin.GetAsync($"/api/v1/webhooks/{id}").Expect(HttpStatusCode.OK)).GetProperty("failing_since").GetString());
    }

    [Fact]
    public async Task Test_events_and_redeliveries_are_logged_and_an_endpoint_failing_for_three_days_is_disabled()
    {
        _receiver.Status = _ => 503;
        await using var owners = await FakeReceiver.StartAsync();
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "ops-slack", kind = "slack", config = new { url = owners.Url } }).Expect(HttpStatusCode.Created);
        var id = (await CreateAsync("queue.paused")).Str("id");
        var test = await Admin.PostAsync($"/api/v1/webhooks/{id}/test", null).Expect(HttpStatusCode.Accepted);
        Assert.Equal("webhook.test", test.Str("event_type"));
        Assert.Equal("webhook.test", JsonDocument.Parse(Assert.Single(await _receiver.WaitForAsync(1)).Body).RootElement.Str("type"));
        var pending = await WaitForDeliveryAsync(id, test.Str("id"), "pending", attempts: 1);
        Assert.Equal(503, pending.GetProperty("last_status").GetInt32());
        await Admin.PostAsync($"/api/v1/webhooks/{id}/deliveries/{test.Str("id")}/redeliver", null).ExpectProblem(HttpStatusCode.Conflict);
        Assert.NotNull((await Admin.GetAsync($"/api/v1/webhooks/{id}").Expect(HttpStatusCode.OK)).GetProperty("failing_since").GetString());

        // Three days of failures later, the next failed attempt disables the endpoint.
        Time.Advance(TimeSpan.FromDays(3));
        using (var deadline = Deadline())
        {
            while ((await Admin.GetAsync($"/api/v1/webhooks/{id}").Expect(HttpStatusCode.OK)).GetProperty("enabled").GetBoolean())
            {
                await Task.Delay(20, deadline.Token); // polls the condition, bounded by the deadline
            }
        }
        Assert.Equal(2, _receiver.Received.Count);
        var disabled = await Admin.GetAsync($"/api/v1/webhooks/{id}").Expect(HttpStatusCode.OK);
        Assert.Contains("3 days", disabled.Str("disabled_reason"), StringComparison.Ordinal);
        // Its owners hear of it once, on every alert channel of the organization.
        var notice = JsonDocument.Parse(Assert.Single(await owners.WaitForAsync(1)).Body).RootElement;
        Assert.Equal($"[FIRING] Webhook endpoint {_receiver.Url} was disabled", notice.Str("text"));
        Assert.Contains($"PATCH /api/v1/webhooks/{id}", notice.ToString(), StringComparison.Ordinal);
        await Admin.PostAsync($"/api/v1/webhooks/{id}/test", null).ExpectProblem(HttpStatusCode.Conflict);

        // Enabled again and answering: the test event's next attempt goes through; a redelivery sends the same event again.
        _receiver.Status = _ => 200;
        await Admin.PatchJsonAsync($"/api/v1/webhooks/{id}", new { enabled = true }).Expect(HttpStatusCode.OK);
        var before = _receiver.Received.Count;
        Time.Advance(TimeSpan.FromMinutes(5));
        await _receiver.WaitForAsync(before + 1);
        var delivered = await WaitForDeliveryAsync(id, test.Str("id"), "succeeded");
        await Admin.PostAsync($"/api/v1/webhooks/{id}/deliveries/{test.Str("id")}/redeliver", null).Expect(HttpStatusCode.Accepted);
        var again = (await _receiver.WaitForAsync(before + 2))[before + 1];
        Assert.Equal(test.Str("event_id"), JsonDocument.Parse(again.Body).RootElement.Str("id"));
        var done = await WaitForDeliveryAsync(id, test.Str("id"), "succeeded", attempts: delivered.GetProperty("attempts").GetInt32() + 1);
        Assert.Equal(200, done.GetProperty("last_status").GetInt32());
    }

    [Fact]
    public async Task A_receiver_that_always_fails_is_retried_with_doubling_waits_for_about_a_day_then_the_delivery_fails()
    {
        _receiver.Status = _ => 500;
        var id = (await CreateAsync("job.enqueued")).Str("id");
        await EnqueueAsync("billing");
        await _receiver.WaitForAsync(1);
        var delivery = Assert.Single((await Admin.GetAsync($"/api/v1/webhooks/{id}/deliveries").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        var job = (await WaitForDeliveryAsync(id, delivery.Str("id"), "pending", attempts: 1)).Str("job_id");
        using var deadline = Deadline(60);
        for (var n = 1; n < WebhookRetry.MaxAttempts; n++)
        {
            // Attempt n failed and its job waits for the next: move the clock to exactly then.
            while (await GetJobAsync(job) is var j && (j.Str("state") != "retrying" || j.GetProperty("attempt").GetInt32() != n))
            {
                await Task.Delay(10, deadline.Token); // polls the job (the condition), bounded by the deadline
            }
            Time.Advance(WebhookRetry.Delay(n));
            await _receiver.WaitForAsync(n + 1);
        }
        var failed = await WaitForDeliveryAsync(id, delivery.Str("id"), "failed", attempts: WebhookRetry.MaxAttempts);
        var at = failed.GetProperty("attempt_log").EnumerateArray().Select(a => a.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Equal(14, at.Count);
        var waits = at.Zip(at.Skip(1), (a, b) => (b - a).TotalMinutes).ToList();
        Assert.Equal(new double[] { 1, 2, 4, 8, 16, 32, 64, 128, 240, 240, 240, 240, 240 }, waits);
        Assert.InRange((at[^1] - at[0]).TotalHours, 23, 25);
        Assert.Equal("failed", (await GetJobAsync(job)).Str("state"));
        Assert.Equal(WebhookRetry.MaxAttempts, _receiver.Received.Count);

        // A day of failures is not three: the endpoint stays enabled, failing since the first attempt.
        var endpoint = await Admin.GetAsync($"/api/v1/webhooks/{id}").Expect(HttpStatusCode.OK);
        Assert.True(endpoint.GetProperty("enabled").GetBoolean());
        Assert.Equal(at[0], endpoint.GetProperty("failing_since").GetDateTimeOffset());
    }

    /// <summary>Enqueues a job (an event for the endpoint) and waits until its delivery failed its first attempt and waits for the next; answers the delivery.</summary>
    private async Task<JsonElement> FailedOnceAsync(string webhook, string queue)
    {
        async Task<List<JsonElement>> DeliveriesAsync() =>
            [.. (await Admin.GetAsync($"/api/v1/webhooks/{webhook}/deliveries").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray()];
        // The deliveries made before, by id: the fake clock stands still, so "newest first" cannot tell the new one apart.
        var earlier = (await DeliveriesAsync()).Select(d => d.Str("id")).ToHashSet();
        var before = _receiver.Received.Count;
        await EnqueueAsync(queue);
        await _receiver.WaitForAsync(before + 1);
        using var deadline = Deadline();
        while (true)
        {
            var delivery = (await DeliveriesAsync()).SingleOrDefault(d => !earlier.Contains(d.Str("id")));
            if (delivery.ValueKind == JsonValueKind.Object && delivery.GetProperty("attempts").GetInt32() == 1 && delivery.Str("job_id") is var job
                && (await GetJobAsync(job)).Str("state") == "retrying") return delivery;
            await Task.Delay(10, deadline.Token); // polls the condition, bounded by the deadline
        }
    }

    [Fact]
    public async Task A_delivery_whose_job_vanished_is_enqueued_again_and_delivered_once_and_one_whose_job_was_cancelled_fails()
    {
        _receiver.Status = n => n <= 2 ? 500 : 200;
        var id = (await CreateAsync("job.enqueued")).Str("id");
        var store = Factory.Services.GetRequiredService<IKairosStore>();
        var org = Kairos.Core.Auth.Organizations.Default;

        // A delivery whose job a user deleted while it waited for its second attempt; one whose job was cancelled.
        var deleted = await FailedOnceAsync(id, "billing");
        await Admin.DeleteAsync($"/api/v1/jobs/{deleted.Str("job_id")}").Expect(HttpStatusCode.NoContent);
        var cancelled = await FailedOnceAsync(id, "invoices");
        await Admin.PostAsync($"/api/v1/jobs/{cancelled.Str("job_id")}/cancel", null).Expect(HttpStatusCode.OK);

        // And one the node made but stopped before it made its job.
        var unlinked = await store.Webhooks.CreateDeliveryAsync(new CreateDeliveryParams(org, Guid.Parse(id), "evt_unlinked", "job.enqueued",
            WebhookService.Envelope("evt_unlinked", "job.enqueued", Time.GetUtcNow(), org, new { job_id = "x" })), CancellationToken.None);

        // The deliverer's next look (every 30 s) finds all three unchanged for over a minute: the first and the last get
        // a new job each, the cancelled one fails without another attempt.
        Time.Advance(TimeSpan.FromMinutes(2));
        var again = await WaitForDeliveryAsync(id, deleted.Str("id"), "succeeded", attempts: 2);
        Assert.NotEqual(deleted.Str("job_id"), again.Str("job_id"));
        var made = await WaitForDeliveryAsync(id, unlinked.Id.ToString(), "succeeded");
        Assert.Equal("succeeded", (await GetJobAsync(made.Str("job_id"))).Str("state"));
        var failed = await WaitForDeliveryAsync(id, cancelled.Str("id"), "failed");
        Assert.Equal(1, failed.GetProperty("attempts").GetInt32());
        Assert.Equal(cancelled.Str("job_id"), failed.Str("job_id"));
        var got = await _receiver.WaitForAsync(4);
        Assert.Single(got, r => r.Header("Kairos-Event-Id") == "evt_unlinked");
        Assert.Equal(2, got.Count(r => r.Header("Kairos-Event-Id") == deleted.Str("event_id")));
        Assert.Single(got, r => r.Header("Kairos-Event-Id") == cancelled.Str("event_id"));
        Assert.Empty(await store.Webhooks.ListOrphanDeliveriesAsync(new OrphanDeliveriesParams(Time.GetUtcNow()), CancellationToken.None));
    }

    [Fact]
    public async Task A_huge_answer_is_read_up_to_the_cap_and_only_its_start_is_logged()
    {
        _receiver.Answer = _ => new string('x', 1_000_000);
        var id = (await CreateAsync("job.failed")).Str("id");
        var test = await Admin.PostAsync($"/api/v1/webhooks/{id}/test", null).Expect(HttpStatusCode.Accepted);
        var delivered = await WaitForDeliveryAsync(id, test.Str("id"), "succeeded");
        var attempt = Assert.Single(delivered.GetProperty("attempt_log").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("status").GetInt32());
        Assert.Equal(new string('x', 1024), attempt.Str("response"));
    }

    [Fact]
    public async Task Bad_webhooks_are_refused_naming_the_field()
    {
        await Admin.PostJsonAsync("/api/v1/webhooks", new { url = "ftp://example.com/x", event_types = new[] { "job.failed" } }).ExpectProblem(HttpStatusCode.BadRequest, "url");
        await Admin.PostJsonAsync("/api/v1/webhooks", new { url = "https://example.com/x", event_types = new[] { "Job Failed" } }).ExpectProblem(HttpStatusCode.BadRequest, "event_types");
        await Admin.PostJsonAsync("/api/v1/webhooks", new { url = "https://example.com/x" }).ExpectProblem(HttpStatusCode.BadRequest, "event_types");
        Assert.Empty((await Admin.GetAsync("/api/v1/webhooks").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        await Admin.GetAsync($"/api/v1/webhooks/{Guid.NewGuid()}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync("/api/v1/webhooks/not-an-id").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PatchJsonAsync($"/api/v1/webhooks/{Guid.NewGuid()}", new { enabled = false }).ExpectProblem(HttpStatusCode.NotFound);
        var id = (await CreateAsync("job.failed")).Str("id");
        await Admin.GetAsync($"/api/v1/webhooks/{id}/deliveries/{Guid.NewGuid()}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PatchJsonAsync($"/api/v1/webhooks/{id}", new { url = "nope" }).ExpectProblem(HttpStatusCode.BadRequest, "url");
        var reader = Client(await CreateKeyAsync("read"));
        await reader.GetAsync("/api/v1/webhooks").ExpectProblem(HttpStatusCode.Forbidden);
    }

    private async Task<JsonElement> WaitForDeliveryAsync(string webhook, string delivery, string state, int attempts = 1)
    {
        using var deadline = Deadline();
        while (true)
        {
            var d = await Admin.GetAsync($"/api/v1/webhooks/{webhook}/deliveries/{delivery}").Expect(HttpStatusCode.OK);
            if (d.Str("state") == state && d.GetProperty("attempts").GetInt32() >= attempts) return d;
            await Task.Delay(20, deadline.Token); // polls the answer (the condition), bounded by the deadline
        }
    }
}
#pragma warning restore CA1001

/// <summary>The refusal of internal addresses, on a server with the default settings.</summary>
public sealed class OutboundRefusalTests : ApiTest
{
    [Fact]
    public async Task Outbound_calls_to_internal_addresses_are_refused_unless_the_server_allows_them()
    {
        await using var receiver = await FakeReceiver.StartAsync();
        await Admin.PostJsonAsync("/api/v1/webhooks", new { url = receiver.Url, event_types = new[] { "job.failed" } }).ExpectProblem(HttpStatusCode.BadRequest, "url");
        await Admin.PostJsonAsync("/api/v1/webhooks", new { url = "http://169.254.169.254/latest/meta-data", event_types = new[] { "job.failed" } })
            .ExpectProblem(HttpStatusCode.BadRequest, "url");
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "s", kind = "slack", config = new { url = "http://localhost:9/x" } })
            .ExpectProblem(HttpStatusCode.BadRequest, "config.url");
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "p", kind = "pagerduty", config = new { routing_key = "k", events_url = "http://[::1]:9/x" } })
            .ExpectProblem(HttpStatusCode.BadRequest, "config.events_url");

        // At call time the address actually connected to is checked (a public-looking name can resolve inside).
        using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new StringContent("{}") };
        using var outbound = new OutboundHttp(new ServerOptions(), TimeProvider.System);
        var refused = await outbound.SendAsync(request, CancellationToken.None);
        Assert.Null(refused.Status);
        Assert.StartsWith("refused:", refused.Error, StringComparison.Ordinal);
        Assert.Empty(receiver.Received);

        using var allowedRequest = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new StringContent("{}") };
        using var allowing = new OutboundHttp(new ServerOptions { OutboundAllowPrivate = true }, TimeProvider.System);
        Assert.Equal(200, (await allowing.SendAsync(allowedRequest, CancellationToken.None)).Status);
        Assert.Single(receiver.Received);

        foreach (var inside in new[] { "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1" })
        {
            Assert.True(OutboundHttp.IsInternal(IPAddress.Parse(inside)), inside);
        }
        foreach (var outside in new[] { "93.184.216.34", "8.8.8.8", "2606:4700::1111" })
        {
            Assert.False(OutboundHttp.IsInternal(IPAddress.Parse(outside)), outside);
        }
    }
}

/// <summary>The limits of every outbound call: at most <see cref="OutboundHttp.MaxResponseBytes"/> of an answer, and a timeout.</summary>
public sealed class OutboundLimitsTests
{
    [Fact]
    public async Task An_answer_is_read_up_to_the_cap_and_a_receiver_that_does_not_answer_times_out()
    {
        await using var receiver = await FakeReceiver.StartAsync();
        // The big answer gets a timeout a loaded machine cannot reach; the held call a short one.
        using var patient = new OutboundHttp(new ServerOptions { OutboundAllowPrivate = true, OutboundTimeout = TimeSpan.FromSeconds(60) }, TimeProvider.System);
        using var outbound = new OutboundHttp(new ServerOptions { OutboundAllowPrivate = true, OutboundTimeout = TimeSpan.FromMilliseconds(500) }, TimeProvider.System);
        HttpRequestMessage Post() => new(HttpMethod.Post, receiver.Url) { Content = new StringContent("{}") };

        receiver.Answer = _ => new string('y', 5_000_000);
        using (var request = Post())
        {
            var big = await patient.SendAsync(request, CancellationToken.None);
            Assert.Equal(200, big.Status);
            Assert.Equal(OutboundHttp.MaxResponseBytes, big.Body!.Length);
        }

        // Held without an answer: the call gives up after its timeout.
        var release = new TaskCompletionSource();
        receiver.Hold = release.Task;
        using (var request = Post())
        {
            var slow = await outbound.SendAsync(request, CancellationToken.None);
            Assert.Null(slow.Status);
            Assert.Equal("timed out after 0.5 s", slow.Error);
            Assert.False(slow.Succeeded);
        }
        release.SetResult();
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_is_no_success()
    {
        // A receiver that answers 302 to another: following it would reach an address the first check never saw.
        await using var first = await FakeReceiver.StartAsync();
        await using var second = await FakeReceiver.StartAsync();
        first.Status = _ => 302;
        first.Location = second.Url;
        using var outbound = new OutboundHttp(new ServerOptions { OutboundAllowPrivate = true }, TimeProvider.System);
        using var request = new HttpRequestMessage(HttpMethod.Post, first.Url) { Content = new StringContent("{}") };
        var result = await outbound.SendAsync(request, CancellationToken.None);
        Assert.Equal(302, result.Status);
        Assert.False(result.Succeeded);
        Assert.Single(first.Received);
        Assert.Empty(second.Received);
    }
}
