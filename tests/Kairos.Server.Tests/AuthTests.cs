using System.Net;
using System.Net.Http.Headers;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>API keys and scopes: 401 without a valid key, 403 outside the key's scopes, API key management.</summary>
public sealed class AuthTests() : ApiTest(fakeTime: false)
{
    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", "/api/v1/jobs" },
        { "POST", "/api/v1/jobs" },
        { "POST", "/api/v1/jobs/bulk" },
        { "GET", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001" },
        { "POST", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001/cancel" },
        { "POST", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001/retry" },
        { "DELETE", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001" },
        { "POST", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001/ack" },
        { "POST", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001/fail" },
        { "POST", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001/heartbeat" },
        { "POST", "/api/v1/jobs/0190f000-0000-7000-8000-000000000001/logs" },
        { "POST", "/api/v1/fetch" },
        { "POST", "/api/v1/ack" },
        { "POST", "/api/v1/workers" },
        { "GET", "/api/v1/workers" },
        { "GET", "/api/v1/workers/0190f000-0000-7000-8000-000000000001" },
        { "POST", "/api/v1/workers/0190f000-0000-7000-8000-000000000001/heartbeat" },
        { "POST", "/api/v1/workers/0190f000-0000-7000-8000-000000000001/quiet" },
        { "DELETE", "/api/v1/workers/0190f000-0000-7000-8000-000000000001" },
        { "GET", "/api/v1/queues" },
        { "GET", "/api/v1/queues/q" },
        { "PUT", "/api/v1/queues/q" },
        { "POST", "/api/v1/queues/q/pause" },
        { "POST", "/api/v1/queues/q/purge" },
        { "DELETE", "/api/v1/queues/q" },
        { "GET", "/api/v1/stats" },
        { "GET", "/api/v1/events" },
        { "GET", "/api/v1/api-keys" },
        { "POST", "/api/v1/api-keys" },
    };

    private static HttpRequestMessage Request(string method, string url) =>
        new(new HttpMethod(method), url) { Content = method is "GET" or "DELETE" ? null : new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task No_key_answers_401_problem_json(string method, string url)
    {
        var anonymous = Client(null);
        using var request = Request(method, url);
        using var response = await anonymous.SendAsync(request);
        await response.ExpectProblem(HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Theory]
    [InlineData("Bearer kx_0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("Bearer not-even-a-key")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("kx_test_admin_6f1c2a9e0b3d4c5f8a7e")]
    public async Task A_wrong_key_answers_401(string authorization)
    {
        var client = Client(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/jobs");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await client.SendAsync(request);
        await response.ExpectProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_wrong_key_changes_nothing()
    {
        var wrong = Client(ApiKeySecrets.Generate());
        await wrong.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).ExpectProblem(HttpStatusCode.Unauthorized);
        Assert.Empty((await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
    }

    [Fact]
    public async Task A_revoked_key_answers_401()
    {
        var (id, key) = await CreateKeyWithIdAsync("read");
        var reader = Client(key);
        await reader.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);

        using (var revoked = await Admin.DeleteAsync($"/api/v1/api-keys/{id}"))
        {
            await revoked.Expect(HttpStatusCode.NoContent);
        }
        await reader.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Unauthorized);
        await Admin.DeleteAsync($"/api/v1/api-keys/{id}").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_expired_key_answers_401()
    {
        var key = ApiKeySecrets.Generate();
        await Factory.Services.GetRequiredService<IKairosStore>().ApiKeys.CreateAsync(new CreateApiKeyParams(
            Organizations.Default, "expired", ApiKeySecrets.VisiblePrefix(key), ApiKeySecrets.Hash(key), ApiKeyScopes.Admin,
            DateTimeOffset.UtcNow.AddMinutes(-1)), CancellationToken.None);
        await Client(key).GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_read_key_may_GET_and_nothing_else()
    {
        var job = await EnqueueAsync("r");
        var workerId = await RegisterWorkerAsync(null, "r");
        var reader = Client(await CreateKeyAsync("read"));

        await reader.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        await reader.GetAsync($"/api/v1/jobs/{job.Str("id")}").Expect(HttpStatusCode.OK);
        await reader.GetAsync("/api/v1/queues").Expect(HttpStatusCode.OK);
        await reader.GetAsync("/api/v1/queues/r").Expect(HttpStatusCode.OK);
        await reader.GetAsync("/api/v1/workers").Expect(HttpStatusCode.OK);
        await reader.GetAsync($"/api/v1/workers/{workerId}").Expect(HttpStatusCode.OK);
        await reader.GetAsync("/api/v1/stats").Expect(HttpStatusCode.OK);
        using (var events = await reader.GetAsync("/api/v1/events", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        }

        await reader.PostJsonAsync("/api/v1/jobs", new { queue = "r", type = "t" }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostJsonAsync("/api/v1/jobs/bulk", new { jobs = new[] { new { queue = "r", type = "t" } } }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostAsync($"/api/v1/jobs/{job.Str("id")}/cancel", null).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.DeleteAsync($"/api/v1/jobs/{job.Str("id")}").ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PutJsonAsync("/api/v1/queues/r", new { concurrency_limit = 1 }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostAsync("/api/v1/queues/r/pause", null).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostAsync("/api/v1/queues/r/purge", null).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostJsonAsync("/api/v1/workers", new { name = "sneaky" }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostJsonAsync("/api/v1/fetch", new { worker_id = workerId, queues = new[] { "r" } }).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostAsync($"/api/v1/workers/{workerId}/stop", null).ExpectProblem(HttpStatusCode.Forbidden);
        await reader.GetAsync("/api/v1/api-keys").ExpectProblem(HttpStatusCode.Forbidden);
        await reader.PostJsonAsync("/api/v1/api-keys", new { name = "escalate", scopes = new[] { "admin" } }).ExpectProblem(HttpStatusCode.Forbidden);

        // Nothing changed.
        Assert.Equal([job.Str("id")], (await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
        Assert.Equal("queued", (await GetJobAsync(job.Str("id"))).Str("state"));
        var q = await Admin.GetAsync("/api/v1/queues/r").Expect(HttpStatusCode.OK);
        Assert.False(q.GetProperty("paused").GetBoolean());
        Assert.True(q.IsNull("concurrency_limit"));
        Assert.Single((await Admin.GetAsync("/api/v1/workers").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Equal("active", (await Admin.GetAsync($"/api/v1/workers/{workerId}").Expect(HttpStatusCode.OK)).Str("state"));
    }

    [Fact]
    public async Task A_worker_key_may_use_the_worker_protocol_only()
    {
        var job = await EnqueueAsync("wq");
        var worker = Client(await CreateKeyAsync("worker"));

        var id = await RegisterWorkerAsync(worker, "wq");
        await worker.PostAsync($"/api/v1/workers/{id}/heartbeat", null).Expect(HttpStatusCode.OK);
        var fetched = Assert.Single(await FetchAsync(id, "wq", client: worker));
        Assert.Equal(job.Str("id"), fetched.Str("id"));
        var token = fetched.Str("lease_token");
        await worker.PostJsonAsync($"/api/v1/jobs/{job.Str("id")}/heartbeat", new { lease_token = token, progress = new { percent = 50 } }).Expect(HttpStatusCode.OK);
        await worker.PostJsonAsync($"/api/v1/jobs/{job.Str("id")}/logs", new { lease_token = token, lines = new[] { "hi" } }).Expect(HttpStatusCode.OK);
        await worker.PostJsonAsync($"/api/v1/jobs/{job.Str("id")}/ack", new { lease_token = token }).Expect(HttpStatusCode.OK);
        await worker.PostJsonAsync("/api/v1/ack", new { acks = new[] { new { id = job.Str("id"), lease_token = token } } }).Expect(HttpStatusCode.OK);

        await worker.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Forbidden);
        await worker.GetAsync($"/api/v1/jobs/{job.Str("id")}").ExpectProblem(HttpStatusCode.Forbidden);
        await worker.PostJsonAsync("/api/v1/jobs", new { queue = "wq", type = "t" }).ExpectProblem(HttpStatusCode.Forbidden);
        await worker.PostJsonAsync("/api/v1/jobs/bulk", new { jobs = new[] { new { queue = "wq", type = "t" } } }).ExpectProblem(HttpStatusCode.Forbidden);
        await worker.PostAsync($"/api/v1/jobs/{job.Str("id")}/retry", null).ExpectProblem(HttpStatusCode.Forbidden);
        await worker.GetAsync("/api/v1/queues").ExpectProblem(HttpStatusCode.Forbidden);
        await worker.PostAsync("/api/v1/queues/wq/pause", null).ExpectProblem(HttpStatusCode.Forbidden);
        await worker.GetAsync("/api/v1/workers").ExpectProblem(HttpStatusCode.Forbidden);
        await worker.PostAsync($"/api/v1/workers/{id}/quiet", null).ExpectProblem(HttpStatusCode.Forbidden);
        await worker.GetAsync("/api/v1/stats").ExpectProblem(HttpStatusCode.Forbidden);
        await worker.GetAsync("/api/v1/events").ExpectProblem(HttpStatusCode.Forbidden);
        await worker.GetAsync("/api/v1/api-keys").ExpectProblem(HttpStatusCode.Forbidden);

        Assert.Equal([job.Str("id")], (await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
        Assert.Equal("succeeded", (await GetJobAsync(job.Str("id"))).Str("state"));
        Assert.False((await Admin.GetAsync("/api/v1/queues/wq").Expect(HttpStatusCode.OK)).GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task A_key_with_read_and_worker_scopes_may_do_both()
    {
        var both = Client(await CreateKeyAsync("read", "worker"));
        var id = await RegisterWorkerAsync(both, "x");
        await both.GetAsync($"/api/v1/workers/{id}").Expect(HttpStatusCode.OK);
        await both.PostJsonAsync("/api/v1/jobs", new { queue = "x", type = "t" }).ExpectProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Api_keys_are_listed_without_their_secret()
    {
        var (id, key) = await CreateKeyWithIdAsync("worker");
        Assert.StartsWith("kx_", key, StringComparison.Ordinal);
        var list = await Admin.GetAsync("/api/v1/api-keys").Expect(HttpStatusCode.OK);
        var items = list.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(2, items.Length); // the bootstrap key and this one
        var mine = items.Single(k => k.Str("id") == id);
        Assert.Equal(["worker"], mine.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(ApiKeySecrets.VisiblePrefix(key), mine.Str("prefix"));
        Assert.False(mine.TryGetProperty("key", out _));
        Assert.DoesNotContain(key, list.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKeySecrets.Hash(key), list.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"scopes":["read"]}""", "name")]
    [InlineData("""{"name":"k"}""", "scopes")]
    [InlineData("""{"name":"k","scopes":[]}""", "scopes")]
    [InlineData("""{"name":"k","scopes":["root"]}""", "scopes")]
    [InlineData("""{"name":"k","scopes":["read"],"expires_at":"2001-01-01T00:00:00.000Z"}""", "expires_at")]
    public async Task Creating_a_key_with_bad_fields_answers_400(string body, string field)
    {
        await Admin.PostRawAsync("/api/v1/api-keys", body).ExpectProblem(HttpStatusCode.BadRequest, field);
        Assert.Single((await Admin.GetAsync("/api/v1/api-keys").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task The_bearer_scheme_is_case_insensitive()
    {
        var client = Client(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("bearer", KairosFactory.AdminKey);
        await client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
    }
}
