using System.Globalization;

namespace Kairos.Client;

/// <summary>
/// Alert rules (reading needs <c>read</c>, changes <c>alerts.manage</c>), channels (<c>alerts.manage</c>), incidents and
/// maintenance windows. Rules and channels are addressed by name within the organization.
/// </summary>
public sealed partial class KairosClient
{
    // ---- rules ----

    public Task<Page<AlertRule>> ListAlertRulesAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/alert-rules" + PageQuery(limit, cursor), null, KairosAlertJson.Default.PageAlertRule, idempotent: true, cancellationToken);

    public Task<AlertRule> GetAlertRuleAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, Named("alert-rules", name), null, KairosAlertJson.Default.AlertRule, idempotent: true, cancellationToken);

    /// <summary>Creates a rule (<see cref="AlertRuleDefinition.Name"/> required); a conflict (409) when the name is taken.</summary>
    public Task<AlertRule> CreateAlertRuleAsync(AlertRuleDefinition rule, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/alert-rules", Json(rule, KairosAlertJson.Default.AlertRuleDefinition), KairosAlertJson.Default.AlertRule,
            idempotent: false, cancellationToken);

    /// <summary>Creates or replaces the rule of that name with <paramref name="rule"/> (fields left null take their defaults).</summary>
    public Task<AlertRule> PutAlertRuleAsync(string name, AlertRuleDefinition rule, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, Named("alert-rules", name), Json(rule, KairosAlertJson.Default.AlertRuleDefinition), KairosAlertJson.Default.AlertRule,
            idempotent: true, cancellationToken);

    public Task DeleteAlertRuleAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, Named("alert-rules", name), null, idempotent: false, cancellationToken);

    // ---- channels ----

    public Task<Page<AlertChannel>> ListAlertChannelsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/alert-channels" + PageQuery(limit, cursor), null, KairosAlertJson.Default.PageAlertChannel, idempotent: true, cancellationToken);

    /// <summary>A channel with its secrets masked.</summary>
    public Task<AlertChannel> GetAlertChannelAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, Named("alert-channels", name), null, KairosAlertJson.Default.AlertChannel, idempotent: true, cancellationToken);

    /// <summary>Creates a channel of <paramref name="kind"/> (<c>slack</c>, <c>webhook</c>, <c>email</c>, <c>pagerduty</c>); its secrets are stored encrypted.</summary>
    public Task<AlertChannel> CreateAlertChannelAsync(string name, string kind, AlertChannelConfig config, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/alert-channels", Json(new AlertChannelBody { Name = name, Kind = kind, Config = config }, KairosAlertJson.Default.AlertChannelBody),
            KairosAlertJson.Default.AlertChannel, idempotent: false, cancellationToken);

    /// <summary>Creates or replaces a channel; a secret left out (or sent back masked) keeps its stored value.</summary>
    public Task<AlertChannel> PutAlertChannelAsync(string name, string kind, AlertChannelConfig config, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, Named("alert-channels", name), Json(new AlertChannelBody { Kind = kind, Config = config }, KairosAlertJson.Default.AlertChannelBody),
            KairosAlertJson.Default.AlertChannel, idempotent: true, cancellationToken);

    /// <summary>Deletes a channel; a conflict (409) while a rule names it.</summary>
    public Task DeleteAlertChannelAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, Named("alert-channels", name), null, idempotent: false, cancellationToken);

    /// <summary>Sends a test notice through the channel and answers whether it went out.</summary>
    public Task<ChannelTestResult> TestAlertChannelAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Named("alert-channels", name) + "/test", null, KairosAlertJson.Default.ChannelTestResult, idempotent: false, cancellationToken);

    // ---- incidents ----

    /// <param name="state"><c>open</c> or <c>resolved</c>; null: both.</param>
    /// <param name="rule">Only this rule's incidents.</param>
    public Task<Page<Incident>> ListIncidentsAsync(string? state = null, string? rule = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/incidents" + new Query().Add("state", state).Add("rule", rule)
                .Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosAlertJson.Default.PageIncident, idempotent: true, cancellationToken);

    /// <summary>An incident with its history.</summary>
    public Task<Incident> GetIncidentAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/incidents/{id}", null, KairosAlertJson.Default.Incident, idempotent: true, cancellationToken);

    /// <summary>Resolves an open incident by hand (a resolve notice goes to the channels that were notified); a conflict (409) when it is resolved already.</summary>
    public Task<Incident> ResolveIncidentAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/incidents/{id}/resolve", null, KairosAlertJson.Default.Incident, idempotent: false, cancellationToken);

    // ---- maintenance windows ----

    /// <summary>The windows not yet ended (with <paramref name="all"/>, past ones too).</summary>
    public Task<Page<MaintenanceWindow>> ListMaintenanceWindowsAsync(bool all = false, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/maintenance-windows" + new Query().Add("all", all ? "true" : null), null, KairosAlertJson.Default.PageMaintenanceWindow,
            idempotent: true, cancellationToken);

    /// <summary>Opens a maintenance window (now or later).</summary>
    public Task<MaintenanceWindow> StartMaintenanceAsync(MaintenanceWindowDefinition window, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/maintenance-windows", Json(window, KairosAlertJson.Default.MaintenanceWindowDefinition),
            KairosAlertJson.Default.MaintenanceWindow, idempotent: false, cancellationToken);

    /// <summary>Ends (deletes) a maintenance window: its rules alert again from now.</summary>
    public Task EndMaintenanceAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/maintenance-windows/{id}", null, idempotent: false, cancellationToken);

    private static string PageQuery(int? limit, string? cursor) =>
        new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor).ToString();

    private static string Named(string collection, string name) => $"api/v1/{collection}/{Uri.EscapeDataString(name)}";
}
