using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>
/// Tenant isolation, walked from the OpenAPI document: every operation under <c>/api/v1</c> is called with an admin key
/// of organization B against organization A's objects (the path names A's job, queue, worker, key, member, invite,
/// organization or audit entry; the body names A's worker, job and lease). Each must answer 404 (or 403 where the policy
/// refuses first), or act in B alone; no answer may show anything of A beyond what the request itself sent; and A's
/// objects must be as they were. Lists are read with B's key and must hold nothing of A's. The operations are taken from
/// the document, not from a list here: an operation this test does not know how to aim at A fails it, so a new endpoint
/// must be added to the maps below (and so gets checked).
/// </summary>
public sealed class TenantIsolationTests() : IdentityTest(fakeTime: true)
{
    /// <summary>Anonymous operations: they act on no organization's objects (first-run setup, sign-in, accepting an invite by its secret token).</summary>
    private static readonly HashSet<string> Exempt = ["GetSetup", "Setup", "Login", "AcceptInvite"];

    /// <summary>What the walk needs of organization A.</summary>
    private sealed record World(
        string OrgId, string OrgName, string JobId, string LeaseToken, string Queue, string WorkerId, string WorkerName, string KeyId,
        string KeyName, string KeyPrefix, string MemberId, string MemberEmail, string InviteId, string InviteEmail, string AuditId, string Payload,
        string Schedule, string ScheduleId, string Monitor, string MonitorId, string MonitorPingKey, string WorkflowId, string Channel, string ChannelHost,
        string Rule, string IncidentId, string WindowId, string WebhookId, string WebhookHost, string DeliveryId, string Template)
    {
        /// <summary>Everything of A that B must never see.</summary>
        public IEnumerable<string> Secrets =>
        [
            OrgId, OrgName, JobId, LeaseToken, Queue, WorkerId, WorkerName, KeyId, KeyName, KeyPrefix, MemberId, MemberEmail, InviteId, InviteEmail,
            AuditId, Payload, Schedule, ScheduleId, Monitor, MonitorId, MonitorPingKey, WorkflowId, Channel, ChannelHost, Rule, IncidentId, WindowId,
            WebhookId, WebhookHost, DeliveryId, Template,
        ];
    }

    /// <summary>A's object that a path parameter names, by the collection before it and its name.</summary>
    private static readonly Dictionary<string, Func<World, string>> PathTargets = new(StringComparer.Ordinal)
    {
        ["jobs/{id}"] = a => a.JobId,
        ["queues/{name}"] = a => a.Queue,
        ["workers/{id}"] = a => a.WorkerId,
        ["api-keys/{id}"] = a => a.KeyId,
        ["members/{userId}"] = a => a.MemberId,
        ["invites/{id}"] = a => a.InviteId,
        ["organizations/{id}"] = a => a.OrgId,
        ["audit/{id}"] = a => a.AuditId,
        ["schedules/{name}"] = a => a.Schedule,
        ["monitors/{name}"] = a => a.Monitor,
        ["workflows/{id}"] = a => a.WorkflowId,
        ["workflow-templates/{name}"] = a => a.Template,
        ["alert-channels/{name}"] = a => a.Channel,
        ["alert-rules/{name}"] = a => a.Rule,
        ["incidents/{id}"] = a => a.IncidentId,
        ["maintenance-windows/{id}"] = a => a.WindowId,
        ["webhooks/{id}"] = a => a.WebhookId,
        ["deliveries/{deliveryId}"] = a => a.DeliveryId,
    };

    /// <summary>The body of each operation that takes one, aimed at A wherever a body can name A's objects.</summary>
    private static readonly Dictionary<string, Func<World, object>> Bodies = new(StringComparer.Ordinal)
    {
        ["AppendJobLogs"] = a => new { lease_token = a.LeaseToken, lines = new[] { "written by b" } },
        ["AckJob"] = a => new { lease_token = a.LeaseToken, result = new { by = "b" } },
        ["FailJob"] = a => new { lease_token = a.LeaseToken, error = new { message = "failed by b" }, retryable = false },
        ["JobHeartbeat"] = a => new { lease_token = a.LeaseToken, extend_ms = 1000 },
        ["UpsertQueue"] = _ => new { concurrency_limit = 1 },
        ["PatchQueue"] = _ => new { concurrency_limit = 1 },
        ["PauseQueue"] = _ => new { reason = "paused by b" },
        ["RenameOrganization"] = _ => new { name = "renamed by b" },
        ["ChangeMemberRole"] = _ => new { role = "admin" },
        ["CreateJob"] = _ => new { queue = "b-queue", type = "b.job" },
        ["CreateJobs"] = _ => new { jobs = new[] { new { queue = "b-queue", type = "b.job" } } },
        ["RegisterWorker"] = _ => new { name = "b-worker", queues = new[] { "b-queue" } },
        ["Fetch"] = a => new { worker_id = a.WorkerId, queues = new[] { a.Queue }, max = 10, wait_ms = 0 },
        ["BatchJobHeartbeat"] = a => new { leases = new[] { new { id = a.JobId, lease_token = a.LeaseToken } } },
        ["BatchAck"] = a => new { acks = new[] { new { id = a.JobId, lease_token = a.LeaseToken } }, fails = new[] { new { id = a.JobId, lease_token = a.LeaseToken, error = new { message = "b" } } } },
        ["CreateApiKey"] = _ => new { name = "b key", scopes = new[] { "read" } },
        ["SwitchOrganization"] = a => new { organization_id = a.OrgId },
        // The caller's own profile: an API key has none (403).
        ["UpdateProfile"] = _ => new { name = "renamed by b" },
        ["ChangePassword"] = _ => new { current_password = Password, new_password = "changed by b's key" },
        ["CreateOrganization"] = _ => new { name = "made by b's key" },
        ["CreateInvite"] = _ => new { email = "b-invitee@example.com", role = "viewer" },
        ["CreateSchedule"] = _ => new { name = "b-schedule", cron = "0 * * * *", job = new { queue = "b-queue", type = "b.scheduled" } },
        ["PutSchedule"] = _ => new { cron = "5 * * * *", job = new { queue = "b-queue", type = "b.scheduled" } },
        ["PatchSchedule"] = _ => new { cron = "5 * * * *" },
        ["PauseSchedule"] = _ => new { reason = "paused by b" },
        ["CreateWorkflow"] = _ => new { name = "b-workflow", steps = new[] { new { id = "b", job = new { queue = "b-queue", type = "b.step" } } } },
        ["PutWorkflowTemplate"] = _ => new { steps = new[] { new { id = "b", job = new { queue = "b-queue", type = "b.step" } } } },
        ["BulkRetryJobs"] = a => new { ids = new[] { a.JobId } },
        ["BulkCancelJobs"] = a => new { ids = new[] { a.JobId } },
        ["BulkDeleteJobs"] = a => new { ids = new[] { a.JobId } },
        ["CreateMonitor"] = _ => new { name = "b-monitor", period_seconds = 3600 },
        ["PatchMonitor"] = _ => new { grace_seconds = 60 },
        ["PauseMonitor"] = _ => new { reason = "paused by b" },
        ["CreateAlertChannel"] = _ => new { name = "b-channel", kind = "webhook", config = new { url = "https://b.example.com/alerts" } },
        ["PutAlertChannel"] = _ => new { kind = "webhook", config = new { url = "https://b.example.com/alerts" } },
        // B's rules and windows name channels and rules of B only: 400 until B made its own of A's names (PutAlertChannel, PutAlertRule), then B's.
        ["CreateAlertRule"] = a => new { name = "b-rule", kind = "worker_lost", channels = new[] { a.Channel } },
        ["PutAlertRule"] = a => new { kind = "worker_lost", channels = new[] { a.Channel } },
        ["CreateMaintenanceWindow"] = a => new { rule = a.Rule, duration_ms = 60_000 },
        ["CreateWebhook"] = _ => new { url = "https://b.example.com/hook", event_types = new[] { "job.failed" } },
        ["PatchWebhook"] = _ => new { enabled = false, url = "https://b.example.com/taken" },
        // B's apply (with prune) manages B's objects only; unmanaging names A's schedule: 404 for B.
        ["ApplyManifests"] = _ => new
        {
            manifests = new[] { new { kind = "Schedule", metadata = new { name = "b-managed" }, spec = new { cron = "@daily", job = new { queue = "b-q", type = "t" } } } },
            prune = true,
        },
        ["UnmanageObject"] = a => new { kind = "Schedule", name = a.Schedule },
    };

    /// <summary>The query of reads that need one.</summary>
    private static readonly Dictionary<string, string> Queries = new(StringComparer.Ordinal)
    {
        ["PreviewSchedule"] = "?cron=" + Uri.EscapeDataString("*/5 * * * *"),
        ["GetMetricSeries"] = "?metric=enqueued,started,depth&step=day",
    };

    /// <summary>
    /// Answers other than 404/403 that are right: operations that act in B's own namespace (queue names are per
    /// organization, so B may make its own queue of A's queue's name), create in B, or answer per item.
    /// </summary>
    private static readonly Dictionary<string, HttpStatusCode[]> Expected = new(StringComparer.Ordinal)
    {
        ["UpsertQueue"] = [HttpStatusCode.OK],
        ["PatchQueue"] = [HttpStatusCode.OK],
        ["PutSchedule"] = [HttpStatusCode.Created],
        ["CreateSchedule"] = [HttpStatusCode.Created],
        ["CreateMonitor"] = [HttpStatusCode.Created],
        ["RegenerateOrganizationPingKey"] = [HttpStatusCode.OK],
        ["CreateWorkflow"] = [HttpStatusCode.Created],
        ["PutWorkflowTemplate"] = [HttpStatusCode.Created],
        ["CreateJob"] = [HttpStatusCode.Created],
        ["CreateJobs"] = [HttpStatusCode.Created],
        ["RegisterWorker"] = [HttpStatusCode.Created],
        ["CreateApiKey"] = [HttpStatusCode.Created],
        ["CreateInvite"] = [HttpStatusCode.Created],
        ["BatchJobHeartbeat"] = [HttpStatusCode.OK],
        ["BatchAck"] = [HttpStatusCode.OK],
        ["BulkRetryJobs"] = [HttpStatusCode.OK],
        ["BulkCancelJobs"] = [HttpStatusCode.OK],
        ["BulkDeleteJobs"] = [HttpStatusCode.OK],
        ["Logout"] = [HttpStatusCode.NoContent],
        ["CreateAlertChannel"] = [HttpStatusCode.Created],
        ["PutAlertChannel"] = [HttpStatusCode.Created],
        ["CreateAlertRule"] = [HttpStatusCode.BadRequest, HttpStatusCode.Created],
        ["PutAlertRule"] = [HttpStatusCode.BadRequest, HttpStatusCode.Created],
        ["CreateMaintenanceWindow"] = [HttpStatusCode.BadRequest, HttpStatusCode.Created],
        ["CreateWebhook"] = [HttpStatusCode.Created],
        ["ApplyManifests"] = [HttpStatusCode.OK],
    };

    private sealed record Operation(string Id, HttpMethod Method, string Path, bool HasBody)
    {
        /// <summary>Reads first; then what acts on A's objects; last what makes B objects named like A's.</summary>
        public int Order => Method == HttpMethod.Get ? 0 : Expected.ContainsKey(Id) ? 2 : 1;
        public override string ToString() => $"{Id} ({Method} {Path})";
    }

    [Fact]
    public async Task Organization_b_reaches_nothing_of_organization_a_through_any_operation_of_the_document()
    {
        var a = await OrganizationAAsync();
        var b = await OrganizationBAsync();
        var operations = await OperationsAsync();
        Assert.True(operations.Count > 40, $"only {operations.Count} operations in the document");

        var failures = new List<string>();
        foreach (var op in operations.OrderBy(o => o.Order))
        {
            if (Exempt.Contains(op.Id)) continue;
            if (op.Id == "StreamEvents")
            {
                await CheckEventStreamAsync(a, b, failures);
                continue;
            }
            if (op.Id == "StreamEventsWebSocket")
            {
                await CheckWebSocketAsync(a, b, failures);
                continue;
            }
            var sent = new List<string>();
            var path = op.Path;
            foreach (var parameter in ParametersOf(op.Path))
            {
                var segments = op.Path.Split('/');
                var at = Array.IndexOf(segments, $"{{{parameter}}}");
                var key = $"{segments[at - 1]}/{{{parameter}}}";
                if (!PathTargets.TryGetValue(key, out var target))
                {
                    failures.Add($"{op}: unknown path parameter '{key}': add how to make organization A's object to {nameof(PathTargets)}");
                    path = null;
                    break;
                }
                var value = target(a);
                sent.Add(value);
                path = path!.Replace($"{{{parameter}}}", Uri.EscapeDataString(value), StringComparison.Ordinal);
            }
            if (path is null) continue;
            object? body = null;
            if (op.HasBody)
            {
                if (!Bodies.TryGetValue(op.Id, out var make))
                {
                    failures.Add($"{op}: takes a body this test does not know: add it to {nameof(Bodies)}, aimed at A's objects where it can name them");
                    continue;
                }
                body = make(a);
                sent.AddRange(StringsOf(JsonSerializer.SerializeToNode(body, Http.BodyOptions)));
            }
            else if (op.Method != HttpMethod.Get && Bodies.ContainsKey(op.Id))
            {
                failures.Add($"{op}: the document declares no body, the test has one");
            }

            if (Queries.TryGetValue(op.Id, out var query)) path += query;
            using var request = new HttpRequestMessage(op.Method, path);
            if (body is not null) request.Content = JsonContent.Create(body, options: Http.BodyOptions);
            using var response = await b.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var hasPathParameters = ParametersOf(op.Path).Any();
            HttpStatusCode[] allowed = Expected.TryGetValue(op.Id, out var expected) ? expected
                : hasPathParameters ? [HttpStatusCode.NotFound, HttpStatusCode.Forbidden]
                : op.Method == HttpMethod.Get ? [HttpStatusCode.OK]
                : [HttpStatusCode.NotFound, HttpStatusCode.Forbidden];
            if (!allowed.Contains(response.StatusCode))
            {
                failures.Add($"{op} as B on A's objects: {(int)response.StatusCode}, expected {string.Join(" or ", allowed.Select(s => (int)s))}: {text}");
            }
            // What the answer shows beyond what the request sent (a 404 may repeat the id it was asked for).
            var shown = sent.Where(s => s.Length > 0).OrderByDescending(s => s.Length).Aggregate(text, (t, s) => t.Replace(s, "", StringComparison.Ordinal)
                .Replace(Uri.EscapeDataString(s), "", StringComparison.Ordinal));
            foreach (var secret in a.Secrets.Where(s => shown.Contains(s, StringComparison.Ordinal)))
            {
                failures.Add($"{op}: B's answer shows A's '{secret}': {text}");
            }
            if (op.Id is "BatchAck" or "BatchJobHeartbeat" && response.IsSuccessStatusCode && text.Contains("\"ok\"", StringComparison.Ordinal))
            {
                failures.Add($"{op}: B's batch acted on A's job: {text}");
            }
            if (op.Id.StartsWith("Bulk", StringComparison.Ordinal) && response.IsSuccessStatusCode && !text.Contains("\"count\":0", StringComparison.Ordinal))
            {
                failures.Add($"{op}: B's bulk action acted on A's job: {text}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        await AssertUntouchedAsync(a);
    }

    // ------------------------------------------------------------------ organization A, organization B

    private async Task<World> OrganizationAAsync()
    {
        var owner = await SetupAsync(organization: "Alpha Org 7c1e");
        var queue = "alpha-queue-7c1e";
        await Admin.PutJsonAsync($"/api/v1/queues/{queue}", new { concurrency_limit = 3 }).Expect(HttpStatusCode.OK);
        var job = await Admin.PostJsonAsync("/api/v1/jobs", new { queue, type = "alpha.job", payload = new { secret = "alpha-payload-7c1e" } }).Expect(HttpStatusCode.Created);
        var worker = (await Admin.PostJsonAsync("/api/v1/workers", new { name = "alpha-worker-7c1e", queues = new[] { queue } }).Expect(HttpStatusCode.Created)).Str("id");
        var leased = Assert.Single(await FetchAsync(worker, queue));
        var key = await Admin.PostJsonAsync("/api/v1/api-keys", new { name = "alpha-key-7c1e", scopes = new[] { "read" } }).Expect(HttpStatusCode.Created);
        var member = await MemberAsync(owner, "alpha-member-7c1e@example.com", "viewer");
        var invite = await owner.Client.PostJsonAsync("/api/v1/invites", new { email = "alpha-invite-7c1e@example.com", role = "viewer" }).Expect(HttpStatusCode.Created);
        var schedule = await Admin.PutJsonAsync("/api/v1/schedules/alpha-schedule-7c1e", new { cron = "0 * * * *", job = new { queue, type = "alpha.scheduled" } })
            .Expect(HttpStatusCode.Created);
        var monitor = await Admin.PostJsonAsync("/api/v1/monitors", new { name = "alpha-monitor-7c1e", period_seconds = 3600 }).Expect(HttpStatusCode.Created);
        var workflow = await Admin.PostJsonAsync("/api/v1/workflows", new
        {
            name = "alpha-workflow-7c1e",
            steps = new object[] { new { id = "first", job = new { queue, type = "alpha.step" } }, new { id = "second", job = new { queue, type = "alpha.step" }, depends_on = new[] { "first" } } },
        }).Expect(HttpStatusCode.Created);
        await Admin.PutJsonAsync("/api/v1/workflow-templates/alpha-template-7c1e", new
        {
            steps = new object[] { new { id = "first", job = new { queue, type = "alpha.step" } }, new { id = "second", job = new { queue, type = "alpha.step" }, depends_on = new[] { "first" } } },
        }).Expect(HttpStatusCode.Created);
        var audit = (await Admin.GetAsync("/api/v1/audit?action=api_key.create").Expect(HttpStatusCode.OK)).GetProperty("items")[0].Str("id");
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "alpha-channel-7c1e", kind = "webhook", config = new { url = "https://alpha-hook-7c1e.example.com/x" } })
            .Expect(HttpStatusCode.Created);
        var rule = await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "alpha-rule-7c1e", kind = "schedule_misfire", channels = new[] { "alpha-channel-7c1e" } })
            .Expect(HttpStatusCode.Created);
        var store = Factory.Services.GetRequiredService<Kairos.Core.Storage.IKairosStore>();
        var incident = await store.Alerts.FireAsync(new Kairos.Core.Storage.FireIncidentParams(Guid.Parse(owner.OrganizationId!), Guid.Parse(rule.Str("id")),
            "alpha-rule-7c1e", "schedule:alpha", "alpha incident", null, TimeSpan.FromDays(1)), CancellationToken.None);
        var window = await Admin.PostJsonAsync("/api/v1/maintenance-windows", new { rule = "alpha-rule-7c1e", duration_ms = 86_400_000 }).Expect(HttpStatusCode.Created);
        var webhook = await Admin.PostJsonAsync("/api/v1/webhooks", new { url = "https://alpha-webhook-7c1e.example.com/hook", event_types = new[] { "job.failed" } })
            .Expect(HttpStatusCode.Created);
        var delivery = await Admin.PostAsync($"/api/v1/webhooks/{webhook.Str("id")}/test", null).Expect(HttpStatusCode.Accepted);
        return new World(owner.OrganizationId!, "Alpha Org 7c1e", job.Str("id"), leased.Str("lease_token"), queue, worker, "alpha-worker-7c1e",
            key.Str("id"), "alpha-key-7c1e", key.Str("prefix"), member.UserId, "alpha-member-7c1e@example.com", invite.Str("id"),
            "alpha-invite-7c1e@example.com", audit, "alpha-payload-7c1e", "alpha-schedule-7c1e", schedule.Str("id"),
            "alpha-monitor-7c1e", monitor.Str("id"), monitor.Str("ping_key"), workflow.Str("id"), "alpha-channel-7c1e", "alpha-hook-7c1e",
            "alpha-rule-7c1e", incident.Incident.Id.ToString(), window.Str("id"), webhook.Str("id"), "alpha-webhook-7c1e", delivery.Str("id"), "alpha-template-7c1e");
    }

    /// <summary>An admin key of a second organization, made by a user who owns both (the owner switches to B and back).</summary>
    private async Task<HttpClient> OrganizationBAsync()
    {
        var owner = await LoginAsync(OwnerEmail);
        var b = await owner.Client.PostJsonAsync("/api/v1/organizations", new { name = "Bee" }).Expect(HttpStatusCode.Created);
        await owner.Client.PostJsonAsync("/api/v1/auth/organization", new { organization_id = b.Str("id") }).Expect(HttpStatusCode.OK);
        var key = await owner.Client.PostJsonAsync("/api/v1/api-keys", new { name = "bee admin", scopes = new[] { "admin" } }).Expect(HttpStatusCode.Created);
        return Client(key.Str("key"));
    }

    // ------------------------------------------------------------------ the document

    private async Task<List<Operation>> OperationsAsync()
    {
        var doc = await Client(null).GetAsync("/openapi/v1.json").Expect(HttpStatusCode.OK);
        var list = new List<Operation>();
        foreach (var path in doc.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/api/v1/", StringComparison.Ordinal)))
        {
            foreach (var op in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                var id = op.Value.TryGetProperty("operationId", out var oid) ? oid.GetString()! : $"{op.Name.ToUpperInvariant()} {path.Name}";
                list.Add(new Operation(id, new HttpMethod(op.Name.ToUpperInvariant()), path.Name, op.Value.TryGetProperty("requestBody", out _)));
            }
        }
        return list;
    }

    private static IEnumerable<string> ParametersOf(string path) =>
        path.Split('/').Where(s => s.StartsWith('{') && s.EndsWith('}')).Select(s => s[1..^1]);

    private static IEnumerable<string> StringsOf(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => StringsOf(p.Value)),
        JsonArray a => a.SelectMany(StringsOf),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };

    // ------------------------------------------------------------------ events, and A afterwards

    /// <summary>
    /// B's event stream, replayed from its start, up to an event B causes itself after A caused one: it shows none of A's.
    /// </summary>
    private async Task CheckEventStreamAsync(World a, HttpClient b, List<string> failures)
    {
        using var deadline = Deadline();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events?last_event_id=0");
        using var response = await b.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            failures.Add($"StreamEvents as B: {(int)response.StatusCode}");
            return;
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token));
        Assert.StartsWith(":", await reader.ReadLineAsync(deadline.Token), StringComparison.Ordinal);
        var fromA = await Admin.PostJsonAsync("/api/v1/jobs", new { queue = a.Queue, type = "alpha.late" }).Expect(HttpStatusCode.Created);
        await Admin.PostAsync($"/api/v1/queues/{a.Queue}/pause", null).Expect(HttpStatusCode.OK);
        await Admin.PostAsync($"/api/v1/queues/{a.Queue}/resume", null).Expect(HttpStatusCode.OK);
        var sentinel = await b.PostJsonAsync("/api/v1/jobs", new { queue = "b-events", type = "b.sentinel" }).Expect(HttpStatusCode.Created);
        var seen = new List<string>();
        while (await reader.ReadLineAsync(deadline.Token) is { } line)
        {
            seen.Add(line);
            if (line.Contains(sentinel.Str("id"), StringComparison.Ordinal)) break;
        }
        var text = string.Join("\n", seen);
        foreach (var secret in a.Secrets.Append(fromA.Str("id")).Where(s => text.Contains(s, StringComparison.Ordinal)))
        {
            failures.Add($"StreamEvents: B's stream shows A's '{secret}': {text}");
        }
    }

    /// <summary>
    /// B's WebSocket stream, replayed from its start (<c>?after=0</c>), up to an event B causes itself after A caused
    /// some: it shows none of A's.
    /// </summary>
    private async Task CheckWebSocketAsync(World a, HttpClient b, List<string> failures)
    {
        using var deadline = Deadline();
        var client = Factory.Server.CreateWebSocketClient();
        client.ConfigureRequest = r => r.Headers.Authorization = b.DefaultRequestHeaders.Authorization!.ToString();
        using var socket = await client.ConnectAsync(new Uri(Factory.Server.BaseAddress, "/api/v1/ws?after=0"), deadline.Token);
        var fromA = await Admin.PostJsonAsync("/api/v1/jobs", new { queue = a.Queue, type = "alpha.ws" }).Expect(HttpStatusCode.Created);
        await Admin.PostAsync($"/api/v1/queues/{a.Queue}/pause", null).Expect(HttpStatusCode.OK);
        await Admin.PostAsync($"/api/v1/queues/{a.Queue}/resume", null).Expect(HttpStatusCode.OK);
        var sentinel = await b.PostJsonAsync("/api/v1/jobs", new { queue = "b-ws", type = "b.sentinel" }).Expect(HttpStatusCode.Created);
        var seen = new List<string>();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, deadline.Token);
            if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                failures.Add("StreamEventsWebSocket: closed before B's own event came");
                break;
            }
            var message = System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count);
            seen.Add(message);
            if (message.Contains(sentinel.Str("id"), StringComparison.Ordinal)) break;
        }
        var text = string.Join("\n", seen);
        foreach (var secret in a.Secrets.Append(fromA.Str("id")).Where(s => text.Contains(s, StringComparison.Ordinal)))
        {
            failures.Add($"StreamEventsWebSocket: B's stream shows A's '{secret}': {text}");
        }
    }

    /// <summary>A's objects are as they were: B changed nothing.</summary>
    private async Task AssertUntouchedAsync(World a)
    {
        var job = await GetJobAsync(a.JobId);
        Assert.Equal("running", job.Str("state"));
        Assert.False(job.GetProperty("cancel_requested").GetBoolean());
        Assert.Equal(a.WorkerId, job.Str("worker_id"));
        var logs = await Admin.GetAsync($"/api/v1/jobs/{a.JobId}/logs").Expect(HttpStatusCode.OK);
        Assert.DoesNotContain("written by b", logs.ToString(), StringComparison.Ordinal);
        await Admin.PostJsonAsync($"/api/v1/jobs/{a.JobId}/heartbeat", new { lease_token = a.LeaseToken }).Expect(HttpStatusCode.OK);
        var queue = await Admin.GetAsync($"/api/v1/queues/{a.Queue}").Expect(HttpStatusCode.OK);
        Assert.Equal(3, queue.GetProperty("concurrency_limit").GetInt32());
        Assert.False(queue.GetProperty("paused").GetBoolean());
        Assert.Equal("active", (await Admin.GetAsync($"/api/v1/workers/{a.WorkerId}").Expect(HttpStatusCode.OK)).Str("state"));
        Assert.Contains(a.KeyId, (await Admin.GetAsync("/api/v1/api-keys").Expect(HttpStatusCode.OK)).Ids());
        var members = (await Admin.GetAsync("/api/v1/members").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray();
        Assert.Equal("viewer", members.Single(m => m.Str("user_id") == a.MemberId).Str("role"));
        Assert.Equal(a.MemberEmail, members.Single(m => m.Str("user_id") == a.MemberId).Str("name"));
        Assert.Equal(["Olga"], members.Where(m => m.Str("email") == OwnerEmail).Select(m => m.Str("name")));
        await LoginAsync(OwnerEmail);
        Assert.Contains(a.InviteId, (await Admin.GetAsync("/api/v1/invites").Expect(HttpStatusCode.OK)).Ids());
        var orgs = await Admin.GetAsync("/api/v1/organizations").Expect(HttpStatusCode.OK);
        Assert.Equal(a.OrgName, orgs.GetProperty("items").EnumerateArray().Single(o => o.Str("id") == a.OrgId).Str("name"));
        await Admin.GetAsync($"/api/v1/audit/{a.AuditId}").Expect(HttpStatusCode.OK);
        var schedule = await Admin.GetAsync($"/api/v1/schedules/{a.Schedule}").Expect(HttpStatusCode.OK);
        Assert.Equal("0 * * * *", schedule.Str("cron"));
        Assert.False(schedule.GetProperty("paused").GetBoolean());
        Assert.Equal(a.ScheduleId, schedule.Str("id"));
        var monitor = await Admin.GetAsync($"/api/v1/monitors/{a.Monitor}").Expect(HttpStatusCode.OK);
        Assert.Equal((a.MonitorId, a.MonitorPingKey, "new", 300), (monitor.Str("id"), monitor.Str("ping_key"), monitor.Str("state"), monitor.GetProperty("grace_seconds").GetInt32()));
        var workflow = await Admin.GetAsync($"/api/v1/workflows/{a.WorkflowId}").Expect(HttpStatusCode.OK);
        Assert.Equal("running", workflow.Str("state"));
        Assert.False(workflow.GetProperty("cancel_requested").GetBoolean());
        Assert.Equal(2, workflow.GetProperty("unfinished_steps").GetInt32());
        var template = await Admin.GetAsync($"/api/v1/workflow-templates/{a.Template}").Expect(HttpStatusCode.OK);
        Assert.Equal(["first", "second"], template.GetProperty("steps").EnumerateArray().Select(s => s.Str("id")));
        // B's run of A's template's name made nothing in A.
        Assert.Equal(0, (await Admin.GetAsync($"/api/v1/workflows?name={a.Template}").Expect(HttpStatusCode.OK)).GetProperty("items").GetArrayLength());
        var channel = await Admin.GetAsync($"/api/v1/alert-channels/{a.Channel}").Expect(HttpStatusCode.OK);
        Assert.Equal("https://alpha-hook-7c1e.example.com/x", channel.GetProperty("config").Str("url"));
        Assert.Equal("schedule_misfire", (await Admin.GetAsync($"/api/v1/alert-rules/{a.Rule}").Expect(HttpStatusCode.OK)).Str("kind"));
        Assert.Equal("open", (await Admin.GetAsync($"/api/v1/incidents/{a.IncidentId}").Expect(HttpStatusCode.OK)).Str("state"));
        Assert.Contains(a.WindowId, (await Admin.GetAsync("/api/v1/maintenance-windows").Expect(HttpStatusCode.OK)).Ids());
        var webhook = await Admin.GetAsync($"/api/v1/webhooks/{a.WebhookId}").Expect(HttpStatusCode.OK);
        Assert.True(webhook.GetProperty("enabled").GetBoolean());
        Assert.Equal("https://alpha-webhook-7c1e.example.com/hook", webhook.Str("url"));
        await Admin.GetAsync($"/api/v1/webhooks/{a.WebhookId}/deliveries/{a.DeliveryId}").Expect(HttpStatusCode.OK);
    }
}
