using System.Net;
using Kairos.Cli.Tests.Infrastructure;

namespace Kairos.Cli.Tests;

/// <summary><c>kairos alerts rules|channels|incidents|maintenance</c>.</summary>
public sealed partial class CliCommandTests
{
    [Fact]
    public async Task Alerts_channels_rules_incidents_and_maintenance_windows()
    {
        // A server of its own that may call loopback, and a fake Slack in the test process.
        using var slack = new FakeSlack();
        await using var server = await CliServer.StartAsync(kairos, new Dictionary<string, string> { ["KAIROS_OUTBOUND_ALLOW_PRIVATE"] = "true" });

        Ok(await server.RunAsync("alerts", "channels", "create", "ops", "--kind", "slack", "--url", slack.Url));
        var test = await server.RunAsync("alerts", "channels", "test", "ops");
        Ok(test);
        Assert.Contains("took the test notice", test.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("[TEST]", Assert.Single(slack.Texts), StringComparison.Ordinal);
        var channels = await server.RunAsync("alerts", "channels", "list");
        Ok(channels);
        Assert.Contains("ops", channels.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(slack.Url, channels.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(slack.Url, (await server.RunAsync("alerts", "channels", "get", "ops", "--json")).Stdout, StringComparison.Ordinal);

        var rule = await server.RunAsync("alerts", "rules", "create", "reports-backlog", "--kind", "queue_backlog", "--queue", "reports", "--threshold", "0",
            "--channel", "ops", "--cooldown", "1h", "--json");
        Ok(rule);
        Assert.Equal(3_600_000, rule.Json().GetProperty("cooldown_ms").GetInt32());
        var rules = await server.RunAsync("alerts", "rules", "list");
        Ok(rules);
        Assert.Contains("backlog in queue reports: more than 0 ready", rules.Stdout, StringComparison.Ordinal);
        Assert.Contains("queue_backlog", (await server.RunAsync("alerts", "rules", "get", "reports-backlog")).Stdout, StringComparison.Ordinal);

        // A ready job: the server's evaluation opens an incident and notifies.
        using (var enqueue = await server.Api.PostJsonAsync("api/v1/jobs", new { Queue = "reports", Type = "report.build" }))
        {
            await KairosApi.EnsureStatusAsync(enqueue, HttpStatusCode.Created);
        }
        string? id = null;
        Assert.True(await KairosNodes.PollAsync(async () =>
        {
            var open = (await server.RunAsync("alerts", "incidents", "list", "--state", "open", "--json")).Json().GetProperty("items");
            id = open.GetArrayLength() == 1 ? open[0].GetProperty("id").GetString() : null;
            return id is not null;
        }, TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(500)), "no open incident");
        Assert.True(await KairosNodes.PollAsync(() => Task.FromResult(slack.Texts.Count >= 2), TimeSpan.FromSeconds(20)), "no notification");
        Assert.Equal("[FIRING] Queue reports has 1 ready job (more than 0)", slack.Texts[1]);
        var incident = await server.RunAsync("alerts", "incidents", "get", id!);
        Ok(incident);
        Assert.Contains("notified", incident.Stdout, StringComparison.Ordinal);
        Assert.Contains("queue:reports", incident.Stdout, StringComparison.Ordinal);

        var resolved = await server.RunAsync("alerts", "incidents", "resolve", id!);
        Ok(resolved);
        Assert.Contains("resolved", resolved.Stdout, StringComparison.Ordinal);
        Assert.True(await KairosNodes.PollAsync(() => Task.FromResult(slack.Texts.Count >= 3), TimeSpan.FromSeconds(20)), "no resolve notice");
        Assert.Equal("[RESOLVED] Queue reports has 1 ready job (more than 0)", slack.Texts[2]);
        Assert.Contains("resolved already", Failed(await server.RunAsync("alerts", "incidents", "resolve", id!), 1), StringComparison.Ordinal);

        // Maintenance windows: now, and later.
        var now = await server.RunAsync("alerts", "maintenance", "start", "--rule", "reports-backlog", "--for", "2h", "--reason", "deploy", "--json");
        Ok(now);
        Assert.True(now.Json().GetProperty("active").GetBoolean());
        var at = DateTimeOffset.UtcNow.AddDays(1);
        var later = await server.RunAsync("alerts", "maintenance", "start", "--at", at.ToString("O"), "--until", at.AddHours(1).ToString("O"), "--json");
        Ok(later);
        Assert.False(later.Json().GetProperty("active").GetBoolean());
        var windows = await server.RunAsync("alerts", "maintenance", "list");
        Ok(windows);
        Assert.Contains("(every rule)", windows.Stdout, StringComparison.Ordinal);
        Assert.Contains("deploy", windows.Stdout, StringComparison.Ordinal);
        Ok(await server.RunAsync("alerts", "maintenance", "end", now.Json().GetProperty("id").GetString()!));
        Assert.Single((await server.RunAsync("alerts", "maintenance", "list", "--json")).Json().GetProperty("items").EnumerateArray());

        // Usage errors (2) and the server's refusals (1), one line each.
        Failed(await server.RunAsync("alerts", "maintenance", "start", "--rule", "reports-backlog"), 2);
        Failed(await server.RunAsync("alerts", "incidents", "get", "not-an-id"), 2);
        Assert.Contains("kind", Failed(await server.RunAsync("alerts", "rules", "create", "x", "--kind", "sometimes", "--channel", "ops"), 1), StringComparison.Ordinal);
        Assert.Contains("409", Failed(await server.RunAsync("alerts", "channels", "delete", "ops"), 1), StringComparison.Ordinal);

        Ok(await server.RunAsync("alerts", "rules", "delete", "reports-backlog"));
        Ok(await server.RunAsync("alerts", "channels", "delete", "ops"));
        Assert.Contains("No alert rules.", (await server.RunAsync("alerts", "rules", "list")).Stdout, StringComparison.Ordinal);
    }
}
