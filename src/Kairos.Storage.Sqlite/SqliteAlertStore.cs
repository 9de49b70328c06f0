using Kairos.Core;
using Kairos.Core.Alerts;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// Alerts on SQLite. Every change goes through the single writer, so firing reads the open incident of the rule and
/// key, and opens or updates it with the notification decision, with nothing interleaving.
/// </summary>
internal sealed class SqliteAlertStore(SqliteStore store) : IAlertStore
{

    private async Task<T?> OneAsync<T>(string sql, Action<SqliteCommand> set, Func<SqliteDataReader, T> read, CancellationToken cancellationToken) where T : class =>
        (await store.ManyAsync(sql, set, read, cancellationToken)).FirstOrDefault();

    // ------------------------------------------------------------------ channels

    public Task<AlertChannel?> CreateChannelAsync(SaveChannelParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var now = Ms(ctx.Now);
            var inserted = ctx.Cmd("INSERT INTO alert_channels (id, organization_id, name, kind, config, created_at, updated_at) " +
                                   "VALUES ($id, $org, $name, $kind, $config, $now, $now) ON CONFLICT (organization_id, name) DO NOTHING")
                .Set("$id", Ids.New(ctx.Time).ToString()).Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name).Set("$kind", p.Kind.ToWire())
                .Set("$config", p.ConfigJson).Set("$now", now).ExecuteNonQuery();
            return inserted == 0 ? null : FindChannel(ctx, p.OrganizationId, p.Name);
        }, cancellationToken);

    private static AlertChannel? FindChannel(WriteContext ctx, Guid org, string name) =>
        ctx.One($"SELECT {AlertRows.ChannelColumns} FROM alert_channels WHERE organization_id = $org AND name = $name",
            c => c.Set("$org", org.ToString()).Set("$name", name), AlertRows.Channel);

    public Task<AlertChannel?> UpdateChannelAsync(SaveChannelParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var n = ctx.Cmd("UPDATE alert_channels SET kind = $kind, config = $config, updated_at = $now WHERE organization_id = $org AND name = $name")
                .Set("$kind", p.Kind.ToWire()).Set("$config", p.ConfigJson).Set("$now", Ms(ctx.Now))
                .Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name).ExecuteNonQuery();
            return n == 0 ? null : FindChannel(ctx, p.OrganizationId, p.Name);
        }, cancellationToken);

    public Task<AlertChannel?> GetChannelAsync(NamedParams p, CancellationToken cancellationToken) =>
        OneAsync($"SELECT {AlertRows.ChannelColumns} FROM alert_channels WHERE organization_id = $org AND name = $name",
            c => c.Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name), AlertRows.Channel, cancellationToken);

    public async Task<Page<AlertChannel>> ListChannelsAsync(ListNamedParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        var items = await store.ManyAsync($"SELECT {AlertRows.ChannelColumns} FROM alert_channels WHERE organization_id = $org AND name > $after ORDER BY name LIMIT $n",
            c => c.Set("$org", p.OrganizationId.ToString()).Set("$after", after ?? "").Set("$n", p.Limit + 1), AlertRows.Channel, cancellationToken);
        return ScheduleCursor.Page(items, p.Limit, x => x.Name);
    }

    public Task<bool> DeleteChannelAsync(NamedParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Cmd("DELETE FROM alert_channels WHERE organization_id = $org AND name = $name")
            .Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name).ExecuteNonQuery() > 0, cancellationToken);

    // ------------------------------------------------------------------ rules

    public Task<AlertRule?> CreateRuleAsync(SaveRuleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => CreateRule(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static AlertRule? CreateRule(WriteContext ctx, SaveRuleParams p)
    {
        var d = p.Definition;
        var inserted = ctx.Cmd("INSERT INTO alert_rules (id, organization_id, name, kind, definition, enabled, created_at, updated_at) " +
                               "VALUES ($id, $org, $name, $kind, $def, $enabled, $now, $now) ON CONFLICT (organization_id, name) DO NOTHING")
            .Set("$id", Ids.New(ctx.Time).ToString()).Set("$org", p.OrganizationId.ToString()).Set("$name", d.Name).Set("$kind", d.Kind.ToWire())
            .Set("$def", d.ToJson()).Set("$enabled", d.Enabled ? 1 : 0).Set("$now", Ms(ctx.Now)).ExecuteNonQuery();
        return inserted == 0 ? null : FindRule(ctx, p.OrganizationId, d.Name);
    }

    private static AlertRule? FindRule(WriteContext ctx, Guid org, string name) =>
        ctx.One($"SELECT {AlertRows.RuleColumns} FROM alert_rules WHERE organization_id = $org AND name = $name",
            c => c.Set("$org", org.ToString()).Set("$name", name), AlertRows.Rule);

    public Task<AlertRule?> UpdateRuleAsync(SaveRuleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => UpdateRule(ctx, p), cancellationToken);

    /// <summary>In the writer's transaction (a manifest apply runs several in one).</summary>
    internal static AlertRule? UpdateRule(WriteContext ctx, SaveRuleParams p)
    {
        var d = p.Definition;
        var n = ctx.Cmd("UPDATE alert_rules SET kind = $kind, definition = $def, enabled = $enabled, updated_at = $now WHERE organization_id = $org AND name = $name")
            .Set("$kind", d.Kind.ToWire()).Set("$def", d.ToJson()).Set("$enabled", d.Enabled ? 1 : 0).Set("$now", Ms(ctx.Now))
            .Set("$org", p.OrganizationId.ToString()).Set("$name", d.Name).ExecuteNonQuery();
        return n == 0 ? null : FindRule(ctx, p.OrganizationId, d.Name);
    }

    public Task<AlertRule?> GetRuleAsync(NamedParams p, CancellationToken cancellationToken) =>
        OneAsync($"SELECT {AlertRows.RuleColumns} FROM alert_rules WHERE organization_id = $org AND name = $name",
            c => c.Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name), AlertRows.Rule, cancellationToken);

    public async Task<Page<AlertRule>> ListRulesAsync(ListNamedParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        var items = await store.ManyAsync($"SELECT {AlertRows.RuleColumns} FROM alert_rules WHERE organization_id = $org AND name > $after ORDER BY name LIMIT $n",
            c => c.Set("$org", p.OrganizationId.ToString()).Set("$after", after ?? "").Set("$n", p.Limit + 1), AlertRows.Rule, cancellationToken);
        return ScheduleCursor.Page(items, p.Limit, x => x.Name);
    }

    public Task<bool> DeleteRuleAsync(NamedParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Cmd("DELETE FROM alert_rules WHERE organization_id = $org AND name = $name")
            .Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name).ExecuteNonQuery() > 0, cancellationToken);

    public async Task<IReadOnlyList<AlertRule>> ListEnabledRulesAsync(CancellationToken cancellationToken) =>
        await store.ManyAsync($"SELECT {AlertRows.RuleColumns} FROM alert_rules WHERE enabled = 1 ORDER BY organization_id, name", _ => { }, AlertRows.Rule, cancellationToken);

    // ------------------------------------------------------------------ incidents

    public Task<IncidentFiring> FireAsync(FireIncidentParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var now = ctx.Now;
            var rule = p.RuleId.ToString();
            var open = ctx.One($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE rule_id = $rule AND alert_key = $key AND resolved_at IS NULL",
                c => c.Set("$rule", rule).Set("$key", p.Key), AlertRows.Incident);
            var lastNotified = ctx.Cmd("SELECT MAX(last_notified_at) FROM alert_incidents WHERE rule_id = $rule AND alert_key = $key")
                .Set("$rule", rule).Set("$key", p.Key).ExecuteScalar() is long ms ? Time(ms) : (DateTimeOffset?)null;
            var notify = lastNotified is not { } last || now - last >= p.Cooldown;
            Guid id;
            if (open is null)
            {
                id = Ids.New(ctx.Time);
                ctx.Cmd("INSERT INTO alert_incidents (id, organization_id, rule_id, rule_name, alert_key, title, summary, opened_at, last_fired_at, last_notified_at, fire_count) " +
                        "VALUES ($id, $org, $rule, $name, $key, $title, $summary, $now, $now, $notified, 1)")
                    .Set("$id", id.ToString()).Set("$org", p.OrganizationId.ToString()).Set("$rule", rule).Set("$name", p.RuleName).Set("$key", p.Key)
                    .Set("$title", p.Title).Set("$summary", p.Summary).Set("$now", Ms(now)).Set("$notified", notify ? Ms(now) : null).ExecuteNonQuery();
                AddEvent(ctx, p.OrganizationId, id, "opened", p.Title);
            }
            else
            {
                id = open.Id;
                ctx.Cmd("UPDATE alert_incidents SET title = $title, summary = $summary, last_fired_at = $now, fire_count = fire_count + 1, " +
                        "last_notified_at = COALESCE($notified, last_notified_at) WHERE id = $id")
                    .Set("$title", p.Title).Set("$summary", p.Summary).Set("$now", Ms(now)).Set("$notified", notify ? Ms(now) : null)
                    .Set("$id", id.ToString()).ExecuteNonQuery();
            }
            if (!notify && open is null) AddEvent(ctx, p.OrganizationId, id, "suppressed", "inside the cool-down of an earlier notification");
            var incident = ctx.One($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE id = $id", c => c.Set("$id", id.ToString()), AlertRows.Incident)!;
            return new IncidentFiring(incident, open is null, notify);
        }, cancellationToken);

    private static void AddEvent(WriteContext ctx, Guid org, Guid incident, string kind, string? message) =>
        ctx.Cmd("INSERT INTO alert_incident_events (organization_id, incident_id, at, kind, message) VALUES ($org, $incident, $at, $kind, $message)")
            .Set("$org", org.ToString()).Set("$incident", incident.ToString()).Set("$at", Ms(ctx.Now)).Set("$kind", kind).Set("$message", message)
            .ExecuteNonQuery();

    public Task<Incident?> ResolveAsync(ResolveIncidentParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var n = ctx.Cmd("UPDATE alert_incidents SET resolved_at = $now WHERE id = $id AND organization_id = $org AND resolved_at IS NULL")
                .Set("$now", Ms(ctx.Now)).Set("$id", p.IncidentId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteNonQuery();
            if (n == 0) return null;
            AddEvent(ctx, p.OrganizationId, p.IncidentId, "resolved", p.Message);
            return ctx.One($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE id = $id", c => c.Set("$id", p.IncidentId.ToString()), AlertRows.Incident);
        }, cancellationToken);

    public Task AddIncidentEventAsync(IncidentEventParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            AddEvent(ctx, p.OrganizationId, p.IncidentId, p.Kind, p.Message);
            return true;
        }, cancellationToken);

    public async Task<Incident?> GetIncidentAsync(IncidentParams p, CancellationToken cancellationToken)
    {
        var incident = await OneAsync($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE id = $id AND organization_id = $org",
            c => c.Set("$id", p.IncidentId.ToString()).Set("$org", p.OrganizationId.ToString()), AlertRows.Incident, cancellationToken);
        if (incident is null) return null;
        var events = await store.ManyAsync($"SELECT {AlertRows.IncidentEventColumns} FROM alert_incident_events WHERE incident_id = $id ORDER BY seq",
            c => c.Set("$id", p.IncidentId.ToString()), AlertRows.IncidentEvent, cancellationToken);
        return incident with { Events = events };
    }

    public async Task<Page<Incident>> ListIncidentsAsync(ListIncidentsParams p, CancellationToken cancellationToken)
    {
        var before = IdCursor.Read(p.Cursor);
        var sql = $"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE organization_id = $org" +
                  (before is null ? "" : " AND id < $before") +
                  (p.Open switch { true => " AND resolved_at IS NULL", false => " AND resolved_at IS NOT NULL", _ => "" }) +
                  (p.RuleId is null ? "" : " AND rule_id = $rule") + " ORDER BY id DESC LIMIT $n";
        var items = await store.ManyAsync(sql, c => c.Set("$org", p.OrganizationId.ToString()).Set("$before", before?.ToString())
            .Set("$rule", p.RuleId?.ToString()).Set("$n", p.Limit + 1), AlertRows.Incident, cancellationToken);
        return IdCursor.Page(items, p.Limit, i => i.Id);
    }

    public async Task<IReadOnlyList<Incident>> ListOpenIncidentsAsync(RuleIncidentsParams p, CancellationToken cancellationToken) =>
        await store.ManyAsync($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE rule_id = $rule AND organization_id = $org AND resolved_at IS NULL ORDER BY id",
            c => c.Set("$rule", p.RuleId.ToString()).Set("$org", p.OrganizationId.ToString()), AlertRows.Incident, cancellationToken);

    // ------------------------------------------------------------------ maintenance windows

    public Task<MaintenanceWindow> CreateWindowAsync(CreateWindowParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var id = Ids.New(ctx.Time).ToString();
            ctx.Cmd("INSERT INTO maintenance_windows (id, organization_id, rule, starts_at, ends_at, reason, created_at) VALUES ($id, $org, $rule, $start, $end, $reason, $now)")
                .Set("$id", id).Set("$org", p.OrganizationId.ToString()).Set("$rule", p.Rule).Set("$start", Ms(p.StartsAt)).Set("$end", Ms(p.EndsAt))
                .Set("$reason", p.Reason).Set("$now", Ms(ctx.Now)).ExecuteNonQuery();
            return ctx.One($"SELECT {AlertRows.WindowColumns} FROM maintenance_windows WHERE id = $id", c => c.Set("$id", id), AlertRows.Window)!;
        }, cancellationToken);

    public async Task<IReadOnlyList<MaintenanceWindow>> ListWindowsAsync(ListWindowsParams p, CancellationToken cancellationToken) =>
        await store.ManyAsync($"SELECT {AlertRows.WindowColumns} FROM maintenance_windows WHERE organization_id = $org AND ends_at > $after ORDER BY starts_at, id",
            c => c.Set("$org", p.OrganizationId.ToString()).Set("$after", p.EndingAfter is { } t ? Ms(t) : long.MinValue), AlertRows.Window, cancellationToken);

    public Task<bool> DeleteWindowAsync(WindowParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Cmd("DELETE FROM maintenance_windows WHERE id = $id AND organization_id = $org")
            .Set("$id", p.WindowId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteNonQuery() > 0, cancellationToken);

    // ------------------------------------------------------------------ figures

    public async Task<FinishedCounts> CountFinishedAsync(CountFinishedParams p, CancellationToken cancellationToken)
    {
        var sql = "SELECT COALESCE(SUM(state = 'succeeded'), 0), COALESCE(SUM(state = 'failed'), 0) FROM jobs " +
                  "WHERE organization_id = $org AND finished_at IS NOT NULL AND finished_at >= $since" +
                  (p.Queue is null ? "" : " AND queue = $queue") + (p.Type is null ? "" : " AND type = $type");
        var rows = await store.ManyAsync(sql, c => c.Set("$org", p.OrganizationId.ToString()).Set("$since", Ms(p.Since)).Set("$queue", p.Queue).Set("$type", p.Type),
            r => new FinishedCounts(r.GetInt64(0), r.GetInt64(1)), cancellationToken);
        return rows[0];
    }

    public async Task<IReadOnlyList<QueueBacklog>> BacklogAsync(BacklogParams p, CancellationToken cancellationToken) =>
        await store.ManyAsync("SELECT queue, COUNT(*), MIN(run_at) FROM jobs WHERE organization_id = $org AND state = 'queued'" +
                        (p.Queue is null ? "" : " AND queue = $queue") + " GROUP BY queue ORDER BY queue",
            c => c.Set("$org", p.OrganizationId.ToString()).Set("$queue", p.Queue),
            r => new QueueBacklog(r.GetString(0), r.GetInt64(1), TimeOrNull(r, 2)), cancellationToken);
}
