using Kairos.Core.Alerts;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>The alert facet: channels and rules per organization, incidents (one open per rule and key, cool-down), windows, figures.</summary>
public abstract partial class StoreConformance
{
    private static AlertRuleDefinition FailureRule(string name = "failures", int cooldownMs = 600_000) => new()
    {
        Name = name,
        Kind = AlertRuleKind.JobFailed,
        Queue = "mail",
        Threshold = 3,
        Channels = ["ops"],
        CooldownMs = cooldownMs,
    };

    private async Task<AlertRule> CreateRuleAsync(AlertRuleDefinition d, Guid? org = null) =>
        await Store.Alerts.CreateRuleAsync(new SaveRuleParams(org ?? OrgA, d), None) ?? throw new InvalidOperationException("not created");

    private Task<IncidentFiring> FireAsync(AlertRule rule, string key = "queue:mail", string title = "3 jobs failed") =>
        Store.Alerts.FireAsync(new FireIncidentParams(rule.OrganizationId, rule.Id, rule.Name, key, title, "summary", TimeSpan.FromMilliseconds(rule.Definition.CooldownMs)), None);

    [SkippableFact]
    public async Task Alert_channels_are_created_listed_updated_and_deleted_within_their_organization()
    {
        var created = await Store.Alerts.CreateChannelAsync(new SaveChannelParams(OrgA, "ops", AlertChannelKind.Slack, """{"url":"enc:abc"}"""), None);
        Assert.NotNull(created);
        Assert.Equal(AlertChannelKind.Slack, created.Kind);
        Assert.Equal("""{"url":"enc:abc"}""", created.ConfigJson);
        Assert.Equal(Start, created.CreatedAt);
        Assert.Null(await Store.Alerts.CreateChannelAsync(new SaveChannelParams(OrgA, "ops", AlertChannelKind.Email, "{}"), None));
        await Store.Alerts.CreateChannelAsync(new SaveChannelParams(OrgA, "a-pager", AlertChannelKind.Pagerduty, "{}"), None);
        await Store.Alerts.CreateChannelAsync(new SaveChannelParams(OrgA, "z-mail", AlertChannelKind.Email, "{}"), None);
        await Store.Alerts.CreateChannelAsync(new SaveChannelParams(OrgB, "ops", AlertChannelKind.Webhook, "{}"), None);

        var first = await Store.Alerts.ListChannelsAsync(new ListNamedParams(OrgA) { Limit = 2 }, None);
        Assert.Equal(["a-pager", "ops"], first.Items.Select(c => c.Name));
        var second = await Store.Alerts.ListChannelsAsync(new ListNamedParams(OrgA) { Limit = 2, Cursor = first.NextCursor }, None);
        Assert.Equal(["z-mail"], second.Items.Select(c => c.Name));
        Assert.Null(second.NextCursor);

        Time.Advance(TimeSpan.FromMinutes(1));
        var updated = await Store.Alerts.UpdateChannelAsync(new SaveChannelParams(OrgA, "ops", AlertChannelKind.Webhook, """{"url":"https://x"}"""), None);
        Assert.Equal(AlertChannelKind.Webhook, updated!.Kind);
        Assert.Equal(Start.AddMinutes(1), updated.UpdatedAt);
        Assert.Equal(Start, updated.CreatedAt);
        Assert.Null(await Store.Alerts.UpdateChannelAsync(new SaveChannelParams(OrgA, "nope", AlertChannelKind.Webhook, "{}"), None));
        Assert.Equal(AlertChannelKind.Webhook, (await Store.Alerts.GetChannelAsync(new NamedParams(OrgB, "ops"), None))!.Kind);

        Assert.True(await Store.Alerts.DeleteChannelAsync(new NamedParams(OrgA, "ops"), None));
        Assert.False(await Store.Alerts.DeleteChannelAsync(new NamedParams(OrgA, "ops"), None));
        Assert.Null(await Store.Alerts.GetChannelAsync(new NamedParams(OrgA, "ops"), None));
        Assert.NotNull(await Store.Alerts.GetChannelAsync(new NamedParams(OrgB, "ops"), None));
    }

    [SkippableFact]
    public async Task Alert_rules_keep_their_definition_and_only_enabled_ones_are_evaluated()
    {
        var d = FailureRule() with { JobType = "email.send", WindowMs = 120_000 };
        var created = await CreateRuleAsync(d);
        Assert.Equal(d, created.Definition with { Channels = d.Channels, MonitorStates = d.MonitorStates });
        Assert.Equal(["ops"], created.Definition.Channels);
        Assert.Null(await Store.Alerts.CreateRuleAsync(new SaveRuleParams(OrgA, d), None));
        await CreateRuleAsync(d with { Name = "off", Enabled = false });
        await CreateRuleAsync(d, OrgB);

        var enabled = await Store.Alerts.ListEnabledRulesAsync(None);
        Assert.Equal(2, enabled.Count);
        Assert.DoesNotContain(enabled, r => r.Name == "off");

        var updated = await Store.Alerts.UpdateRuleAsync(new SaveRuleParams(OrgA, d with { Threshold = 9, Enabled = false }), None);
        Assert.Equal(9, updated!.Definition.Threshold);
        Assert.Single(await Store.Alerts.ListEnabledRulesAsync(None));
        Assert.Equal(["failures", "off"], (await Store.Alerts.ListRulesAsync(new ListNamedParams(OrgA), None)).Items.Select(r => r.Name));
        Assert.True(await Store.Alerts.DeleteRuleAsync(new NamedParams(OrgA, "failures"), None));
        Assert.Null(await Store.Alerts.GetRuleAsync(new NamedParams(OrgA, "failures"), None));
        Assert.NotNull(await Store.Alerts.GetRuleAsync(new NamedParams(OrgB, "failures"), None));
    }

    [SkippableFact]
    public async Task Firing_opens_one_incident_per_rule_and_key_and_notifies_once_per_cooldown()
    {
        var rule = await CreateRuleAsync(FailureRule(cooldownMs: 600_000));
        var first = await FireAsync(rule);
        Assert.True(first.Opened);
        Assert.True(first.Notify);
        Assert.Equal(Start, first.Incident.LastNotifiedAt);
        Assert.True(first.Incident.Open);

        Time.Advance(TimeSpan.FromMinutes(5));
        var again = await FireAsync(rule, title: "5 jobs failed");
        Assert.False(again.Opened);
        Assert.False(again.Notify);
        Assert.Equal(first.Incident.Id, again.Incident.Id);
        Assert.Equal(2, again.Incident.FireCount);
        Assert.Equal("5 jobs failed", again.Incident.Title);
        Assert.Equal(Start.AddMinutes(5), again.Incident.LastFiredAt);

        var otherKey = await FireAsync(rule, key: "queue:billing");
        Assert.True(otherKey.Opened && otherKey.Notify);

        Time.Advance(TimeSpan.FromMinutes(5));
        var afterCooldown = await FireAsync(rule);
        Assert.True(afterCooldown.Notify);
        Assert.False(afterCooldown.Opened);

        // Resolved, then firing again within the cool-down: a new incident, not notified.
        Assert.NotNull(await Store.Alerts.ResolveAsync(new ResolveIncidentParams(OrgA, first.Incident.Id, "cleared"), None));
        Assert.Null(await Store.Alerts.ResolveAsync(new ResolveIncidentParams(OrgA, first.Incident.Id, "cleared"), None));
        Time.Advance(TimeSpan.FromMinutes(1));
        var reopened = await FireAsync(rule);
        Assert.True(reopened.Opened);
        Assert.False(reopened.Notify);
        Assert.NotEqual(first.Incident.Id, reopened.Incident.Id);

        var resolved = await Store.Alerts.GetIncidentAsync(new IncidentParams(OrgA, first.Incident.Id), None);
        Assert.Equal(Start.AddMinutes(10), resolved!.ResolvedAt);
        Assert.Equal(["opened", "resolved"], resolved.Events.Select(e => e.Kind));
        Assert.Equal(["opened", "suppressed"], (await Store.Alerts.GetIncidentAsync(new IncidentParams(OrgA, reopened.Incident.Id), None))!.Events.Select(e => e.Kind));
        Assert.Null(await Store.Alerts.GetIncidentAsync(new IncidentParams(OrgB, first.Incident.Id), None));
        Assert.Null(await Store.Alerts.ResolveAsync(new ResolveIncidentParams(OrgB, reopened.Incident.Id, null), None));

        await Store.Alerts.AddIncidentEventAsync(new IncidentEventParams(OrgA, reopened.Incident.Id, "notified", "slack ops"), None);
        Assert.Equal("slack ops", (await Store.Alerts.GetIncidentAsync(new IncidentParams(OrgA, reopened.Incident.Id), None))!.Events[^1].Message);

        var open = await Store.Alerts.ListOpenIncidentsAsync(new RuleIncidentsParams(OrgA, rule.Id), None);
        Assert.Equal(new[] { otherKey.Incident.Id, reopened.Incident.Id }.Order(), open.Select(i => i.Id).Order());
        var all = await Store.Alerts.ListIncidentsAsync(new ListIncidentsParams(OrgA) { Limit = 2 }, None);
        Assert.Equal([reopened.Incident.Id, otherKey.Incident.Id], all.Items.Select(i => i.Id));
        var rest = await Store.Alerts.ListIncidentsAsync(new ListIncidentsParams(OrgA) { Limit = 2, Cursor = all.NextCursor }, None);
        Assert.Equal([first.Incident.Id], rest.Items.Select(i => i.Id));
        Assert.Equal([first.Incident.Id], (await Store.Alerts.ListIncidentsAsync(new ListIncidentsParams(OrgA) { Open = false }, None)).Items.Select(i => i.Id));
        Assert.Equal(2, (await Store.Alerts.ListIncidentsAsync(new ListIncidentsParams(OrgA) { Open = true }, None)).Items.Count);
        Assert.Empty((await Store.Alerts.ListIncidentsAsync(new ListIncidentsParams(OrgB), None)).Items);
    }

    [SkippableFact]
    public async Task Concurrent_firings_of_one_rule_and_key_open_one_incident_and_notify_once()
    {
        var rule = await CreateRuleAsync(FailureRule());
        var results = new System.Collections.Concurrent.ConcurrentBag<IncidentFiring>();
        await RunConcurrentlyAsync(Enumerable.Range(0, 8).Select<int, Func<CancellationToken, Task>>(_ => async ct => results.Add(await FireAsync(rule))).ToList());
        Assert.Single(results.Select(r => r.Incident.Id).Distinct());
        Assert.Single(results, r => r.Opened);
        Assert.Single(results, r => r.Notify);
        Assert.Equal(8, (await Store.Alerts.GetIncidentAsync(new IncidentParams(OrgA, results.First().Incident.Id), None))!.FireCount);
    }

    [SkippableFact]
    public async Task Maintenance_windows_are_listed_until_they_end_and_deleted_within_their_organization()
    {
        var past = await Store.Alerts.CreateWindowAsync(new CreateWindowParams(OrgA, null, Start.AddHours(-2), Start.AddHours(-1), "done"), None);
        var now = await Store.Alerts.CreateWindowAsync(new CreateWindowParams(OrgA, "failures", Start.AddMinutes(-5), Start.AddHours(1), "deploy"), None);
        await Store.Alerts.CreateWindowAsync(new CreateWindowParams(OrgB, null, Start, Start.AddHours(1), null), None);
        Assert.Equal("failures", now.Rule);
        Assert.True(now.Covers("failures", Start));
        Assert.False(now.Covers("other", Start));
        Assert.Equal([past.Id, now.Id], (await Store.Alerts.ListWindowsAsync(new ListWindowsParams(OrgA), None)).Select(w => w.Id));
        Assert.Equal([now.Id], (await Store.Alerts.ListWindowsAsync(new ListWindowsParams(OrgA, Start), None)).Select(w => w.Id));
        Assert.False(await Store.Alerts.DeleteWindowAsync(new WindowParams(OrgB, now.Id), None));
        Assert.True(await Store.Alerts.DeleteWindowAsync(new WindowParams(OrgA, now.Id), None));
        Assert.Equal([past.Id], (await Store.Alerts.ListWindowsAsync(new ListWindowsParams(OrgA), None)).Select(w => w.Id));
    }

    [SkippableFact]
    public async Task Alert_figures_count_finished_jobs_in_a_window_and_the_ready_backlog()
    {
        var worker = await RegisterAsync("w", OrgA, "mail", "billing");
        async Task RunAsync(string queue, string type, bool fail)
        {
            await EnqueueAsync(MakeJob(queue, type) with { MaxAttempts = 1 });
            var leased = Assert.Single((await Store.Jobs.LeaseAsync(new LeaseParams(OrgA, worker.Id, [queue], 1, 30_000), None)).Jobs);
            var result = fail
                ? await Store.Jobs.FailAsync(new FailParams(OrgA, leased.Job.Id, leased.LeaseToken, new Failure(new JobError("boom", null, null))), None)
                : await Store.Jobs.AckAsync(new AckParams(OrgA, leased.Job.Id, leased.LeaseToken, null), None);
            Assert.Equal(CommandStatus.Applied, result.Status);
        }
        await RunAsync("mail", "email.send", fail: true);
        Time.Advance(TimeSpan.FromMinutes(10));
        await RunAsync("mail", "email.send", fail: true);
        await RunAsync("mail", "email.digest", fail: false);
        await RunAsync("billing", "invoice", fail: true);

        Assert.Equal(new FinishedCounts(1, 3), await Store.Alerts.CountFinishedAsync(new CountFinishedParams(OrgA, Start), None));
        Assert.Equal(new FinishedCounts(1, 2), await Store.Alerts.CountFinishedAsync(new CountFinishedParams(OrgA, Start.AddMinutes(5)), None));
        Assert.Equal(new FinishedCounts(1, 1), await Store.Alerts.CountFinishedAsync(new CountFinishedParams(OrgA, Start.AddMinutes(5), Queue: "mail"), None));
        Assert.Equal(new FinishedCounts(0, 2), await Store.Alerts.CountFinishedAsync(new CountFinishedParams(OrgA, Start, Queue: "mail", Type: "email.send"), None));
        Assert.Equal(new FinishedCounts(0, 0), await Store.Alerts.CountFinishedAsync(new CountFinishedParams(OrgB, Start), None));

        Assert.Empty(await Store.Alerts.BacklogAsync(new BacklogParams(OrgA), None));
        await EnqueueAsync(MakeJob("mail"));
        Time.Advance(TimeSpan.FromMinutes(1));
        await EnqueueAsync(MakeJob("mail"));
        await EnqueueAsync(MakeJob("billing"));
        await EnqueueAsync(MakeJob("mail") with { RunAt = Start.AddDays(1) });
        await EnqueueAsync(MakeJob("mail"), OrgB);
        var backlog = await Store.Alerts.BacklogAsync(new BacklogParams(OrgA), None);
        Assert.Equal([new QueueBacklog("billing", 1, Start.AddMinutes(11)), new QueueBacklog("mail", 2, Start.AddMinutes(10))], backlog);
        Assert.Equal([new QueueBacklog("mail", 2, Start.AddMinutes(10))], await Store.Alerts.BacklogAsync(new BacklogParams(OrgA, "mail"), None));
    }
}
