using Kairos.Core;
using Kairos.Core.Alerts;
using Kairos.Core.Storage;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Alerts on PostgreSQL, where two nodes may evaluate at once (a leader change in the middle of a pass). Firing takes a
/// transaction-scoped advisory lock on the rule and key, then reads the open incident and opens or updates it with the
/// notification decision; the unique index on open incidents is the last word.
/// </summary>
internal sealed class PostgresAlertStore(PostgresStore store) : IAlertStore
{

    private NpgsqlDataSource Db => store.DataSource;
    private long NowMs => Ms(store.Time.GetUtcNow());

    // ------------------------------------------------------------------ channels

    public Task<AlertChannel?> CreateChannelAsync(SaveChannelParams p, CancellationToken cancellationToken) =>
        Db.OneAsync("INSERT INTO alert_channels (id, organization_id, name, kind, config, created_at, updated_at) " +
                    $"VALUES (@id, @org, @name, @kind, @config, @now, @now) ON CONFLICT (organization_id, name) DO NOTHING RETURNING {AlertRows.ChannelColumns}",
            ps => ps.Uuid("id", Ids.New(store.Time)).Uuid("org", p.OrganizationId).Text("name", p.Name).Text("kind", p.Kind.ToWire())
                .Text("config", p.ConfigJson).Long("now", NowMs), AlertRows.Channel, cancellationToken);

    public Task<AlertChannel?> UpdateChannelAsync(SaveChannelParams p, CancellationToken cancellationToken) =>
        Db.OneAsync($"UPDATE alert_channels SET kind = @kind, config = @config, updated_at = @now WHERE organization_id = @org AND name = @name RETURNING {AlertRows.ChannelColumns}",
            ps => ps.Text("kind", p.Kind.ToWire()).Text("config", p.ConfigJson).Long("now", NowMs).Uuid("org", p.OrganizationId).Text("name", p.Name),
            AlertRows.Channel, cancellationToken);

    public Task<AlertChannel?> GetChannelAsync(NamedParams p, CancellationToken cancellationToken) =>
        Db.OneAsync($"SELECT {AlertRows.ChannelColumns} FROM alert_channels WHERE organization_id = @org AND name = @name",
            ps => ps.Uuid("org", p.OrganizationId).Text("name", p.Name), AlertRows.Channel, cancellationToken);

    public async Task<Page<AlertChannel>> ListChannelsAsync(ListNamedParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        var items = await Db.ManyAsync($"SELECT {AlertRows.ChannelColumns} FROM alert_channels WHERE organization_id = @org AND name COLLATE \"C\" > @after ORDER BY name COLLATE \"C\" LIMIT @n",
            ps => ps.Uuid("org", p.OrganizationId).Text("after", after ?? "").Int("n", p.Limit + 1), AlertRows.Channel, cancellationToken);
        return ScheduleCursor.Page(items, p.Limit, x => x.Name);
    }

    public async Task<bool> DeleteChannelAsync(NamedParams p, CancellationToken cancellationToken) =>
        await Db.ExecAsync("DELETE FROM alert_channels WHERE organization_id = @org AND name = @name",
            ps => ps.Uuid("org", p.OrganizationId).Text("name", p.Name), cancellationToken) > 0;

    // ------------------------------------------------------------------ rules

    public async Task<AlertRule?> CreateRuleAsync(SaveRuleParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await CreateRuleAsync(c, store.Time, p, cancellationToken);
    }

    /// <summary>The insert on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static Task<AlertRule?> CreateRuleAsync(NpgsqlConnection c, TimeProvider time, SaveRuleParams p, CancellationToken cancellationToken) =>
        c.OneAsync("INSERT INTO alert_rules (id, organization_id, name, kind, definition, enabled, created_at, updated_at) " +
                    $"VALUES (@id, @org, @name, @kind, @def, @enabled, @now, @now) ON CONFLICT (organization_id, name) DO NOTHING RETURNING {AlertRows.RuleColumns}",
            ps => ps.Uuid("id", Ids.New(time)).Uuid("org", p.OrganizationId).Text("name", p.Definition.Name).Text("kind", p.Definition.Kind.ToWire())
                .Text("def", p.Definition.ToJson()).Bool("enabled", p.Definition.Enabled).Long("now", Ms(time.GetUtcNow())), AlertRows.Rule, cancellationToken);

    public async Task<AlertRule?> UpdateRuleAsync(SaveRuleParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await UpdateRuleAsync(c, store.Time, p, cancellationToken);
    }

    /// <summary>The update on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static Task<AlertRule?> UpdateRuleAsync(NpgsqlConnection c, TimeProvider time, SaveRuleParams p, CancellationToken cancellationToken) =>
        c.OneAsync($"UPDATE alert_rules SET kind = @kind, definition = @def, enabled = @enabled, updated_at = @now WHERE organization_id = @org AND name = @name RETURNING {AlertRows.RuleColumns}",
            ps => ps.Text("kind", p.Definition.Kind.ToWire()).Text("def", p.Definition.ToJson()).Bool("enabled", p.Definition.Enabled).Long("now", Ms(time.GetUtcNow()))
                .Uuid("org", p.OrganizationId).Text("name", p.Definition.Name), AlertRows.Rule, cancellationToken);

    public Task<AlertRule?> GetRuleAsync(NamedParams p, CancellationToken cancellationToken) =>
        Db.OneAsync($"SELECT {AlertRows.RuleColumns} FROM alert_rules WHERE organization_id = @org AND name = @name",
            ps => ps.Uuid("org", p.OrganizationId).Text("name", p.Name), AlertRows.Rule, cancellationToken);

    public async Task<Page<AlertRule>> ListRulesAsync(ListNamedParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        var items = await Db.ManyAsync($"SELECT {AlertRows.RuleColumns} FROM alert_rules WHERE organization_id = @org AND name COLLATE \"C\" > @after ORDER BY name COLLATE \"C\" LIMIT @n",
            ps => ps.Uuid("org", p.OrganizationId).Text("after", after ?? "").Int("n", p.Limit + 1), AlertRows.Rule, cancellationToken);
        return ScheduleCursor.Page(items, p.Limit, x => x.Name);
    }

    public async Task<bool> DeleteRuleAsync(NamedParams p, CancellationToken cancellationToken) =>
        await Db.ExecAsync("DELETE FROM alert_rules WHERE organization_id = @org AND name = @name",
            ps => ps.Uuid("org", p.OrganizationId).Text("name", p.Name), cancellationToken) > 0;

    public async Task<IReadOnlyList<AlertRule>> ListEnabledRulesAsync(CancellationToken cancellationToken) =>
        await Db.ManyAsync($"SELECT {AlertRows.RuleColumns} FROM alert_rules WHERE enabled ORDER BY organization_id, name COLLATE \"C\"", _ => { }, AlertRows.Rule, cancellationToken);

    // ------------------------------------------------------------------ incidents

    public Task<IncidentFiring> FireAsync(FireIncidentParams p, CancellationToken cancellationToken) =>
        Db.InTransactionAsync(async c =>
        {
            var now = store.Time.GetUtcNow();
            await c.ExecAsync("SELECT pg_advisory_xact_lock(hashtextextended(@lock, 0))",
                ps => ps.Text("lock", $"alert:{p.RuleId}:{p.Key}"), cancellationToken);
            var open = await c.OneAsync($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE rule_id = @rule AND alert_key = @key AND resolved_at IS NULL",
                ps => ps.Uuid("rule", p.RuleId).Text("key", p.Key), AlertRows.Incident, cancellationToken);
            var last = (await c.ManyAsync("SELECT MAX(last_notified_at) FROM alert_incidents WHERE rule_id = @rule AND alert_key = @key",
                ps => ps.Uuid("rule", p.RuleId).Text("key", p.Key), r => LongOrNull(r, 0), cancellationToken))[0];
            var notify = last is not { } ms || now - Time(ms) >= p.Cooldown;
            Guid id;
            if (open is null)
            {
                id = Ids.New(store.Time);
                await c.ExecAsync("INSERT INTO alert_incidents (id, organization_id, rule_id, rule_name, alert_key, title, summary, opened_at, last_fired_at, last_notified_at, fire_count) " +
                                  "VALUES (@id, @org, @rule, @name, @key, @title, @summary, @now, @now, @notified, 1)",
                    ps => ps.Uuid("id", id).Uuid("org", p.OrganizationId).Uuid("rule", p.RuleId).Text("name", p.RuleName).Text("key", p.Key)
                        .Text("title", p.Title).Text("summary", p.Summary).Long("now", Ms(now)).Long("notified", notify ? Ms(now) : null), cancellationToken);
                await AddEventAsync(c, p.OrganizationId, id, "opened", p.Title, cancellationToken);
                if (!notify) await AddEventAsync(c, p.OrganizationId, id, "suppressed", "inside the cool-down of an earlier notification", cancellationToken);
            }
            else
            {
                id = open.Id;
                await c.ExecAsync("UPDATE alert_incidents SET title = @title, summary = @summary, last_fired_at = @now, fire_count = fire_count + 1, " +
                                  "last_notified_at = COALESCE(@notified, last_notified_at) WHERE id = @id",
                    ps => ps.Text("title", p.Title).Text("summary", p.Summary).Long("now", Ms(now)).Long("notified", notify ? Ms(now) : null).Uuid("id", id),
                    cancellationToken);
            }
            var incident = (await c.OneAsync($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE id = @id", ps => ps.Uuid("id", id), AlertRows.Incident, cancellationToken))!;
            return new IncidentFiring(incident, open is null, notify);
        }, cancellationToken);

    private Task<int> AddEventAsync(NpgsqlConnection c, Guid org, Guid incident, string kind, string? message, CancellationToken cancellationToken) =>
        c.ExecAsync("INSERT INTO alert_incident_events (organization_id, incident_id, at, kind, message) VALUES (@org, @incident, @at, @kind, @message)",
            ps => ps.Uuid("org", org).Uuid("incident", incident).Long("at", NowMs).Text("kind", kind).Text("message", message), cancellationToken);

    public Task<Incident?> ResolveAsync(ResolveIncidentParams p, CancellationToken cancellationToken) =>
        Db.InTransactionAsync(async c =>
        {
            var incident = await c.OneAsync($"UPDATE alert_incidents SET resolved_at = @now WHERE id = @id AND organization_id = @org AND resolved_at IS NULL RETURNING {AlertRows.IncidentColumns}",
                ps => ps.Long("now", NowMs).Uuid("id", p.IncidentId).Uuid("org", p.OrganizationId), AlertRows.Incident, cancellationToken);
            if (incident is not null) await AddEventAsync(c, p.OrganizationId, p.IncidentId, "resolved", p.Message, cancellationToken);
            return incident;
        }, cancellationToken);

    public async Task AddIncidentEventAsync(IncidentEventParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await AddEventAsync(c, p.OrganizationId, p.IncidentId, p.Kind, p.Message, cancellationToken);
    }

    public async Task<Incident?> GetIncidentAsync(IncidentParams p, CancellationToken cancellationToken)
    {
        var incident = await Db.OneAsync($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE id = @id AND organization_id = @org",
            ps => ps.Uuid("id", p.IncidentId).Uuid("org", p.OrganizationId), AlertRows.Incident, cancellationToken);
        if (incident is null) return null;
        var events = await Db.ManyAsync($"SELECT {AlertRows.IncidentEventColumns} FROM alert_incident_events WHERE incident_id = @id ORDER BY seq",
            ps => ps.Uuid("id", p.IncidentId), AlertRows.IncidentEvent, cancellationToken);
        return incident with { Events = events };
    }

    public async Task<Page<Incident>> ListIncidentsAsync(ListIncidentsParams p, CancellationToken cancellationToken)
    {
        var before = IdCursor.Read(p.Cursor);
        var sql = $"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE organization_id = @org" +
                  (before is null ? "" : " AND id < @before") +
                  (p.Open switch { true => " AND resolved_at IS NULL", false => " AND resolved_at IS NOT NULL", _ => "" }) +
                  (p.RuleId is null ? "" : " AND rule_id = @rule") + " ORDER BY id DESC LIMIT @n";
        var items = await Db.ManyAsync(sql, ps => ps.Uuid("org", p.OrganizationId).Uuid("before", before).Uuid("rule", p.RuleId).Int("n", p.Limit + 1),
            AlertRows.Incident, cancellationToken);
        return IdCursor.Page(items, p.Limit, i => i.Id);
    }

    public async Task<IReadOnlyList<Incident>> ListOpenIncidentsAsync(RuleIncidentsParams p, CancellationToken cancellationToken) =>
        await Db.ManyAsync($"SELECT {AlertRows.IncidentColumns} FROM alert_incidents WHERE rule_id = @rule AND organization_id = @org AND resolved_at IS NULL ORDER BY id",
            ps => ps.Uuid("rule", p.RuleId).Uuid("org", p.OrganizationId), AlertRows.Incident, cancellationToken);

    // ------------------------------------------------------------------ maintenance windows

    public async Task<MaintenanceWindow> CreateWindowAsync(CreateWindowParams p, CancellationToken cancellationToken) =>
        (await Db.OneAsync($"INSERT INTO maintenance_windows (id, organization_id, rule, starts_at, ends_at, reason, created_at) VALUES (@id, @org, @rule, @start, @end, @reason, @now) RETURNING {AlertRows.WindowColumns}",
            ps => ps.Uuid("id", Ids.New(store.Time)).Uuid("org", p.OrganizationId).Text("rule", p.Rule).Long("start", Ms(p.StartsAt)).Long("end", Ms(p.EndsAt))
                .Text("reason", p.Reason).Long("now", NowMs), AlertRows.Window, cancellationToken))!;

    public async Task<IReadOnlyList<MaintenanceWindow>> ListWindowsAsync(ListWindowsParams p, CancellationToken cancellationToken) =>
        await Db.ManyAsync($"SELECT {AlertRows.WindowColumns} FROM maintenance_windows WHERE organization_id = @org AND ends_at > @after ORDER BY starts_at, id",
            ps => ps.Uuid("org", p.OrganizationId).Long("after", p.EndingAfter is { } t ? Ms(t) : long.MinValue), AlertRows.Window, cancellationToken);

    public async Task<bool> DeleteWindowAsync(WindowParams p, CancellationToken cancellationToken) =>
        await Db.ExecAsync("DELETE FROM maintenance_windows WHERE id = @id AND organization_id = @org",
            ps => ps.Uuid("id", p.WindowId).Uuid("org", p.OrganizationId), cancellationToken) > 0;

    // ------------------------------------------------------------------ figures

    public async Task<FinishedCounts> CountFinishedAsync(CountFinishedParams p, CancellationToken cancellationToken)
    {
        var sql = "SELECT count(*) FILTER (WHERE state = 'succeeded'), count(*) FILTER (WHERE state = 'failed') FROM jobs " +
                  "WHERE organization_id = @org AND finished_at IS NOT NULL AND finished_at >= @since" +
                  (p.Queue is null ? "" : " AND queue = @queue") + (p.Type is null ? "" : " AND type = @type");
        return (await Db.ManyAsync(sql, ps => ps.Uuid("org", p.OrganizationId).Long("since", Ms(p.Since)).Text("queue", p.Queue).Text("type", p.Type),
            r => new FinishedCounts(r.GetInt64(0), r.GetInt64(1)), cancellationToken))[0];
    }

    public async Task<IReadOnlyList<QueueBacklog>> BacklogAsync(BacklogParams p, CancellationToken cancellationToken) =>
        await Db.ManyAsync("SELECT queue, count(*), min(run_at) FROM jobs WHERE organization_id = @org AND state = 'queued'" +
                           (p.Queue is null ? "" : " AND queue = @queue") + " GROUP BY queue ORDER BY queue COLLATE \"C\"",
            ps => ps.Uuid("org", p.OrganizationId).Text("queue", p.Queue), r => new QueueBacklog(r.GetString(0), r.GetInt64(1), TimeOrNull(r, 2)), cancellationToken);
}
