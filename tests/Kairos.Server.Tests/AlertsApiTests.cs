using System.Net;
using System.Text.Json;
using Kairos.Core.Alerts;
using Kairos.Core.Events;
using Kairos.Core.Storage;
using Kairos.Core.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>
/// Alert channels, rules, incidents and maintenance windows through the API, on a fake clock, with every channel
/// pointed at a local fake (HTTP receivers for Slack, PagerDuty and webhooks, an SMTP server for email). Outbound calls
/// to loopback are allowed here (the setting the fakes need); <see cref="WebhooksApiTests"/> proves the refusal.
/// </summary>
#pragma warning disable CA1001 // the fakes are disposed by IAsyncLifetime.DisposeAsync, which xUnit calls after every test
public sealed class AlertsApiTests() : ApiTest(fakeTime: true, options: o => o with { OutboundAllowPrivate = true }), IAsyncLifetime
{
    private FakeReceiver _slack = null!;
    private FakeReceiver _pager = null!;
    private FakeReceiver _hook = null!;
    private FakeSmtpServer _smtp = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        _slack = await FakeReceiver.StartAsync();
        _pager = await FakeReceiver.StartAsync();
        _hook = await FakeReceiver.StartAsync();
        _smtp = new FakeSmtpServer();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await _slack.DisposeAsync();
        await _pager.DisposeAsync();
        await _hook.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    private AlertEvaluator Evaluator => Factory.Services.GetRequiredService<AlertEvaluator>();
    private IKairosStore Store => Factory.Services.GetRequiredService<IKairosStore>();

    private Task<JsonElement> ChannelAsync(string name, string kind, object config) =>
        Admin.PostJsonAsync("/api/v1/alert-channels", new { name, kind, config }).Expect(HttpStatusCode.Created);

    private Task<JsonElement> SlackAsync(string name = "slack") => ChannelAsync(name, "slack", new { url = _slack.Url });
    private Task<JsonElement> PagerAsync(string name = "pager") => ChannelAsync(name, "pagerduty", new { routing_key = "R0UT1NGKEY0123456789abcdef", events_url = _pager.Url, severity = "critical" });

    /// <summary>A job in <paramref name="queue"/> that fails for good (one attempt).</summary>
    private async Task<string> FailJobAsync(string queue = "mail", string message = "SMTP 550 mailbox unavailable")
    {
        var job = await EnqueueAsync(new { queue, type = "email.send", max_attempts = 1 });
        var worker = await RegisterWorkerAsync(null, queue);
        var leased = Assert.Single(await FetchAsync(worker, queue, 1));
        await Admin.PostJsonAsync($"/api/v1/jobs/{leased.Str("id")}/fail", new { lease_token = leased.Str("lease_token"), error = new { message } }).Expect(HttpStatusCode.OK);
        return job.Str("id");
    }

    /// <summary>A job in <paramref name="queue"/> that succeeds.</summary>
    private async Task SucceedJobAsync(string queue = "mail")
    {
        await EnqueueAsync(new { queue, type = "email.send", max_attempts = 1 });
        var worker = await RegisterWorkerAsync(null, queue);
        var leased = Assert.Single(await FetchAsync(worker, queue, 1));
        await Admin.PostJsonAsync($"/api/v1/jobs/{leased.Str("id")}/ack", new { lease_token = leased.Str("lease_token") }).Expect(HttpStatusCode.OK);
    }

    /// <summary>The headlines the fake Slack got, in order.</summary>
    private List<string> SlackTexts() => _slack.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.Str("text")).ToList();

    /// <summary>The one incident of a rule, through the API.</summary>
    private async Task<JsonElement> IncidentOfAsync(string rule) =>
        Assert.Single((await Admin.GetAsync($"/api/v1/incidents?rule={rule}").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

    /// <summary>
    /// An incident's history, oldest first, once it holds <paramref name="count"/> events: a notice is recorded after
    /// its channel answered, so just after a fake receiver saw it (the CI once read the history in between). Polled,
    /// bounded by the deadline.
    /// </summary>
    private async Task<List<JsonElement>> EventsAsync(string incident, int count)
    {
        using var deadline = Deadline();
        while (true)
        {
            var events = (await Admin.GetAsync($"/api/v1/incidents/{incident}").Expect(HttpStatusCode.OK)).GetProperty("events").EnumerateArray().ToList();
            if (events.Count >= count) return events;
            await Task.Delay(20, deadline.Token); // polls the condition, bounded by the deadline
        }
    }

    /// <summary>The kinds of an incident's history once it holds <paramref name="count"/> events (<see cref="EventsAsync"/>).</summary>
    private async Task<List<string>> HistoryAsync(string incident, int count) => [.. (await EventsAsync(incident, count)).Select(e => e.Str("kind"))];

    /// <summary>The rule's one incident is resolved and the second message Slack got is its resolve notice.</summary>
    private async Task ExpectResolvedAsync(string rule, string notice)
    {
        await _slack.WaitForAsync(2);
        Assert.Equal(notice, SlackTexts()[1]);
        Assert.Equal("resolved", (await IncidentOfAsync(rule)).Str("state"));
    }

    [Fact]
    public async Task Each_channel_kind_gets_its_own_payload_on_a_test_send()
    {
        await SlackAsync();
        await PagerAsync();
        await ChannelAsync("hook", "webhook", new { url = _hook.Url, secret = "whsec_channel_secret_123456", headers = new Dictionary<string, string> { ["X-Team"] = "ops" } });
        await ChannelAsync("mail", "email", new { host = "127.0.0.1", port = _smtp.Port, tls = "none", username = "kairos", password = "smtp-pass-123", from = "kairos@example.com", to = new[] { "ops@example.com", "oncall@example.com" } });

        foreach (var name in new[] { "slack", "pager", "hook", "mail" })
        {
            var result = await Admin.PostAsync($"/api/v1/alert-channels/{name}/test", null).Expect(HttpStatusCode.OK);
            Assert.True(result.GetProperty("delivered").GetBoolean(), $"{name}: {result}");
        }

        var slack = JsonDocument.Parse(Assert.Single(await _slack.WaitForAsync(1)).Body).RootElement;
        Assert.Contains("[TEST]", slack.Str("text"), StringComparison.Ordinal);
        var blocks = slack.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal("header", blocks[0].Str("type"));
        Assert.Equal("plain_text", blocks[0].GetProperty("text").Str("type"));
        Assert.Contains(blocks, b => b.Str("type") == "section" && b.GetProperty("text").Str("type") == "mrkdwn");

        var pager = await _pager.WaitForAsync(2);
        var trigger = JsonDocument.Parse(pager[0].Body).RootElement;
        var resolve = JsonDocument.Parse(pager[1].Body).RootElement;
        Assert.Equal("R0UT1NGKEY0123456789abcdef", trigger.Str("routing_key"));
        Assert.Equal("trigger", trigger.Str("event_action"));
        Assert.Equal("critical", trigger.GetProperty("payload").Str("severity"));
        Assert.Equal("kairos", trigger.GetProperty("payload").Str("source"));
        Assert.Equal("resolve", resolve.Str("event_action"));
        Assert.Equal(trigger.Str("dedup_key"), resolve.Str("dedup_key"));

        var hook = Assert.Single(await _hook.WaitForAsync(1));
        var body = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal("alert.test", body.Str("type"));
        Assert.Equal("ops", hook.Header("X-Team"));
        Assert.True(WebhookSignature.Verify("whsec_channel_secret_123456", hook.Header("Kairos-Signature"), hook.Body, Time.GetUtcNow(), TimeSpan.FromMinutes(5)));

        var mail = Assert.Single(await _smtp.WaitForAsync(1));
        Assert.Equal("kairos@example.com", mail.From);
        Assert.Equal(["ops@example.com", "oncall@example.com"], mail.To);
        Assert.Contains("Subject: [Kairos] [TEST]", mail.Data, StringComparison.Ordinal);
        Assert.Equal("\0kairos\0smtp-pass-123", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(mail.AuthPlain!)));
    }

    [Fact]
    public async Task Channel_secrets_are_encrypted_at_rest_masked_in_answers_and_kept_when_sent_back_masked()
    {
        await SlackAsync();
        await PagerAsync();
        var slack = await Admin.GetAsync("/api/v1/alert-channels/slack").Expect(HttpStatusCode.OK);
        Assert.Equal("http://127.0.0.1/••••", slack.GetProperty("config").Str("url"));
        var pager = await Admin.GetAsync("/api/v1/alert-channels/pager").Expect(HttpStatusCode.OK);
        Assert.Equal("••••cdef", pager.GetProperty("config").Str("routing_key"));
        var list = await Admin.GetAsync("/api/v1/alert-channels").Expect(HttpStatusCode.OK);
        Assert.DoesNotContain("R0UT1NGKEY", list.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_slack.Url, list.ToString(), StringComparison.Ordinal);

        var stored = await Store.Alerts.GetChannelAsync(new NamedParams(Kairos.Core.Auth.Organizations.Default, "pager"), CancellationToken.None);
        Assert.DoesNotContain("R0UT1NGKEY", stored!.ConfigJson, StringComparison.Ordinal);
        Assert.Contains("dp1:", stored.ConfigJson, StringComparison.Ordinal);

        // The console saves what it was shown: the masked secrets stay what they were.
        await Admin.PutJsonAsync("/api/v1/alert-channels/pager", new { kind = "pagerduty", config = pager.GetProperty("config") }).Expect(HttpStatusCode.OK);
        await Admin.PutJsonAsync("/api/v1/alert-channels/slack", new { kind = "slack", config = new { } }).Expect(HttpStatusCode.OK);
        Assert.True((await Admin.PostAsync("/api/v1/alert-channels/pager/test", null).Expect(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
        Assert.True((await Admin.PostAsync("/api/v1/alert-channels/slack/test", null).Expect(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
        Assert.Equal("R0UT1NGKEY0123456789abcdef", JsonDocument.Parse((await _pager.WaitForAsync(1))[0].Body).RootElement.Str("routing_key"));
        await _slack.WaitForAsync(1);
    }

    [Fact]
    public async Task A_failing_job_fires_once_within_the_cooldown_and_resolves_with_a_notice_under_one_dedup_key()
    {
        await SlackAsync();
        await PagerAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "mail-failures", kind = "job_failed", queue = "mail", threshold = 1, window_ms = 300_000,
            cooldown_ms = 600_000, channels = new[] { "slack", "pager" } }).Expect(HttpStatusCode.Created);

        var failed = await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var fired = JsonDocument.Parse((await _slack.WaitForAsync(1))[0].Body).RootElement;
        Assert.StartsWith("[FIRING] 1 job failed in queue mail", fired.Str("text"), StringComparison.Ordinal);
        Assert.Contains(failed, fired.ToString(), StringComparison.Ordinal);
        Assert.Contains("SMTP 550", fired.ToString(), StringComparison.Ordinal);
        var trigger = JsonDocument.Parse((await _pager.WaitForAsync(1))[0].Body).RootElement;
        Assert.Equal("trigger", trigger.Str("event_action"));

        // Still failing inside the cool-down: the incident is updated, nobody is notified again.
        Time.Advance(TimeSpan.FromMinutes(2));
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var open = Assert.Single((await Admin.GetAsync("/api/v1/incidents?state=open").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Equal("mail-failures", open.Str("rule"));
        Assert.StartsWith("2 jobs failed", open.Str("title"), StringComparison.Ordinal);
        Assert.True(open.GetProperty("fire_count").GetInt64() >= 2);

        // The window passes without failures: resolved, and the resolve notice is the next (second) message each channel gets.
        Time.Advance(TimeSpan.FromMinutes(6));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var slack = await _slack.WaitForAsync(2);
        Assert.Equal(2, slack.Count);
        Assert.StartsWith("[RESOLVED]", JsonDocument.Parse(slack[1].Body).RootElement.Str("text"), StringComparison.Ordinal);
        var pager = await _pager.WaitForAsync(2);
        Assert.Equal(2, pager.Count);
        var resolve = JsonDocument.Parse(pager[1].Body).RootElement;
        Assert.Equal("resolve", resolve.Str("event_action"));
        Assert.Equal(trigger.Str("dedup_key"), resolve.Str("dedup_key"));

        // A channel's fake server has the notice before the notifier records it: wait for the record.
        using var deadline = Deadline();
        JsonElement incident;
        List<string> history;
        while (true)
        {
            incident = await Admin.GetAsync($"/api/v1/incidents/{open.Str("id")}").Expect(HttpStatusCode.OK);
            history = [.. incident.GetProperty("events").EnumerateArray().Select(e => e.Str("kind"))];
            if (history.Count >= 6) break;
            await Task.Delay(20, deadline.Token); // polls until the notifier has written, at most until the deadline
        }
        Assert.Equal("resolved", incident.Str("state"));
        Assert.Equal(["opened", "notified", "notified", "resolved", "notified", "notified"], history);
        Assert.Empty((await Admin.GetAsync("/api/v1/incidents?state=open").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_maintenance_window_silences_its_rule()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "quiet", kind = "job_failed", queue = "mail", channels = new[] { "slack" } }).Expect(HttpStatusCode.Created);
        var window = await Admin.PostJsonAsync("/api/v1/maintenance-windows", new { rule = "quiet", duration_ms = 3_600_000, reason = "deploy" }).Expect(HttpStatusCode.Created);
        Assert.True(window.GetProperty("active").GetBoolean());
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Empty((await Admin.GetAsync("/api/v1/incidents").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Once the window is gone the same failure fires.
        await Admin.DeleteAsync($"/api/v1/maintenance-windows/{window.Str("id")}").Expect(HttpStatusCode.NoContent);
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Single(await _slack.WaitForAsync(1));
        Assert.Single((await Admin.GetAsync("/api/v1/incidents?rule=quiet").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Monitor_events_open_and_resolve_incidents_through_the_leaders_loop()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "backups", kind = "monitor", monitor_states = new[] { "late", "down" }, channels = new[] { "slack" } })
            .Expect(HttpStatusCode.Created);
        var bus = Factory.Services.GetRequiredService<EventBus>();
        var org = Kairos.Core.Auth.Organizations.Default;
        // As the monitors publish them.
        var monitor = Guid.NewGuid();
        bus.Publish("monitor.down", org, new Kairos.Core.Monitors.MonitorEventData(monitor, "Nightly backup", "nightly-backup", "down", "late", "no ping for 2 h"));
        var down = JsonDocument.Parse((await _slack.WaitForAsync(1))[0].Body).RootElement;
        Assert.Equal("[FIRING] Monitor Nightly backup is down", down.Str("text"));
        bus.Publish("monitor.up", org, new Kairos.Core.Monitors.MonitorEventData(monitor, "Nightly backup", "nightly-backup", "up", "down", "ping"));
        var up = JsonDocument.Parse((await _slack.WaitForAsync(2))[1].Body).RootElement;
        Assert.Equal("[RESOLVED] Monitor Nightly backup is down", up.Str("text"));
        var incident = Assert.Single((await Admin.GetAsync("/api/v1/incidents").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Equal("monitor:nightly-backup", incident.Str("key"));
        Assert.Equal("resolved", incident.Str("state"));
    }

    [Fact]
    public async Task A_channel_that_refuses_is_recorded_as_notify_failed_and_the_other_channels_still_get_the_notice()
    {
        _slack.Status = _ => 500;
        await SlackAsync();
        await PagerAsync();
        var test = await Admin.PostAsync("/api/v1/alert-channels/slack/test", null).Expect(HttpStatusCode.OK);
        Assert.False(test.GetProperty("delivered").GetBoolean());
        Assert.Equal("Slack answered HTTP 500", test.Str("error"));

        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "mail-failures", kind = "job_failed", queue = "mail", channels = new[] { "slack", "pager" } })
            .Expect(HttpStatusCode.Created);
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var pager = await _pager.WaitForAsync(1);
        Assert.Equal("trigger", JsonDocument.Parse(pager[0].Body).RootElement.Str("event_action"));
        Assert.Equal(2, (await _slack.WaitForAsync(2)).Count);

        var incident = await IncidentOfAsync("mail-failures");
        var events = await EventsAsync(incident.Str("id"), 3);
        Assert.Equal(["opened", "notify_failed", "notified"], events.Select(e => e.Str("kind")));
        Assert.Equal("firing to slack: Slack answered HTTP 500", events[1].Str("message"));
        Assert.Equal("firing to pager", events[2].Str("message"));
    }

    [Fact]
    public async Task A_real_monitor_going_late_then_down_fires_one_incident_and_its_next_ping_resolves_it()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "backups", kind = "monitor", monitor_states = new[] { "late", "down" }, channels = new[] { "slack" } })
            .Expect(HttpStatusCode.Created);
        var monitor = await Admin.PostJsonAsync("/api/v1/monitors", new { name = "nightly-backup", period_seconds = 3600, grace_seconds = 300 }).Expect(HttpStatusCode.Created);
        var ping = new Uri(monitor.Str("ping_url")).AbsolutePath;
        var anonymous = Client(null);
        using var deadline = Deadline(30);
        await anonymous.GetAsync(ping).Pinged();

        // The leader's monitor watch decides late, then down; the leader's evaluation turns them into one incident.
        Time.Advance(TimeSpan.FromHours(1));
        await _slack.WaitForAsync(1);
        Assert.Equal(["[FIRING] Monitor nightly-backup is late"], SlackTexts());
        Time.Advance(TimeSpan.FromMinutes(5));
        while ((await IncidentOfAsync("backups")).Str("title") != "Monitor nightly-backup is down")
        {
            await Task.Delay(20, deadline.Token); // polls the condition, bounded by the deadline
        }
        var incident = await IncidentOfAsync("backups");
        Assert.Equal(("monitor:nightly-backup", "open", 2L), (incident.Str("key"), incident.Str("state"), incident.GetProperty("fire_count").GetInt64()));
        Assert.Single(SlackTexts()); // inside the cool-down

        await anonymous.GetAsync(ping).Pinged();
        await ExpectResolvedAsync("backups", "[RESOLVED] Monitor nightly-backup is down");
    }

    [Fact]
    public async Task A_planned_maintenance_window_silences_only_from_its_start_to_its_end()
    {
        await SlackAsync();
        foreach (var queue in new[] { "mail", "billing" })
        {
            await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = queue + "-failures", kind = "job_failed", queue, window_ms = 3 * 3_600_000,
                cooldown_ms = 3 * 3_600_000, channels = new[] { "slack" } }).Expect(HttpStatusCode.Created);
        }
        // Every rule, from ten minutes on, for an hour.
        var start = Time.GetUtcNow().AddMinutes(10);
        var window = await Admin.PostJsonAsync("/api/v1/maintenance-windows", new { starts_at = start, duration_ms = 3_600_000, reason = "upgrade" }).Expect(HttpStatusCode.Created);
        Assert.False(window.GetProperty("active").GetBoolean());
        Assert.True(window.IsNull("rule"));

        // Before it starts: a failure fires.
        await FailJobAsync("mail");
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Equal("open", (await IncidentOfAsync("mail-failures")).Str("state"));

        // While it runs: silence, and an incident opened before it stays open.
        Time.Advance(TimeSpan.FromMinutes(10));
        Assert.True((await Admin.GetAsync("/api/v1/maintenance-windows").Expect(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("active").GetBoolean());
        await FailJobAsync("billing");
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Empty((await Admin.GetAsync("/api/v1/incidents?rule=billing-failures").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Equal("open", (await IncidentOfAsync("mail-failures")).Str("state"));

        // Once it has ended, the same failure (still within the rule's window) fires.
        Time.Advance(TimeSpan.FromHours(1));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Equal("open", (await IncidentOfAsync("billing-failures")).Str("state"));
        await _slack.WaitForAsync(2);
        Assert.Equal(["[FIRING] 1 job failed in queue mail in the last 3 h", "[FIRING] 1 job failed in queue billing in the last 3 h"],
            SlackTexts());
    }

    [Fact]
    public async Task A_backlog_whose_oldest_ready_job_waits_too_long_fires_and_resolves_once_the_job_is_taken()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "stale", kind = "queue_backlog", max_age_ms = 600_000, channels = new[] { "slack" } })
            .Expect(HttpStatusCode.Created);
        await EnqueueAsync("reports");
        Time.Advance(TimeSpan.FromMinutes(9));
        await EnqueueAsync("exports"); // young: never old enough here
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Empty((await Admin.GetAsync("/api/v1/incidents").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // The leader's own pass (due with the clock's move) fires; once it notified, it is done with the job.
        Time.Advance(TimeSpan.FromMinutes(2));
        await _slack.WaitForAsync(1);
        var incident = await IncidentOfAsync("stale");
        Assert.Equal("queue:reports", incident.Str("key"));
        Assert.Equal("The oldest ready job of queue reports waits for 11 min", incident.Str("title"));

        // A worker takes it: the queue has no ready job left, the incident is resolved with a notice.
        var worker = await RegisterWorkerAsync(null, "reports");
        Assert.Single(await FetchAsync(worker, "reports", 1));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await ExpectResolvedAsync("stale", "[RESOLVED] The oldest ready job of queue reports waits for 11 min");
    }

    [Fact]
    public async Task Queue_backlog_fires_per_queue_above_its_threshold()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "backlog", kind = "queue_backlog", threshold = 2, channels = new[] { "slack" } }).Expect(HttpStatusCode.Created);
        for (var i = 0; i < 3; i++) await EnqueueAsync("reports");
        await EnqueueAsync("small");
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var incident = Assert.Single((await Admin.GetAsync("/api/v1/incidents").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Equal("queue:reports", incident.Str("key"));
        Assert.Equal("Queue reports has 3 ready jobs (more than 2)", incident.Str("title"));
        await _slack.WaitForAsync(1);
    }

    [Fact]
    public async Task Bad_rules_and_channels_are_refused_naming_the_field_and_change_nothing()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "x", kind = "carrier-pigeon", config = new { } }).ExpectProblem(HttpStatusCode.BadRequest, "kind");
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "x", kind = "slack", config = new { url = "not a url" } }).ExpectProblem(HttpStatusCode.BadRequest, "config.url");
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "x", kind = "email", config = new { host = "smtp.example.com" } })
            .ExpectProblem(HttpStatusCode.BadRequest, "config.from", "config.to");
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "bad name!", kind = "slack", config = new { url = _slack.Url } }).ExpectProblem(HttpStatusCode.BadRequest, "name");
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "slack", kind = "slack", config = new { url = _slack.Url } }).ExpectProblem(HttpStatusCode.Conflict);

        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "r", kind = "sometimes", channels = new[] { "slack" } }).ExpectProblem(HttpStatusCode.BadRequest, "kind");
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "r", kind = "job_failed", channels = new[] { "nope" } }).ExpectProblem(HttpStatusCode.BadRequest, "channels");
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "r", kind = "failure_rate", channels = new[] { "slack" } }).ExpectProblem(HttpStatusCode.BadRequest, "rate_percent");
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "r", kind = "queue_backlog", channels = new[] { "slack" } }).ExpectProblem(HttpStatusCode.BadRequest, "threshold");
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "r", kind = "monitor", monitor_states = new[] { "sleepy" }, channels = new[] { "slack" } })
            .ExpectProblem(HttpStatusCode.BadRequest, "monitor_states");
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "r", kind = "job_failed", cooldown_ms = -1, channels = new[] { "slack" } }).ExpectProblem(HttpStatusCode.BadRequest, "cooldown_ms");
        await Admin.PostJsonAsync("/api/v1/maintenance-windows", new { rule = "nope", duration_ms = 1000 }).ExpectProblem(HttpStatusCode.BadRequest, "rule");
        await Admin.PostJsonAsync("/api/v1/maintenance-windows", new { }).ExpectProblem(HttpStatusCode.BadRequest, "ends_at");
        Assert.Empty((await Admin.GetAsync("/api/v1/alert-rules").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Single((await Admin.GetAsync("/api/v1/alert-channels").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "uses-slack", kind = "worker_lost", channels = new[] { "slack" } }).Expect(HttpStatusCode.Created);
        await Admin.DeleteAsync("/api/v1/alert-channels/slack").ExpectProblem(HttpStatusCode.Conflict);
        await Admin.GetAsync("/api/v1/alert-rules/nope").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.GetAsync($"/api/v1/incidents/{Guid.NewGuid()}").ExpectProblem(HttpStatusCode.NotFound);
        await Admin.PostAsync($"/api/v1/incidents/{Guid.NewGuid()}/resolve", null).ExpectProblem(HttpStatusCode.NotFound);
        var viewer = Client(await CreateKeyAsync("read"));
        await viewer.GetAsync("/api/v1/alert-rules").Expect(HttpStatusCode.OK);
        await viewer.GetAsync("/api/v1/alert-channels").ExpectProblem(HttpStatusCode.Forbidden);
        await viewer.PostJsonAsync("/api/v1/alert-rules", new { name = "v", kind = "worker_lost", channels = new[] { "slack" } }).ExpectProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_failure_rate_above_its_percentage_fires_once_stays_quiet_in_the_cooldown_and_resolves()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "mail-rate", kind = "failure_rate", queue = "mail", rate_percent = 50, min_jobs = 4,
            window_ms = 300_000, cooldown_ms = 600_000, channels = new[] { "slack" } }).Expect(HttpStatusCode.Created);

        // 2 of 4 is 50%: not above it. Other queues do not count.
        await SucceedJobAsync();
        await SucceedJobAsync();
        await FailJobAsync();
        await FailJobAsync();
        await FailJobAsync("other");
        await FailJobAsync("other");
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Empty((await Admin.GetAsync("/api/v1/incidents").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // 3 of 5 is 60%: fires.
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await _slack.WaitForAsync(1);
        Assert.Equal(["[FIRING] 60% of jobs failed in queue mail in the last 5 min"], SlackTexts());
        var incident = await IncidentOfAsync("mail-rate");
        Assert.Equal("rate", incident.Str("key"));
        Assert.Contains("3 failed, 2 succeeded", incident.Str("summary"), StringComparison.Ordinal);

        // Still above inside the cool-down: the incident is updated, nobody hears of it again.
        Time.Advance(TimeSpan.FromMinutes(2));
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        incident = await IncidentOfAsync("mail-rate");
        Assert.Equal("open", incident.Str("state"));
        Assert.StartsWith("66.7% of jobs failed", incident.Str("title"), StringComparison.Ordinal);
        Assert.Single(SlackTexts());

        // The window passes without jobs: resolved with a notice.
        Time.Advance(TimeSpan.FromMinutes(6));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await _slack.WaitForAsync(2);
        Assert.Equal("[RESOLVED] 66.7% of jobs failed in queue mail in the last 5 min", SlackTexts()[1]);
        Assert.Equal(2, _slack.Received.Count);
        Assert.Equal(["opened", "notified", "resolved", "notified"], await HistoryAsync(incident.Str("id"), 4));
    }

    [Fact]
    public async Task N_job_failures_within_the_window_fire_once_stay_quiet_in_the_cooldown_and_resolve_when_they_age_out()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "three", kind = "job_failed", queue = "mail", threshold = 3, window_ms = 300_000,
            cooldown_ms = 600_000, channels = new[] { "slack" } }).Expect(HttpStatusCode.Created);

        // Two failures, then a third after they left the window: never three within it.
        await FailJobAsync();
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(6));
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Empty((await Admin.GetAsync("/api/v1/incidents").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Two more within the window: three, fires.
        Time.Advance(TimeSpan.FromMinutes(1));
        await FailJobAsync();
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await _slack.WaitForAsync(1);
        Assert.StartsWith("[FIRING] 3 jobs failed in queue mail in the last 5 min", SlackTexts()[0], StringComparison.Ordinal);

        // A fourth inside the cool-down: updated, quiet.
        Time.Advance(TimeSpan.FromMinutes(1));
        await FailJobAsync();
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var incident = await IncidentOfAsync("three");
        Assert.StartsWith("4 jobs failed", incident.Str("title"), StringComparison.Ordinal);
        Assert.Single(SlackTexts());

        // 4.5 minutes on, only the fourth is left in the window (1 < 3): resolved.
        Time.Advance(TimeSpan.FromMinutes(4.5));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await _slack.WaitForAsync(2);
        Assert.Equal(2, _slack.Received.Count);
        Assert.StartsWith("[RESOLVED] 4 jobs failed", SlackTexts()[1], StringComparison.Ordinal);
        Assert.Equal("resolved", (await IncidentOfAsync("three")).Str("state"));
    }

    [Fact]
    public async Task A_lost_worker_fires_once_stays_quiet_in_the_cooldown_and_resolves_when_it_comes_back()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "lost", kind = "worker_lost", cooldown_ms = 600_000, channels = new[] { "slack" } })
            .Expect(HttpStatusCode.Created);
        var worker = await RegisterWorkerAsync(null, "mail");
        // Kairos' own worker (webhook deliveries) is labelled internal: its loss is never alerted.
        var internalWorker = (await Admin.PostJsonAsync("/api/v1/workers", new { name = "kairos-webhooks", queues = new[] { "kairos.webhooks" },
            labels = new Dictionary<string, string> { [AlertEvaluator.InternalLabel] = "webhooks" } }).Expect(HttpStatusCode.Created)).Str("id");
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Empty((await Admin.GetAsync("/api/v1/incidents").Expect(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Silent past the heartbeat timeout: the maintenance pass declares both lost, the rule alerts the one.
        Time.Advance(TimeSpan.FromSeconds(31));
        await Factory.Services.GetRequiredService<Kairos.Core.Dispatch.Dispatcher>().RunMaintenanceAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal("lost", (await Admin.GetAsync($"/api/v1/workers/{worker}").Expect(HttpStatusCode.OK)).Str("state"));
        Assert.Equal("lost", (await Admin.GetAsync($"/api/v1/workers/{internalWorker}").Expect(HttpStatusCode.OK)).Str("state"));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await _slack.WaitForAsync(1);
        Assert.Equal(["[FIRING] Worker worker-1 is lost"], SlackTexts());
        var incident = await IncidentOfAsync("lost");
        Assert.Equal($"worker:{worker}", incident.Str("key"));
        Assert.Contains("host host-a, queues mail", incident.Str("summary"), StringComparison.Ordinal);

        // Still lost two minutes later: quiet.
        Time.Advance(TimeSpan.FromMinutes(2));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Single(SlackTexts());
        Assert.True((await IncidentOfAsync("lost")).GetProperty("fire_count").GetInt64() >= 2);

        // A heartbeat brings it back: resolved with a notice.
        await Admin.PostAsync($"/api/v1/workers/{worker}/heartbeat", null).Expect(HttpStatusCode.OK);
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await _slack.WaitForAsync(2);
        Assert.Equal(["[FIRING] Worker worker-1 is lost", "[RESOLVED] Worker worker-1 is lost"], SlackTexts());
        Assert.Equal("resolved", (await IncidentOfAsync("lost")).Str("state"));
    }

    [Fact]
    public async Task A_real_schedule_misfire_fires_once_stays_quiet_in_the_cooldown_and_resolves_after_a_quiet_window()
    {
        await SlackAsync();
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "misfires", kind = "schedule_misfire", schedule = "minutely", window_ms = 1_800_000,
            cooldown_ms = 3_600_000, channels = new[] { "slack" } }).Expect(HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/v1/schedules", new { name = "minutely", cron = "* * * * *", job = new { queue = "reports", type = "report.build" } })
            .Expect(HttpStatusCode.Created);
        using var deadline = Deadline(30);

        // The server stalls for ten minutes (the clock jumps): the scheduler on the leader misses nine fire times beyond
        // the tolerance and says so; the leader's evaluation opens the incident and notifies once.
        Time.Advance(TimeSpan.FromMinutes(10));
        await _slack.WaitForAsync(1);
        Assert.Equal(["[FIRING] Schedule minutely missed 9 fire times"], SlackTexts());
        var incident = await IncidentOfAsync("misfires");
        Assert.Equal("schedule:minutely", incident.Str("key"));

        // Another stall inside the cool-down: the incident counts it, nobody is notified.
        Time.Advance(TimeSpan.FromMinutes(10));
        while ((await IncidentOfAsync("misfires")).GetProperty("fire_count").GetInt64() < 2)
        {
            await Task.Delay(20, deadline.Token); // polls the condition, bounded by the deadline
        }

        // No misfire for the window (the schedule paused): resolved with a notice, the second and last message.
        await Admin.PostJsonAsync("/api/v1/schedules/minutely/pause", new { reason = "quiet" }).Expect(HttpStatusCode.OK);
        Time.Advance(TimeSpan.FromMinutes(31));
        await Evaluator.EvaluateAsync(CancellationToken.None);
        await _slack.WaitForAsync(2);
        Assert.Equal(["[FIRING] Schedule minutely missed 9 fire times", "[RESOLVED] Schedule minutely missed 9 fire times"], SlackTexts());
        Assert.Equal("resolved", (await IncidentOfAsync("misfires")).Str("state"));
        Assert.Equal(["opened", "notified", "resolved", "notified"], await HistoryAsync(incident.Str("id"), 4));
    }
}
#pragma warning restore CA1001
