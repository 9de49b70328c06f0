using System.Text.Json;
using Kairos.Core;
using Kairos.Core.Storage;
using Kairos.Core.Webhooks;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>Webhook endpoints, deliveries and attempts on PostgreSQL; recording an attempt locks the endpoint row for its failure streak.</summary>
internal sealed class PostgresWebhookStore(PostgresStore store) : IWebhookStore
{

    private NpgsqlDataSource Db => store.DataSource;
    private long NowMs => Ms(store.Time.GetUtcNow());

    public async Task<WebhookEndpoint> CreateEndpointAsync(CreateEndpointParams p, CancellationToken cancellationToken) =>
        (await Db.OneAsync("INSERT INTO webhook_endpoints (id, organization_id, url, description, event_types, secret, enabled, created_at, updated_at) " +
                           $"VALUES (@id, @org, @url, @description, @events, @secret, true, @now, @now) RETURNING {AlertRows.EndpointColumns}",
            ps => ps.Uuid("id", Ids.New(store.Time)).Uuid("org", p.OrganizationId).Text("url", p.Url).Text("description", p.Description)
                .Text("events", JsonSerializer.Serialize(p.EventTypes)).Text("secret", p.SecretProtected).Long("now", NowMs), AlertRows.Endpoint, cancellationToken))!;

    public Task<WebhookEndpoint?> UpdateEndpointAsync(UpdateEndpointParams p, CancellationToken cancellationToken) =>
        Db.InTransactionAsync(async c =>
        {
            var e = await c.OneAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE id = @id AND organization_id = @org FOR UPDATE",
                ps => ps.Uuid("id", p.EndpointId).Uuid("org", p.OrganizationId), AlertRows.Endpoint, cancellationToken);
            if (e is null) return null;
            var enabled = p.Enabled ?? e.Enabled;
            var reenabled = enabled && !e.Enabled;
            return await c.OneAsync("UPDATE webhook_endpoints SET url = @url, description = @description, event_types = @events, enabled = @enabled, " +
                                    $"disabled_reason = @reason, failing_since = @failing, updated_at = @now WHERE id = @id RETURNING {AlertRows.EndpointColumns}",
                ps => ps.Text("url", p.Url ?? e.Url).Text("description", p.Description ?? e.Description)
                    .Text("events", JsonSerializer.Serialize(p.EventTypes ?? e.EventTypes)).Bool("enabled", enabled)
                    .Text("reason", enabled ? null : p.Enabled == false ? "disabled by a user" : e.DisabledReason)
                    .Long("failing", reenabled || e.FailingSince is null ? null : Ms(e.FailingSince.Value)).Long("now", NowMs).Uuid("id", e.Id),
                AlertRows.Endpoint, cancellationToken);
        }, cancellationToken);

    public Task<WebhookEndpoint?> GetEndpointAsync(EndpointParams p, CancellationToken cancellationToken) =>
        Db.OneAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE id = @id AND organization_id = @org",
            ps => ps.Uuid("id", p.EndpointId).Uuid("org", p.OrganizationId), AlertRows.Endpoint, cancellationToken);

    public async Task<Page<WebhookEndpoint>> ListEndpointsAsync(ListEndpointsParams p, CancellationToken cancellationToken)
    {
        var after = IdCursor.Read(p.Cursor);
        var items = await Db.ManyAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE organization_id = @org" +
                                       (after is null ? "" : " AND id > @after") + " ORDER BY id LIMIT @n",
            ps => ps.Uuid("org", p.OrganizationId).Uuid("after", after).Int("n", p.Limit + 1), AlertRows.Endpoint, cancellationToken);
        return IdCursor.Page(items, p.Limit, e => e.Id);
    }

    public Task<bool> DeleteEndpointAsync(EndpointParams p, CancellationToken cancellationToken) =>
        Db.InTransactionAsync(async c =>
        {
            if (await c.ExecAsync("DELETE FROM webhook_endpoints WHERE id = @id AND organization_id = @org",
                    ps => ps.Uuid("id", p.EndpointId).Uuid("org", p.OrganizationId), cancellationToken) == 0) return false;
            await c.ExecAsync("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = @id)",
                ps => ps.Uuid("id", p.EndpointId), cancellationToken);
            await c.ExecAsync("DELETE FROM webhook_deliveries WHERE endpoint_id = @id", ps => ps.Uuid("id", p.EndpointId), cancellationToken);
            return true;
        }, cancellationToken);

    public async Task<IReadOnlyList<WebhookEndpoint>> ListEnabledEndpointsAsync(Guid organizationId, CancellationToken cancellationToken) =>
        await Db.ManyAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE organization_id = @org AND enabled ORDER BY id",
            ps => ps.Uuid("org", organizationId), AlertRows.Endpoint, cancellationToken);

    public async Task<IReadOnlyList<Guid>> ListOrganizationsWithEndpointsAsync(CancellationToken cancellationToken) =>
        await Db.ManyAsync("SELECT DISTINCT organization_id FROM webhook_endpoints WHERE enabled ORDER BY organization_id", _ => { }, r => r.GetGuid(0), cancellationToken);

    public async Task<WebhookDelivery> CreateDeliveryAsync(CreateDeliveryParams p, CancellationToken cancellationToken) =>
        (await Db.OneAsync("INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, body, state, attempt_count, created_at, updated_at) " +
                           $"VALUES (@id, @org, @endpoint, @event, @type, @body, 'pending', 0, @now, @now) RETURNING {AlertRows.DeliveryColumns}",
            ps => ps.Uuid("id", Ids.New(store.Time)).Uuid("org", p.OrganizationId).Uuid("endpoint", p.EndpointId).Text("event", p.EventId)
                .Text("type", p.EventType).Text("body", p.Body).Long("now", NowMs), AlertRows.Delivery, cancellationToken))!;

    public async Task<bool> SetDeliveryJobAsync(DeliveryJobParams p, CancellationToken cancellationToken) =>
        await Db.ExecAsync("UPDATE webhook_deliveries SET job_id = @job, state = 'pending', updated_at = @now WHERE id = @id AND organization_id = @org",
            ps => ps.Uuid("job", p.JobId).Long("now", NowMs).Uuid("id", p.DeliveryId).Uuid("org", p.OrganizationId), cancellationToken) > 0;

    public async Task<WebhookDelivery?> GetDeliveryAsync(DeliveryParams p, CancellationToken cancellationToken)
    {
        var delivery = await Db.OneAsync($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries WHERE id = @id AND organization_id = @org",
            ps => ps.Uuid("id", p.DeliveryId).Uuid("org", p.OrganizationId), AlertRows.Delivery, cancellationToken);
        if (delivery is null) return null;
        var attempts = await Db.ManyAsync($"SELECT {AlertRows.AttemptColumns} FROM webhook_attempts WHERE delivery_id = @id ORDER BY seq",
            ps => ps.Uuid("id", p.DeliveryId),
            AlertRows.Attempt, cancellationToken);
        return delivery with { Attempts = attempts };
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ListOrphanDeliveriesAsync(OrphanDeliveriesParams p, CancellationToken cancellationToken) =>
        await Db.ManyAsync($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries d WHERE state = 'pending' AND updated_at < @since " +
                           "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = d.job_id AND j.state NOT IN ('succeeded', 'failed', 'cancelled')) ORDER BY updated_at, id LIMIT @n",
            ps => ps.Long("since", p.UnchangedSince.ToUnixTimeMilliseconds()).Int("n", p.Limit), AlertRows.Delivery, cancellationToken);

    public async Task<bool> FailDeliveryAsync(DeliveryParams p, CancellationToken cancellationToken) =>
        await Db.ExecAsync("UPDATE webhook_deliveries SET state = 'failed', updated_at = @now WHERE id = @id AND organization_id = @org AND state = 'pending'",
            ps => ps.Long("now", NowMs).Uuid("id", p.DeliveryId).Uuid("org", p.OrganizationId), cancellationToken) > 0;

    public async Task<Page<WebhookDelivery>?> ListDeliveriesAsync(ListDeliveriesParams p, CancellationToken cancellationToken)
    {
        if (await GetEndpointAsync(new EndpointParams(p.OrganizationId, p.EndpointId), cancellationToken) is null) return null;
        var before = IdCursor.Read(p.Cursor);
        var items = await Db.ManyAsync($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries WHERE endpoint_id = @endpoint AND organization_id = @org" +
                                       (before is null ? "" : " AND id < @before") + " ORDER BY id DESC LIMIT @n",
            ps => ps.Uuid("endpoint", p.EndpointId).Uuid("org", p.OrganizationId).Uuid("before", before).Int("n", p.Limit + 1), AlertRows.Delivery, cancellationToken);
        return IdCursor.Page(items, p.Limit, d => d.Id);
    }

    public Task<AttemptOutcome?> RecordAttemptAsync(RecordAttemptParams p, CancellationToken cancellationToken) =>
        Db.InTransactionAsync(async c =>
        {
            var delivery = await c.OneAsync($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries WHERE id = @id AND organization_id = @org FOR UPDATE",
                ps => ps.Uuid("id", p.DeliveryId).Uuid("org", p.OrganizationId), AlertRows.Delivery, cancellationToken);
            if (delivery is null) return null;
            var a = p.Attempt;
            var state = a.Succeeded ? DeliveryState.Succeeded : p.Final ? DeliveryState.Failed : DeliveryState.Pending;
            await c.ExecAsync("INSERT INTO webhook_attempts (organization_id, delivery_id, number, at, status, duration_ms, response, error, request_headers) " +
                              "VALUES (@org, @delivery, @number, @at, @status, @duration, @response, @error, @headers)",
                ps => ps.Uuid("org", p.OrganizationId).Uuid("delivery", delivery.Id).Int("number", a.Number).Long("at", Ms(a.At)).Int("status", a.Status)
                    .Long("duration", a.DurationMs).Text("response", a.Response).Text("error", a.Error).Text("headers", a.RequestHeaders), cancellationToken);
            await c.ExecAsync("UPDATE webhook_deliveries SET state = @state, attempt_count = attempt_count + 1, last_status = @status, updated_at = @now WHERE id = @id",
                ps => ps.Text("state", state.ToWire()).Int("status", a.Status).Long("now", NowMs).Uuid("id", delivery.Id), cancellationToken);
            var endpoint = await c.OneAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE id = @id FOR UPDATE",
                ps => ps.Uuid("id", delivery.EndpointId), AlertRows.Endpoint, cancellationToken);
            var disabled = false;
            if (endpoint is not null)
            {
                DateTimeOffset? failingSince = a.Succeeded ? null : endpoint.FailingSince ?? a.At;
                disabled = endpoint.Enabled && failingSince is { } since && a.At - since >= p.DisableAfter;
                await c.ExecAsync("UPDATE webhook_endpoints SET failing_since = @failing, enabled = @enabled, disabled_reason = @reason, updated_at = @now WHERE id = @id",
                    ps => ps.Long("failing", failingSince is { } f ? Ms(f) : null).Bool("enabled", endpoint.Enabled && !disabled)
                        .Text("reason", disabled ? $"every delivery failed for {p.DisableAfter.TotalDays:0.#} days" : endpoint.DisabledReason)
                        .Long("now", NowMs).Uuid("id", endpoint.Id), cancellationToken);
            }
            return new AttemptOutcome(state, disabled);
        }, cancellationToken);
}
