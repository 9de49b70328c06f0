namespace Kairos.Client.Tests;

/// <summary>The client's monitor calls and pings against the real server.</summary>
[Collection(ServerCollection.Name)]
public sealed class MonitorClientTests(ServerFixture server) : IDisposable
{
    private readonly KairosClient _client = server.Client();
    private readonly string _name = "m-" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task A_monitor_is_made_pinged_by_key_and_by_slug_changed_paused_and_deleted()
    {
        var m = await _client.CreateMonitorAsync(new MonitorDefinition { Name = _name, PeriodSeconds = 3600, MaxRuntimeSeconds = 600, Tags = ["sdk"] });
        Assert.Equal(("new", _name, 3600L), (m.State, m.Slug, m.PeriodSeconds!.Value));
        Assert.NotNull(m.PingKey);
        Assert.Equal(new Uri(server.BaseAddress, "/ping/" + m.PingKey), new Uri(m.PingUrl!));

        // Pings need no API key.
        using var anonymous = new KairosClient(server.BaseAddress, null);
        await anonymous.PingAsync(m.PingKey!, CheckIn.Start, rid: "run-1");
        await anonymous.PingAsync(m.PingKey!, exitCode: 0, rid: "run-1", log: "done\n");
        var orgKey = await _client.RegenerateOrganizationPingKeyAsync();
        Assert.Equal(orgKey.PingKey, (await _client.GetOrganizationPingKeyAsync()).PingKey);
        await anonymous.PingAsync(orgKey.PingKey!, CheckIn.Fail, slug: _name);
        var unknown = await Assert.ThrowsAsync<KairosException>(() => anonymous.PingAsync(orgKey.PingKey!, slug: "no-" + _name));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);

        var runs = await _client.ListMonitorRunsAsync(_name);
        Assert.Equal(["fail", "success"], runs.Items.Select(r => r.Outcome));
        Assert.Equal(("run-1", "done\n", 0), (runs.Items[1].Rid, runs.Items[1].Log, runs.Items[1].ExitCode!.Value));
        Assert.NotNull(runs.Items[1].DurationMs);
        Assert.Equal("down", (await _client.GetMonitorAsync(_name)).State);

        var changed = await _client.UpdateMonitorAsync(_name, new MonitorDefinition { FailureThreshold = 2, GraceSeconds = 120 });
        Assert.Equal((2, 120, 600), (changed.FailureThreshold, changed.GraceSeconds, changed.MaxRuntimeSeconds!.Value));
        Assert.Equal("paused", (await _client.PauseMonitorAsync(_name, "maintenance")).State);
        Assert.Equal("up", (await _client.ResumeMonitorAsync(_name)).State);
        Assert.Contains((await _client.ListMonitorsAsync(state: "up")).Items, x => x.Name == _name);

        var rekeyed = await _client.RegenerateMonitorPingKeyAsync(_name);
        Assert.NotEqual(m.PingKey, rekeyed.PingKey);
        await Assert.ThrowsAsync<KairosException>(() => anonymous.PingAsync(m.PingKey!));
        await _client.DeleteMonitorAsync(_name);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Assert.ThrowsAsync<KairosException>(() => _client.GetMonitorAsync(_name))).StatusCode);
    }
}
