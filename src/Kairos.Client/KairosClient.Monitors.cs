using System.Globalization;
using System.Text;

namespace Kairos.Client;

public sealed partial class KairosClient
{
    // ---- monitors ----

    /// <param name="state">Only monitors in this state: <c>new</c>, <c>up</c>, <c>late</c>, <c>down</c>, <c>paused</c>.</param>
    public Task<Page<CheckInMonitor>> ListMonitorsAsync(int? limit = null, string? cursor = null, string? state = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/monitors" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor).Add("state", state),
            null, KairosMonitorJson.Default.PageCheckInMonitor, idempotent: true, cancellationToken);

    public Task<CheckInMonitor> GetMonitorAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, MonitorPath(name), null, KairosMonitorJson.Default.CheckInMonitor, idempotent: true, cancellationToken);

    /// <summary>Creates a monitor; the answer carries its ping key and URL. A conflict (409) when its name or slug is taken.</summary>
    public Task<CheckInMonitor> CreateMonitorAsync(MonitorDefinition monitor, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/monitors", Json(monitor, KairosMonitorJson.Default.MonitorDefinition), KairosMonitorJson.Default.CheckInMonitor,
            idempotent: false, cancellationToken);

    /// <summary>Changes the fields <paramref name="changes"/> sets (the others stay); the name stays.</summary>
    public Task<CheckInMonitor> UpdateMonitorAsync(string name, MonitorDefinition changes, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, MonitorPath(name), Json(changes, KairosMonitorJson.Default.MonitorDefinition), KairosMonitorJson.Default.CheckInMonitor,
            idempotent: true, cancellationToken);

    public Task DeleteMonitorAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, MonitorPath(name), null, idempotent: false, cancellationToken);

    public Task<CheckInMonitor> PauseMonitorAsync(string name, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, MonitorPath(name) + "/pause", Json(new PauseBody { Reason = reason }, KairosJson.Default.PauseBody),
            KairosMonitorJson.Default.CheckInMonitor, idempotent: true, cancellationToken);

    /// <summary>Resumes a paused monitor: its next ping is due counting from now.</summary>
    public Task<CheckInMonitor> ResumeMonitorAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, MonitorPath(name) + "/resume", null, KairosMonitorJson.Default.CheckInMonitor, idempotent: true, cancellationToken);

    /// <summary>The monitor's runs, newest first.</summary>
    public Task<Page<MonitorRun>> ListMonitorRunsAsync(string name, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, MonitorPath(name) + "/runs" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosMonitorJson.Default.PageMonitorRun, idempotent: true, cancellationToken);

    /// <summary>Gives the monitor a new ping key; the old ping URL stops working at once.</summary>
    public Task<CheckInMonitor> RegenerateMonitorPingKeyAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, MonitorPath(name) + "/ping-key", null, KairosMonitorJson.Default.CheckInMonitor, idempotent: false, cancellationToken);

    public Task<OrganizationPingKey> GetOrganizationPingKeyAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/monitors/ping-key", null, KairosMonitorJson.Default.OrganizationPingKey, idempotent: true, cancellationToken);

    /// <summary>Makes (or replaces) the organization's ping key of slug URLs.</summary>
    public Task<OrganizationPingKey> RegenerateOrganizationPingKeyAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/monitors/ping-key", null, KairosMonitorJson.Default.OrganizationPingKey, idempotent: false, cancellationToken);

    /// <summary>
    /// A check-in: <c>/ping/{pingKey}</c> (with <paramref name="slug"/>: <c>/ping/{organization ping key}/{slug}</c>),
    /// reporting a success, a start or a failure; an <paramref name="exitCode"/> (0-255) reports success (0) or failure.
    /// <paramref name="log"/> goes with it as the run's log (the server keeps up to 100 KB); <paramref name="rid"/> pairs a
    /// start with its finish. Needs no API key.
    /// </summary>
    public async Task PingAsync(string pingKey, CheckIn checkIn = CheckIn.Success, int? exitCode = null, string? slug = null, string? rid = null,
        string? log = null, CancellationToken cancellationToken = default)
    {
        var path = "ping/" + Uri.EscapeDataString(pingKey) + (slug is null ? "" : "/" + Uri.EscapeDataString(slug));
        path += exitCode is { } code ? "/" + code.ToString(CultureInfo.InvariantCulture)
            : checkIn switch { CheckIn.Start => "/start", CheckIn.Fail => "/fail", _ => "" };
        path += new Query().Add("rid", rid);
        Func<HttpContent>? body = log is null ? null : () => new StringContent(log, Encoding.UTF8, "text/plain");
        using var response = await SendRawAsync(HttpMethod.Post, path, body, idempotent: true, HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    private static string MonitorPath(string name) => $"api/v1/monitors/{Uri.EscapeDataString(name)}";
}
