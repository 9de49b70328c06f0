using System.Net;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Server.Audit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>The audit log: what writes an entry (and what does not), what an entry holds, reading it, and that it cannot be changed.</summary>
public sealed class AuditTests() : IdentityTest(fakeTime: true)
{
    private const string BootstrapKeyName = "bootstrap admin (KAIROS_ADMIN_API_KEY) (kx_test_adm)";

    /// <summary>Sends <paramref name="request"/> with the X-Request-Id <paramref name="requestId"/>.</summary>
    private static async Task<HttpResponseMessage> WithId(HttpClient client, HttpMethod method, string url, string requestId, object? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Request-Id", requestId);
        if (body is not null) request.Content = System.Net.Http.Json.JsonContent.Create(body, options: Http.BodyOptions);
        return await client.SendAsync(request);
    }

    private static async Task<JsonElement[]> EntriesAsync(HttpClient client, string query = "")
    {
        var list = await client.GetAsync("/api/v1/audit" + query).Expect(HttpStatusCode.OK);
        return [.. list.GetProperty("items").EnumerateArray()];
    }

    private static JsonElement Only(JsonElement[] entries, string action) =>
        Assert.Single(entries, e => e.Str("action") == action);

    [Fact]
    public async Task Management_actions_leave_entries_with_actor_target_address_and_request_id()
    {
        var owner = await SetupAsync();
        var job = await EnqueueAsync("mail");
        var setup = Only(await EntriesAsync(owner.Client), "auth.setup");
        Assert.Equal(owner.UserId, setup.Str("actor_id"));
        Assert.Equal(OwnerEmail, setup.Str("actor_name"));
        Assert.Equal(201, setup.GetProperty("status").GetInt32());

        // A queue paused by a signed-in user.
        using (var paused = await WithId(owner.Client, HttpMethod.Post, "/api/v1/queues/mail/pause", "pause-mail-1", new { reason = "deploy" }))
        {
            await paused.Expect(HttpStatusCode.OK);
        }
        var pause = Only(await EntriesAsync(owner.Client), "queue.pause");
        Assert.Equal("user", pause.Str("actor_type"));
        Assert.Equal(owner.UserId, pause.Str("actor_id"));
        Assert.Equal(OwnerEmail, pause.Str("actor_name"));
        Assert.Equal("queue", pause.Str("target_type"));
        Assert.Equal("mail", pause.Str("target_id"));
        Assert.Equal(KairosFactory.ClientIp, pause.Str("ip"));
        Assert.Equal("pause-mail-1", pause.Str("request_id"));
        Assert.Equal(200, pause.GetProperty("status").GetInt32());
        Assert.Equal(Organizations.Default.ToString(), pause.Str("organization_id"));
        Assert.Equal(Time.GetUtcNow(), pause.GetProperty("time").GetDateTimeOffset());
        Assert.Equal(pause.ToString(), (await owner.Client.GetAsync($"/api/v1/audit/{pause.Str("id")}").Expect(HttpStatusCode.OK)).ToString());

        // A job cancelled and retried with an API key; enqueueing it left no entry.
        await Admin.PostAsync($"/api/v1/jobs/{job.Str("id")}/cancel", null).Expect(HttpStatusCode.OK);
        using (var retried = await WithId(Admin, HttpMethod.Post, $"/api/v1/jobs/{job.Str("id")}/retry", "retry-1"))
        {
            await retried.Expect(HttpStatusCode.OK);
        }
        var entries = await EntriesAsync(owner.Client);
        var retry = Only(entries, "job.retry");
        Assert.Equal("api_key", retry.Str("actor_type"));
        Assert.Equal(BootstrapKeyName, retry.Str("actor_name"));
        Assert.Equal("job", retry.Str("target_type"));
        Assert.Equal(job.Str("id"), retry.Str("target_id"));
        Assert.Equal("retry-1", retry.Str("request_id"));
        Assert.Equal(job.Str("id"), Only(entries, "job.cancel").Str("target_id"));

        // A key created and revoked: its id and scopes are recorded, the key itself nowhere.
        var created = await owner.Client.PostJsonAsync("/api/v1/api-keys", new { name = "deploy", scopes = new[] { "read", "worker" } }).Expect(HttpStatusCode.Created);
        using (var revoked = await owner.Client.DeleteAsync($"/api/v1/api-keys/{created.Str("id")}"))
        {
            await revoked.Expect(HttpStatusCode.NoContent);
        }
        entries = await EntriesAsync(owner.Client);
        var keyCreated = Only(entries, "api_key.create");
        Assert.Equal("api_key", keyCreated.Str("target_type"));
        Assert.Equal(created.Str("id"), keyCreated.Str("target_id"));
        Assert.Equal(201, keyCreated.GetProperty("status").GetInt32());
        Assert.Equal("deploy", keyCreated.GetProperty("details").Str("name"));
        Assert.Equal(["worker", "read"], keyCreated.GetProperty("details").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        var keyRevoked = Only(entries, "api_key.revoke");
        Assert.Equal(created.Str("id"), keyRevoked.Str("target_id"));
        Assert.Equal(204, keyRevoked.GetProperty("status").GetInt32());
        var log = (await owner.Client.GetAsync("/api/v1/audit?limit=500").Expect(HttpStatusCode.OK)).ToString();
        Assert.DoesNotContain(created.Str("key"), log, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKeySecrets.Hash(created.Str("key")), log, StringComparison.Ordinal);

        // A member's role changed, and a change refused: both recorded, with the outcome.
        var member = await MemberAsync(owner, "mia@example.com", "member");
        await owner.Client.PatchJsonAsync($"/api/v1/members/{member.UserId}", new { role = "viewer" }).Expect(HttpStatusCode.OK);
        await Admin.PatchJsonAsync($"/api/v1/members/{member.UserId}", new { role = "owner" }).ExpectProblem(HttpStatusCode.Forbidden);
        entries = await EntriesAsync(owner.Client, "?action=member.role_change");
        Assert.Equal(2, entries.Length);
        Assert.Equal(403, entries[0].GetProperty("status").GetInt32());
        Assert.Equal("owner", entries[0].GetProperty("details").Str("role"));
        Assert.Equal(200, entries[1].GetProperty("status").GetInt32());
        Assert.Equal("member", entries[1].Str("target_type"));
        Assert.Equal(member.UserId, entries[1].Str("target_id"));
        Assert.Equal("viewer", entries[1].GetProperty("details").Str("role"));
        Assert.Equal(owner.UserId, entries[1].Str("actor_id"));
        var accepted = Only(await EntriesAsync(owner.Client), "invite.accept");
        Assert.Equal(member.UserId, accepted.Str("actor_id"));
        Assert.Equal("mia@example.com", accepted.Str("actor_name"));

        // The data plane leaves no entry: enqueue, and the whole worker protocol.
        var run = await StartJobAsync("plane");
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        var actions = (await EntriesAsync(owner.Client, "?limit=500")).Select(e => e.Str("action")).ToHashSet();
        Assert.Equal(["api_key.create", "api_key.revoke", "auth.setup", "invite.accept", "invite.create", "job.cancel", "job.retry", "member.role_change", "queue.pause"],
            actions.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Sign_ins_and_failed_sign_ins_are_recorded_without_the_password()
    {
        var owner = await SetupAsync();
        await LoginAsync(OwnerEmail);
        const string wrong = "not-the-password-9e1c";
        using (var failed = await WithId(Bare(), HttpMethod.Post, "/api/v1/auth/login", "bad-login-1", new { email = " OLGA@example.com", password = wrong }))
        {
            await failed.ExpectProblem(HttpStatusCode.Unauthorized);
        }
        await Bare().PostJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = wrong }).ExpectProblem(HttpStatusCode.Unauthorized);
        await owner.Client.PostAsync("/api/v1/auth/logout", null).Expect(HttpStatusCode.NoContent);

        var admin = Admin;
        var entries = await EntriesAsync(admin, "?action=auth.*");
        Assert.Equal(["auth.logout", "auth.login_failed", "auth.login", "auth.setup"], entries.Select(e => e.Str("action")));
        var login = entries[2];
        Assert.Equal(owner.UserId, login.Str("actor_id"));
        Assert.Equal("user", login.Str("target_type"));
        Assert.Equal(owner.UserId, login.Str("target_id"));
        var failure = entries[1];
        Assert.Equal(owner.UserId, failure.Str("actor_id"));
        Assert.Equal(OwnerEmail, failure.Str("actor_name"));
        Assert.Equal(401, failure.GetProperty("status").GetInt32());
        Assert.Equal("bad-login-1", failure.Str("request_id"));
        Assert.Equal(KairosFactory.ClientIp, failure.Str("ip"));
        Assert.Equal(owner.UserId, entries[0].Str("actor_id"));
        // An unknown email belongs to no organization: its failure is kept, but no organization lists it.
        var text = (await admin.GetAsync("/api/v1/audit?limit=500").Expect(HttpStatusCode.OK)).ToString();
        Assert.DoesNotContain("nobody@example.com", text, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, text, StringComparison.Ordinal);

        // A locked account's attempts are failures too (429): one wrong password so far, four more lock it.
        for (var i = 0; i < 4; i++) await Bare().PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = wrong }).ExpectProblem(HttpStatusCode.Unauthorized);
        await Bare().PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = Password }).ExpectProblem(HttpStatusCode.TooManyRequests);
        var locked = (await EntriesAsync(admin, "?action=auth.login_failed&limit=1"))[0];
        Assert.Equal(429, locked.GetProperty("status").GetInt32());
        Assert.Equal(owner.UserId, locked.Str("actor_id"));
    }

    [Fact]
    public async Task Audit_lists_filter_and_page_and_need_the_audit_permission()
    {
        var owner = await SetupAsync();
        var viewer = await MemberAsync(owner, "vic@example.com", "viewer");
        var member = await MemberAsync(owner, "meg@example.com", "member");
        foreach (var queue in new[] { "q0", "q1", "q2", "late" }) await EnqueueAsync(queue);
        var since = Time.GetUtcNow();
        for (var i = 0; i < 3; i++)
        {
            Time.Advance(TimeSpan.FromMinutes(1));
            await Admin.PostAsync($"/api/v1/queues/q{i}/pause", null).Expect(HttpStatusCode.OK);
            await owner.Client.PostAsync($"/api/v1/queues/q{i}/resume", null).Expect(HttpStatusCode.OK);
        }
        var until = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromMinutes(1));
        await Admin.PostAsync("/api/v1/queues/late/purge", null).Expect(HttpStatusCode.OK);

        string[] Targets(JsonElement[] entries) => [.. entries.Select(e => $"{e.Str("action")} {e.Str("target_id")}")];
        Assert.Equal(["queue.pause q2", "queue.pause q1", "queue.pause q0"], Targets(await EntriesAsync(owner.Client, "?action=queue.pause")));
        Assert.Equal(7, (await EntriesAsync(owner.Client, "?action=queue.*")).Length);
        Assert.Equal(["queue.resume q1", "queue.pause q1"], Targets(await EntriesAsync(owner.Client, "?target_type=queue&target_id=q1")));
        Assert.Equal(["queue.purge late", "queue.pause q2", "queue.pause q1", "queue.pause q0"], Targets(await EntriesAsync(owner.Client, "?actor_type=api_key")));
        Assert.Equal(["queue.resume q2", "queue.resume q1", "queue.resume q0"], Targets(await EntriesAsync(owner.Client, $"?actor_id={owner.UserId}&action=queue.*")));
        var window = $"?since={Uri.EscapeDataString(Json(since.AddMinutes(2)))}&until={Uri.EscapeDataString(Json(until.AddSeconds(1)))}";
        Assert.Equal(["queue.resume q2", "queue.pause q2", "queue.resume q1", "queue.pause q1"], Targets(await EntriesAsync(owner.Client, window)));

        // Pages of two, newest first, every entry once.
        var all = await EntriesAsync(owner.Client, "?limit=500");
        var walked = new List<string>();
        string? cursor = null;
        do
        {
            var page = await owner.Client.GetAsync("/api/v1/audit?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))).Expect(HttpStatusCode.OK);
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(items.Count, 1, 2);
            walked.AddRange(items.Select(e => e.Str("id")));
            cursor = page.IsNull("next_cursor") ? null : page.Str("next_cursor");
        }
        while (cursor is not null);
        Assert.Equal(all.Select(e => e.Str("id")), walked);

        await owner.Client.GetAsync("/api/v1/audit?cursor=bm9wZQ").ExpectProblem(HttpStatusCode.BadRequest, "cursor");
        await owner.Client.GetAsync("/api/v1/audit?actor_type=robot&actor_id=x&since=yesterday&limit=0")
            .ExpectProblem(HttpStatusCode.BadRequest, "actor_type", "actor_id", "since", "limit");
        await owner.Client.GetAsync($"/api/v1/audit/{Guid.NewGuid()}").ExpectProblem(HttpStatusCode.NotFound);

        // Admins and owners read the log; members, viewers and read keys do not.
        await viewer.Client.GetAsync("/api/v1/audit").ExpectProblem(HttpStatusCode.Forbidden);
        await member.Client.GetAsync("/api/v1/audit").ExpectProblem(HttpStatusCode.Forbidden);
        await Client(await CreateKeyAsync("read")).GetAsync("/api/v1/audit").ExpectProblem(HttpStatusCode.Forbidden);
        await owner.Client.PatchJsonAsync($"/api/v1/members/{member.UserId}", new { role = "admin" }).Expect(HttpStatusCode.OK);
        await member.Client.GetAsync("/api/v1/audit").Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_audit_log_cannot_be_changed_through_the_API()
    {
        var owner = await SetupAsync();
        var entry = (await EntriesAsync(owner.Client))[0];
        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete })
        {
            foreach (var url in new[] { "/api/v1/audit", $"/api/v1/audit/{entry.Str("id")}" })
            {
                using var request = new HttpRequestMessage(method, url) { Content = System.Net.Http.Json.JsonContent.Create(new { action = "nothing.happened" }) };
                using var response = await owner.Client.SendAsync(request);
                Assert.True(response.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotFound, $"{method} {url}: {(int)response.StatusCode}");
            }
        }
        Assert.Equal(entry.ToString(), (await owner.Client.GetAsync($"/api/v1/audit/{entry.Str("id")}").Expect(HttpStatusCode.OK)).ToString());
        Assert.Single(await EntriesAsync(owner.Client));
    }

    /// <summary>Every endpoint that changes something names its audit action, or says why it records none.</summary>
    [Fact]
    public void Every_unsafe_api_endpoint_declares_its_audit_action_or_why_it_has_none()
    {
        var endpoints = Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Any(m => !HttpMethods.IsGet(m) && !HttpMethods.IsHead(m)) == true)
            .ToList();
        Assert.True(endpoints.Count > 20, $"only {endpoints.Count} unsafe endpoints found");
        var undeclared = endpoints
            .Where(e => e.Metadata.Where(m => m is AuditAction or AuditExemption).LastOrDefault() is null)
            .Select(e => $"{e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName} {e.RoutePattern.RawText}")
            .ToList();
        Assert.True(undeclared.Count == 0, "declare .Audited(\"thing.verb\") or .NotAudited(\"why\") on:\n" + string.Join("\n", undeclared));
        var exempt = endpoints.Where(e => e.Metadata.Where(m => m is AuditAction or AuditExemption).Last() is AuditExemption)
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName).Order(StringComparer.Ordinal);
        Assert.Equal(["AckJob", "AppendJobLogs", "BatchAck", "BatchJobHeartbeat", "CreateJob", "CreateJobs", "FailJob", "Fetch", "JobHeartbeat",
            "RegisterWorker", "SwitchOrganization", "WorkerHeartbeat"], exempt);
    }

    private static string Json(DateTimeOffset t) => Kairos.Server.Http.Json.Format(t);
}
