using System.Net;
using System.Text.Json;
using Kairos.Core.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>Roles × endpoint groups, members and invites, organizations: create, switch, isolation, rename, delete.</summary>
public sealed class AccessTests() : IdentityTest(fakeTime: true)
{
    /// <summary>Which roles may do a representative action of each endpoint group (the policy table, seen from outside).</summary>
    [Fact]
    public async Task Every_role_may_do_what_the_policy_table_grants_and_nothing_more()
    {
        var owner = await SetupAsync();
        var users = new Dictionary<string, SessionUser>
        {
            ["owner"] = owner,
            ["admin"] = await MemberAsync(owner, "admin@example.com", "admin"),
            ["member"] = await MemberAsync(owner, "member@example.com", "member"),
            ["viewer"] = await MemberAsync(owner, "viewer@example.com", "viewer"),
        };
        var org = owner.OrganizationId!;
        var job = await EnqueueAsync("matrix");
        var worker = await RegisterWorkerAsync(null, "matrix");

        // group, request, the least role allowed (null: no user role; the worker protocol is for API keys)
        var actions = new List<(string Group, Func<HttpClient, Task<HttpResponseMessage>> Send, string? Least)>
        {
            ("read jobs", c => c.GetAsync("/api/v1/jobs"), "viewer"),
            ("read a job", c => c.GetAsync($"/api/v1/jobs/{job.Str("id")}"), "viewer"),
            ("read queues", c => c.GetAsync("/api/v1/queues"), "viewer"),
            ("read workers", c => c.GetAsync("/api/v1/workers"), "viewer"),
            ("read stats", c => c.GetAsync("/api/v1/stats"), "viewer"),
            ("read metrics", c => c.GetAsync("/api/v1/metrics/series?metric=succeeded"), "viewer"),
            ("read members", c => c.GetAsync("/api/v1/members"), "viewer"),
            ("create a job", c => c.PostJsonAsync("/api/v1/jobs", new { queue = "matrix", type = "t" }), "member"),
            ("cancel a job", async c => await c.PostAsync($"/api/v1/jobs/{(await EnqueueAsync("matrix")).Str("id")}/cancel", null), "member"),
            ("cancel jobs in bulk", async c => await c.PostJsonAsync("/api/v1/jobs/bulk-cancel", new { ids = new[] { (await EnqueueAsync("matrix")).Str("id") } }), "member"),
            ("read schedules", c => c.GetAsync("/api/v1/schedules"), "viewer"),
            ("create a schedule", c => c.PostJsonAsync("/api/v1/schedules",
                new { name = $"s-{Guid.NewGuid():N}", cron = "@daily", job = new { queue = "matrix", type = "t" } }), "member"),
            ("read monitors", c => c.GetAsync("/api/v1/monitors"), "viewer"),
            ("create a monitor", c => c.PostJsonAsync("/api/v1/monitors", new { name = $"m-{Guid.NewGuid():N}", period_seconds = 3600 }), "member"),
            ("see the organization's ping key", c => c.GetAsync("/api/v1/monitors/ping-key"), "member"),
            ("read workflows", c => c.GetAsync("/api/v1/workflows"), "viewer"),
            ("create a workflow", c => c.PostJsonAsync("/api/v1/workflows",
                new { name = "matrix", steps = new[] { new { id = "a", job = new { queue = "matrix", type = "t" } } } }), "member"),
            ("read workflow templates", c => c.GetAsync("/api/v1/workflow-templates"), "viewer"),
            ("save a workflow template", c => c.PutJsonAsync($"/api/v1/workflow-templates/t-{Guid.NewGuid():N}",
                new { steps = new[] { new { id = "a", job = new { queue = "matrix", type = "t" } } } }), "member"),
            ("change a queue", c => c.PutJsonAsync("/api/v1/queues/matrix", new { concurrency_limit = 3 }), "admin"),
            ("pause a queue", c => c.PostAsync("/api/v1/queues/matrix/pause", null), "admin"),
            ("quiet a worker", c => c.PostAsync($"/api/v1/workers/{worker}/quiet", null), "admin"),
            ("list API keys", c => c.GetAsync("/api/v1/api-keys"), "admin"),
            ("create an API key", c => c.PostJsonAsync("/api/v1/api-keys", new { name = "k", scopes = new[] { "read" } }), "admin"),
            ("list invites", c => c.GetAsync("/api/v1/invites"), "admin"),
            ("invite a member", c => c.PostJsonAsync("/api/v1/invites", new { email = $"new{Guid.NewGuid():N}@example.com", role = "viewer" }), "admin"),
            ("read alert rules and incidents", c => c.GetAsync("/api/v1/incidents"), "viewer"),
            ("list alert channels", c => c.GetAsync("/api/v1/alert-channels"), "admin"),
            ("create an alert channel", c => c.PostJsonAsync("/api/v1/alert-channels",
                new { name = $"c-{Guid.NewGuid():N}", kind = "webhook", config = new { url = "https://alerts.example.com/x" } }), "admin"),
            ("list webhooks", c => c.GetAsync("/api/v1/webhooks"), "admin"),
            ("create a webhook", c => c.PostJsonAsync("/api/v1/webhooks", new { url = "https://hooks.example.com/x", event_types = new[] { "job.failed" } }), "admin"),
            ("read the manifest schema and managed objects", c => c.GetAsync("/api/v1/manifests/managed"), "viewer"),
            ("apply manifests", c => c.PostJsonAsync("/api/v1/manifests/apply",
                new { manifests = new[] { new { kind = "Queue", metadata = new { name = "matrix-managed" }, spec = new { concurrency_limit = 2 } } }, dry_run = true }), "admin"),
            ("rename the organization", c => c.PatchJsonAsync($"/api/v1/organizations/{org}", new { name = "Acme" }), "owner"),
            ("register a worker", c => c.PostJsonAsync("/api/v1/workers", new { name = "w", queues = new[] { "matrix" } }), null),
            ("fetch jobs", c => c.PostJsonAsync("/api/v1/fetch", new { worker_id = worker, queues = new[] { "matrix" }, wait_ms = 0 }), null),
        };
        var order = new[] { "viewer", "member", "admin", "owner" };
        var wrong = new List<string>();
        foreach (var (group, send, least) in actions)
        {
            foreach (var role in order)
            {
                var allowed = least is not null && Array.IndexOf(order, role) >= Array.IndexOf(order, least);
                using var response = await send(users[role].Client);
                var ok = allowed ? (int)response.StatusCode is >= 200 and < 300 : response.StatusCode == HttpStatusCode.Forbidden;
                if (!ok) wrong.Add($"{role} / {group}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                if (!allowed && response.StatusCode == HttpStatusCode.Forbidden)
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(["admin", "member", "owner", "viewer"], Names(await owner.Client.GetAsync("/api/v1/members").Expect(HttpStatusCode.OK), "role").Order());
    }

    /// <summary>Every endpoint of the API names the permission it needs, unless it is one of the few deliberately open ones.</summary>
    [Fact]
    public void Every_api_endpoint_names_a_permission_or_is_deliberately_open()
    {
        string[] anonymous = ["GetSetup", "Setup", "Login", "AcceptInvite"];
        string[] anyCaller = ["GetMe", "Logout", "SwitchOrganization", "ListOrganizations", "CreateOrganization", "UpdateProfile", "ChangePassword"];
        var permissions = Enum.GetValues<Permission>().Select(p => p.Name()).Append(Auth.Policies.WorkerOrWorkersManage).ToHashSet();
        var endpoints = Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
            .ToList();
        Assert.True(endpoints.Count > 30, $"only {endpoints.Count} endpoints found");
        var wrong = new List<string>();
        foreach (var e in endpoints)
        {
            var name = e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? e.DisplayName ?? e.RoutePattern.RawText!;
            var policies = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            var open = e.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var ok = anonymous.Contains(name) ? open
                : anyCaller.Contains(name) ? !open && policies.Count > 0
                : !open && policies.Any(p => p is not null && permissions.Contains(p));
            if (!ok) wrong.Add($"{name} {e.RoutePattern.RawText}: policies [{string.Join(", ", policies)}], anonymous: {open}");
        }
        Assert.True(wrong.Count == 0, "endpoints without a permission:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public async Task An_invite_is_accepted_once_and_lists_the_new_member()
    {
        var owner = await SetupAsync();
        var created = await owner.Client.PostJsonAsync("/api/v1/invites", new { email = " Nina@Example.com", role = "member" }).Expect(HttpStatusCode.Created);
        Assert.Equal("nina@example.com", created.Str("email"));
        Assert.Equal("member", created.Str("role"));
        var token = new Uri(created.Str("invite_url")).Query["?token=".Length..];
        Assert.Equal(64, token.Length);

        var invites = await owner.Client.GetAsync("/api/v1/invites").Expect(HttpStatusCode.OK);
        var listed = Assert.Single(invites.GetProperty("items").EnumerateArray());
        Assert.Equal(created.Str("id"), listed.Str("id"));
        Assert.False(listed.GetProperty("expired").GetBoolean());
        Assert.Equal(owner.UserId, listed.Str("invited_by"));
        Assert.DoesNotContain(token, invites.ToString(), StringComparison.Ordinal);

        var anonymous = Bare();
        await anonymous.PostJsonAsync("/api/v1/invites/accept", new { token, password = "short" }).ExpectProblem(HttpStatusCode.BadRequest, "password");
        await anonymous.PostJsonAsync("/api/v1/invites/accept", new { token = Tokens.New(), password = Password }).ExpectProblem(HttpStatusCode.NotFound);
        await anonymous.PostJsonAsync("/api/v1/invites/accept", new { password = Password }).ExpectProblem(HttpStatusCode.BadRequest, "token");

        using var accepted = await anonymous.PostJsonAsync("/api/v1/invites/accept", new { token, password = Password, name = "Nina" });
        var me = await accepted.Expect(HttpStatusCode.OK);
        var nina = SignedIn(anonymous, accepted, me);
        Assert.Equal("Nina", me.GetProperty("user").Str("name"));
        Assert.Equal("member", me.GetProperty("current_organization").Str("role"));
        await nina.Client.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).Expect(HttpStatusCode.Created);

        await Bare().PostJsonAsync("/api/v1/invites/accept", new { token, password = Password }).ExpectProblem(HttpStatusCode.Gone);
        Assert.Empty((await owner.Client.GetAsync("/api/v1/invites").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        var members = await owner.Client.GetAsync("/api/v1/members").Expect(HttpStatusCode.OK);
        var member = members.GetProperty("items").EnumerateArray().Single(m => m.Str("email") == "nina@example.com");
        Assert.Equal("member", member.Str("role"));
        Assert.Equal(nina.UserId, member.Str("user_id"));
        await LoginAsync("nina@example.com");

        // Inviting a member again is a conflict; a withdrawn invite is gone.
        await owner.Client.PostJsonAsync("/api/v1/invites", new { email = "nina@example.com", role = "admin" }).ExpectProblem(HttpStatusCode.Conflict);
        var withdrawn = await owner.Client.PostJsonAsync("/api/v1/invites", new { email = "paul@example.com", role = "viewer" }).Expect(HttpStatusCode.Created);
        using (var delete = await owner.Client.DeleteAsync($"/api/v1/invites/{withdrawn.Str("id")}"))
        {
            await delete.Expect(HttpStatusCode.NoContent);
        }
        var withdrawnToken = new Uri(withdrawn.Str("invite_url")).Query["?token=".Length..];
        await Bare().PostJsonAsync("/api/v1/invites/accept", new { token = withdrawnToken, password = Password }).ExpectProblem(HttpStatusCode.NotFound);
        await owner.Client.DeleteAsync($"/api/v1/invites/{withdrawn.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        await owner.Client.PostJsonAsync("/api/v1/invites", new { email = "x", role = "boss" }).ExpectProblem(HttpStatusCode.BadRequest, "email", "role");
    }

    [Fact]
    public async Task An_expired_invite_is_gone()
    {
        var owner = await SetupAsync();
        var token = await InviteAsync(owner, "late@example.com", "viewer");
        Time.Advance(TimeSpan.FromDays(7));
        Assert.True((await owner.Client.GetAsync("/api/v1/invites").Expect(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("expired").GetBoolean());
        await Bare().PostJsonAsync("/api/v1/invites/accept", new { token, password = Password }).ExpectProblem(HttpStatusCode.Gone);
    }

    [Fact]
    public async Task An_existing_account_accepts_with_its_session_or_its_password()
    {
        var owner = await SetupAsync();
        var viewer = await MemberAsync(owner, "vera@example.com", "viewer");
        var second = await owner.Client.PostJsonAsync("/api/v1/organizations", new { name = "Second" }).Expect(HttpStatusCode.Created);
        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = second.Str("id") }).Expect(HttpStatusCode.OK);

        var token = await InviteAsync(owner, "vera@example.com", "admin");
        await Bare().PostJsonAsync("/api/v1/invites/accept", new { token }).ExpectProblem(HttpStatusCode.Unauthorized);
        await Bare().PostJsonAsync("/api/v1/invites/accept", new { token, password = "not her password" }).ExpectProblem(HttpStatusCode.Unauthorized);
        // Someone else's session does not accept it.
        await owner.Client.PostJsonAsync("/api/v1/invites/accept", new { token }).ExpectProblem(HttpStatusCode.Unauthorized);

        var me = await viewer.Client.PostJsonAsync("/api/v1/invites/accept", new { token }).Expect(HttpStatusCode.OK);
        Assert.Equal(second.Str("id"), me.GetProperty("current_organization").Str("id"));
        Assert.Equal("admin", me.GetProperty("current_organization").Str("role"));
        Assert.Equal(2, me.GetProperty("organizations").GetArrayLength());

        // Without a session, her password proves it is her.
        var third = await owner.Client.PostJsonAsync("/api/v1/organizations", new { name = "Third" }).Expect(HttpStatusCode.Created);
        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = third.Str("id") }).Expect(HttpStatusCode.OK);
        var byPassword = await InviteAsync(owner, "vera@example.com", "member");
        var signedIn = await Bare().PostJsonAsync("/api/v1/invites/accept", new { token = byPassword, password = Password }).Expect(HttpStatusCode.OK);
        Assert.Equal(viewer.UserId, signedIn.GetProperty("user").Str("id"));
        Assert.Equal(3, signedIn.GetProperty("organizations").GetArrayLength());
    }

    [Fact]
    public async Task Roles_change_admins_cannot_touch_owners_and_the_last_owner_stays()
    {
        var owner = await SetupAsync();
        var admin = await MemberAsync(owner, "admin@example.com", "admin");
        var member = await MemberAsync(owner, "member@example.com", "member");

        var changed = await admin.Client.PatchJsonAsync($"/api/v1/members/{member.UserId}", new { role = "viewer" }).Expect(HttpStatusCode.OK);
        Assert.Equal("viewer", changed.Str("role"));
        await member.Client.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).ExpectProblem(HttpStatusCode.Forbidden);
        await admin.Client.PatchJsonAsync($"/api/v1/members/{member.UserId}", new { role = "boss" }).ExpectProblem(HttpStatusCode.BadRequest, "role");
        await admin.Client.PatchJsonAsync($"/api/v1/members/{Guid.NewGuid()}", new { role = "viewer" }).ExpectProblem(HttpStatusCode.NotFound);

        // Only owners manage owners.
        await admin.Client.PatchJsonAsync($"/api/v1/members/{member.UserId}", new { role = "owner" }).ExpectProblem(HttpStatusCode.Forbidden);
        await admin.Client.PatchJsonAsync($"/api/v1/members/{admin.UserId}", new { role = "owner" }).ExpectProblem(HttpStatusCode.Forbidden);
        await admin.Client.PatchJsonAsync($"/api/v1/members/{owner.UserId}", new { role = "viewer" }).ExpectProblem(HttpStatusCode.Forbidden);
        await admin.Client.DeleteAsync($"/api/v1/members/{owner.UserId}").ExpectProblem(HttpStatusCode.Forbidden);
        await admin.Client.PostJsonAsync("/api/v1/invites", new { email = "boss@example.com", role = "owner" }).ExpectProblem(HttpStatusCode.Forbidden);
        await Admin.PatchJsonAsync($"/api/v1/members/{member.UserId}", new { role = "owner" }).ExpectProblem(HttpStatusCode.Forbidden);

        // The last owner can neither step down nor leave.
        await owner.Client.PatchJsonAsync($"/api/v1/members/{owner.UserId}", new { role = "admin" }).ExpectProblem(HttpStatusCode.Conflict);
        await owner.Client.DeleteAsync($"/api/v1/members/{owner.UserId}").ExpectProblem(HttpStatusCode.Conflict);

        // With a second owner, one may.
        await owner.Client.PatchJsonAsync($"/api/v1/members/{admin.UserId}", new { role = "owner" }).Expect(HttpStatusCode.OK);
        await owner.Client.PatchJsonAsync($"/api/v1/members/{owner.UserId}", new { role = "admin" }).Expect(HttpStatusCode.OK);
        await admin.Client.PatchJsonAsync($"/api/v1/members/{admin.UserId}", new { role = "member" }).ExpectProblem(HttpStatusCode.Conflict);
        await owner.Client.PatchJsonAsync($"/api/v1/organizations/{owner.OrganizationId}", new { name = "Mine" }).ExpectProblem(HttpStatusCode.Forbidden);

        // A removed member keeps the session but acts in no organization.
        using (var removed = await admin.Client.DeleteAsync($"/api/v1/members/{member.UserId}"))
        {
            await removed.Expect(HttpStatusCode.NoContent);
        }
        await member.Client.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Forbidden);
        var me = await member.Client.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK);
        Assert.True(me.IsNull("current_organization"));
        Assert.Equal(0, me.GetProperty("permissions").GetArrayLength());
        await admin.Client.DeleteAsync($"/api/v1/members/{member.UserId}").ExpectProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Organizations_switch_and_keep_their_data_apart()
    {
        var owner = await SetupAsync();
        var viewer = await MemberAsync(owner, "viewer@example.com", "viewer");
        var inDefault = await owner.Client.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "a" }).Expect(HttpStatusCode.Created);

        await Admin.PostJsonAsync("/api/v1/organizations", new { name = "Keys cannot" }).ExpectProblem(HttpStatusCode.Forbidden);
        await owner.Client.PostJsonAsync("/api/v1/organizations", new { name = " " }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        var b = await owner.Client.PostJsonAsync("/api/v1/organizations", new { name = "Bee" }).Expect(HttpStatusCode.Created);
        Assert.Equal("owner", b.Str("role"));
        var orgs = await owner.Client.GetAsync("/api/v1/organizations").Expect(HttpStatusCode.OK);
        Assert.Equal(["Acme", "Bee"], Names(orgs, "name").Order());

        var switched = await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = b.Str("id") }).Expect(HttpStatusCode.OK);
        Assert.Equal(b.Str("id"), switched.GetProperty("current_organization").Str("id"));
        Assert.Empty((await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
        await owner.Client.GetAsync($"/api/v1/jobs/{inDefault.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        var inB = await owner.Client.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "b" }).Expect(HttpStatusCode.Created);
        Assert.Equal([inB.Str("id")], (await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
        Assert.Equal(["owner"], Names(await owner.Client.GetAsync("/api/v1/members").Expect(HttpStatusCode.OK), "role"));

        // Back in the default organization, B's job is not there; nor for B's outsiders.
        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = Organizations.Default }).Expect(HttpStatusCode.OK);
        Assert.Equal([inDefault.Str("id")], (await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());
        await owner.Client.GetAsync($"/api/v1/jobs/{inB.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync($"/api/v1/jobs/{inB.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        await viewer.Client.GetAsync($"/api/v1/jobs/{inB.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        await viewer.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = b.Str("id") }).ExpectProblem(HttpStatusCode.NotFound);
        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = Guid.NewGuid() }).ExpectProblem(HttpStatusCode.NotFound);
        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { }).ExpectProblem(HttpStatusCode.BadRequest, "organization_id");

        // Rename and delete act on the current organization only.
        await owner.Client.PatchJsonAsync($"/api/v1/organizations/{b.Str("id")}", new { name = "Bee 2" }).ExpectProblem(HttpStatusCode.NotFound);
        await owner.Client.DeleteAsync($"/api/v1/organizations/{b.Str("id")}").ExpectProblem(HttpStatusCode.NotFound);
        var renamed = await owner.Client.PatchJsonAsync($"/api/v1/organizations/{Organizations.Default}", new { name = "Acme 2" }).Expect(HttpStatusCode.OK);
        Assert.Equal("Acme 2", renamed.Str("name"));
        await owner.Client.DeleteAsync($"/api/v1/organizations/{Organizations.Default}").ExpectProblem(HttpStatusCode.Conflict);

        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = b.Str("id") }).Expect(HttpStatusCode.OK);
        using (var deleted = await owner.Client.DeleteAsync($"/api/v1/organizations/{b.Str("id")}"))
        {
            await deleted.Expect(HttpStatusCode.NoContent);
        }
        var me = await owner.Client.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK);
        Assert.True(me.IsNull("current_organization"));
        Assert.Equal(["Acme 2"], Names(me, "organizations", "name"));
        await owner.Client.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Forbidden);
        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = Organizations.Default }).Expect(HttpStatusCode.OK);
        Assert.Equal([inDefault.Str("id")], (await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());

        // An API key lists its one organization.
        Assert.Equal([Organizations.Default.ToString()], Names(await Admin.GetAsync("/api/v1/organizations").Expect(HttpStatusCode.OK), "id"));
    }

    private static string[] Names(JsonElement list, string field) => Names(list, "items", field);

    private static string[] Names(JsonElement body, string array, string field) =>
        body.GetProperty(array).EnumerateArray().Select(e => e.Str(field)).ToArray();
}
