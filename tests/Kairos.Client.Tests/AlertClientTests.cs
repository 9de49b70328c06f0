namespace Kairos.Client.Tests;

/// <summary>The client's alert calls against the real server: channels, rules, an incident the server's evaluation opens, maintenance windows.</summary>
[Collection(ServerCollection.Name)]
public sealed class AlertClientTests(ServerFixture server) : IDisposable
{
    private readonly KairosClient _client = server.Client();
    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Channels_rules_incidents_and_maintenance_windows_through_the_client()
    {
        // An SMTP server that refuses connections: the test send reports why it did not go out.
        var channel = "mail-" + _id;
        var created = await _client.CreateAlertChannelAsync(channel, "email", new AlertChannelConfig
        {
            Host = "127.0.0.1", Port = 1, Tls = "none", Username = "kairos", Password = "smtp-secret-" + _id, From = "kairos@example.com", To = ["ops@example.com"],
        });
        Assert.Equal(("email", "127.0.0.1"), (created.Kind, created.Config.Host));
        Assert.DoesNotContain("smtp-secret", (await _client.GetAlertChannelAsync(channel)).Config.Password ?? "", StringComparison.Ordinal);
        Assert.Contains((await _client.ListAlertChannelsAsync()).Items, c => c.Name == channel);
        var test = await _client.TestAlertChannelAsync(channel);
        Assert.False(test.Delivered);
        Assert.False(string.IsNullOrEmpty(test.Error));

        var rule = "backlog-" + _id;
        var queue = "q-" + _id;
        var made = await _client.CreateAlertRuleAsync(new AlertRuleDefinition { Name = rule, Kind = "queue_backlog", Queue = queue, Threshold = 0, Channels = [channel], CooldownMs = 3_600_000 });
        Assert.Equal((rule, 0L, 3_600_000), (made.Name, made.Threshold!.Value, made.CooldownMs));
        var replaced = await _client.PutAlertRuleAsync(rule, new AlertRuleDefinition { Kind = "queue_backlog", Queue = queue, Threshold = 0, MaxAgeMs = 60_000, Channels = [channel] });
        Assert.Equal((60_000L, 15 * 60_000), (replaced.MaxAgeMs!.Value, replaced.CooldownMs));
        Assert.Equal(replaced.MaxAgeMs, (await _client.GetAlertRuleAsync(rule)).MaxAgeMs);
        var conflict = await Assert.ThrowsAsync<KairosException>(() => _client.CreateAlertRuleAsync(new AlertRuleDefinition { Name = rule, Kind = "worker_lost", Channels = [channel] }));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, conflict.StatusCode);
        var bad = await Assert.ThrowsAsync<KairosException>(() => _client.CreateAlertRuleAsync(new AlertRuleDefinition { Name = "x-" + _id, Kind = "sometimes", Channels = [channel] }));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);

        // A ready job in the queue: the server's next pass opens an incident.
        await _client.EnqueueAsync("report.build", new { n = 1 }, new EnqueueOptions { Queue = queue });
        var open = await Eventually.WaitAsync(() => _client.ListIncidentsAsync(state: "open", rule: rule), p => p.Items.Count == 1, TimeSpan.FromSeconds(30), "an open incident");
        var incident = await _client.GetIncidentAsync(open.Items[0].Id);
        Assert.Equal(($"queue:{queue}", "open"), (incident.Key, incident.State));
        Assert.Equal("opened", incident.Events![0].Kind);
        var resolved = await _client.ResolveIncidentAsync(incident.Id);
        Assert.Equal("resolved", resolved.State);
        Assert.Equal("resolved", resolved.Events!.Last(e => e.Kind is "resolved" or "opened").Kind);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, (await Assert.ThrowsAsync<KairosException>(() => _client.ResolveIncidentAsync(incident.Id))).StatusCode);
        Assert.Contains((await _client.ListIncidentsAsync(state: "resolved", rule: rule)).Items, i => i.Id == incident.Id);

        // Maintenance: one now, one later; ending the first.
        var now = await _client.StartMaintenanceAsync(new MaintenanceWindowDefinition { Rule = rule, DurationMs = 3_600_000, Reason = "deploy " + _id });
        Assert.True(now.Active);
        var later = await _client.StartMaintenanceAsync(new MaintenanceWindowDefinition { Rule = rule, StartsAt = DateTimeOffset.UtcNow.AddDays(1), EndsAt = DateTimeOffset.UtcNow.AddDays(1).AddHours(2) });
        Assert.False(later.Active);
        var windows = (await _client.ListMaintenanceWindowsAsync()).Items.Where(w => w.Rule == rule).Select(w => w.Id).ToList();
        Assert.Equal(new[] { now.Id, later.Id }.Order(), windows.Order());
        await _client.EndMaintenanceAsync(now.Id);
        Assert.DoesNotContain((await _client.ListMaintenanceWindowsAsync()).Items, w => w.Id == now.Id);
        await _client.EndMaintenanceAsync(later.Id);

        await _client.DeleteAlertRuleAsync(rule);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Assert.ThrowsAsync<KairosException>(() => _client.GetAlertRuleAsync(rule))).StatusCode);
        await _client.DeleteAlertChannelAsync(channel);
        Assert.DoesNotContain((await _client.ListAlertChannelsAsync()).Items, c => c.Name == channel);
    }
}
