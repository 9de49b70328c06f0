using System.Text.Json;
using Kairos.Core;
using Kairos.Core.Storage;
using Kairos.Core.Webhooks;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>Webhook endpoints, deliveries and attempts on SQLite; every change through the single writer.</summary>
internal sealed class SqliteWebhookStore(SqliteStore store) : IWebhookStore
{

    private static WebhookEndpoint? FindEndpoint(WriteContext ctx, Guid org, Guid id) =>
        ctx.One($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE id = $id AND organization_id = $org",
            c => c.Set("$id", id.ToString()).Set("$org", org.ToString()), AlertRows.Endpoint);

    public Task<WebhookEndpoint> CreateEndpointAsync(CreateEndpointParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var id = Ids.New(ctx.Time);
            ctx.Cmd("INSERT INTO webhook_endpoints (id, organization_id, url, description, event_types, secret, enabled, created_at, updated_at) " +
                    "VALUES ($id, $org, $url, $description, $events, $secret, 1, $now, $now)")
                .Set("$id", id.ToString()).Set("$org", p.OrganizationId.ToString()).Set("$url", p.Url).Set("$description", p.Description)
                .Set("$events", JsonSerializer.Serialize(p.EventTypes)).Set("$secret", p.SecretProtected).Set("$now", Ms(ctx.Now)).ExecuteNonQuery();
            return FindEndpoint(ctx, p.OrganizationId, id)!;
        }, cancellationToken);

    public Task<WebhookEndpoint?> UpdateEndpointAsync(UpdateEndpointParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            if (FindEndpoint(ctx, p.OrganizationId, p.EndpointId) is not { } e) return null;
            var enabled = p.Enabled ?? e.Enabled;
            var reenabled = enabled && !e.Enabled;
            ctx.Cmd("UPDATE webhook_endpoints SET url = $url, description = $description, event_types = $events, enabled = $enabled, " +
                    "disabled_reason = $reason, failing_since = $failing, updated_at = $now WHERE id = $id")
                .Set("$url", p.Url ?? e.Url).Set("$description", p.Description ?? e.Description)
                .Set("$events", JsonSerializer.Serialize(p.EventTypes ?? e.EventTypes)).Set("$enabled", enabled ? 1 : 0)
                .Set("$reason", enabled ? null : p.Enabled == false ? "disabled by a user" : e.DisabledReason)
                .Set("$failing", reenabled || e.FailingSince is null ? null : Ms(e.FailingSince.Value)).Set("$now", Ms(ctx.Now))
                .Set("$id", e.Id.ToString()).ExecuteNonQuery();
            return FindEndpoint(ctx, p.OrganizationId, p.EndpointId);
        }, cancellationToken);

    public async Task<WebhookEndpoint?> GetEndpointAsync(EndpointParams p, CancellationToken cancellationToken) =>
        (await store.ManyAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE id = $id AND organization_id = $org",
            c => c.Set("$id", p.EndpointId.ToString()).Set("$org", p.OrganizationId.ToString()), AlertRows.Endpoint, cancellationToken)).FirstOrDefault();

    public async Task<Page<WebhookEndpoint>> ListEndpointsAsync(ListEndpointsParams p, CancellationToken cancellationToken)
    {
        var after = IdCursor.Read(p.Cursor);
        var items = await store.ManyAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE organization_id = $org AND id > $after ORDER BY id LIMIT $n",
            c => c.Set("$org", p.OrganizationId.ToString()).Set("$after", after?.ToString() ?? "").Set("$n", p.Limit + 1), AlertRows.Endpoint, cancellationToken);
        return IdCursor.Page(items, p.Limit, e => e.Id);
    }

    public Task<bool> DeleteEndpointAsync(EndpointParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var id = p.EndpointId.ToString();
            if (ctx.Cmd("DELETE FROM webhook_endpoints WHERE id = $id AND organization_id = $org").Set("$id", id).Set("$org", p.OrganizationId.ToString())
                    .ExecuteNonQuery() == 0) return false;
            ctx.Cmd("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $id)").Set("$id", id).ExecuteNonQuery();
            ctx.Cmd("DELETE FROM webhook_deliveries WHERE endpoint_id = $id").Set("$id", id).ExecuteNonQuery();
            return true;
        }, cancellationToken);

    public async Task<IReadOnlyList<WebhookEndpoint>> ListEnabledEndpointsAsync(Guid organizationId, CancellationToken cancellationToken) =>
        await store.ManyAsync($"SELECT {AlertRows.EndpointColumns} FROM webhook_endpoints WHERE organization_id = $org AND enabled = 1 ORDER BY id",
            c => c.Set("$org", organizationId.ToString()), AlertRows.Endpoint, cancellationToken);

    public async Task<IReadOnlyList<Guid>> ListOrganizationsWithEndpointsAsync(CancellationToken cancellationToken) =>
        await store.ManyAsync("SELECT DISTINCT organization_id FROM webhook_endpoints WHERE enabled = 1 ORDER BY organization_id", _ => { },
            r => Guid.Parse(r.GetString(0)), cancellationToken);

    public Task<WebhookDelivery> CreateDeliveryAsync(CreateDeliveryParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var id = Ids.New(ctx.Time).ToString();
            ctx.Cmd("INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, body, state, attempt_count, created_at, updated_at) " +
                    "VALUES ($id, $org, $endpoint, $event, $type, $body, 'pending', 0, $now, $now)")
                .Set("$id", id).Set("$org", p.OrganizationId.ToString()).Set("$endpoint", p.EndpointId.ToString()).Set("$event", p.EventId)
                .Set("$type", p.EventType).Set("$body", p.Body).Set("$now", Ms(ctx.Now)).ExecuteNonQuery();
            return ctx.One($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries WHERE id = $id", c => c.Set("$id", id), AlertRows.Delivery)!;
        }, cancellationToken);

    public Task<bool> SetDeliveryJobAsync(DeliveryJobParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Cmd("UPDATE webhook_deliveries SET job_id = $job, state = 'pending', updated_at = $now WHERE id = $id AND organization_id = $org")
            .Set("$job", p.JobId.ToString()).Set("$now", Ms(ctx.Now)).Set("$id", p.DeliveryId.ToString()).Set("$org", p.OrganizationId.ToString())
            .ExecuteNonQuery() > 0, cancellationToken);

    public async Task<WebhookDelivery?> GetDeliveryAsync(DeliveryParams p, CancellationToken cancellationToken)
    {
        var delivery = (await store.ManyAsync($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries WHERE id = $id AND organization_id = $org",
            c => c.Set("$id", p.DeliveryId.ToString()).Set("$org", p.OrganizationId.ToString()), AlertRows.Delivery, cancellationToken)).FirstOrDefault();
        if (delivery is null) return null;
        var attempts = await store.ManyAsync($"SELECT {AlertRows.AttemptColumns} FROM webhook_attempts WHERE delivery_id = $id ORDER BY seq",
            c => c.Set("$id", p.DeliveryId.ToString()),
            AlertRows.Attempt, cancellationToken);
        return delivery with { Attempts = attempts };
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ListOrphanDeliveriesAsync(OrphanDeliveriesParams p, CancellationToken cancellationToken) =>
        await store.ManyAsync($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries d WHERE state = 'pending' AND updated_at < $since " +
                              "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = d.job_id AND j.state NOT IN ('succeeded', 'failed', 'cancelled')) ORDER BY updated_at, id LIMIT $n",
            c => c.Set("$since", Ms(p.UnchangedSince)).Set("$n", p.Limit), AlertRows.Delivery, cancellationToken);

    public Task<bool> FailDeliveryAsync(DeliveryParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Cmd("UPDATE webhook_deliveries SET state = 'failed', updated_at = $now WHERE id = $id AND organization_id = $org AND state = 'pending'")
            .Set("$now", Ms(ctx.Now)).Set("$id", p.DeliveryId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteNonQuery() > 0, cancellationToken);

    public async Task<Page<WebhookDelivery>?> ListDeliveriesAsync(ListDeliveriesParams p, CancellationToken cancellationToken)
    {
        if (await GetEndpointAsync(new EndpointParams(p.OrganizationId, p.EndpointId), cancellationToken) is null) return null;
        var before = IdCursor.Read(p.Cursor);
        var items = await store.ManyAsync($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries WHERE endpoint_id = $endpoint AND organization_id = $org" +
                                    (before is null ? "" : " AND id < $before") + " ORDER BY id DESC LIMIT $n",
            c => c.Set("$endpoint", p.EndpointId.ToString()).Set("$org", p.OrganizationId.ToString()).Set("$before", before?.ToString()).Set("$n", p.Limit + 1),
            AlertRows.Delivery, cancellationToken);
        return IdCursor.Page(items, p.Limit, d => d.Id);
    }

    public Task<AttemptOutcome?> RecordAttemptAsync(RecordAttemptParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            var delivery = ctx.One($"SELECT {AlertRows.DeliveryColumns} FROM webhook_deliveries WHERE id = $id AND organization_id = $org",
                c => c.Set("$id", p.DeliveryId.ToString()).Set("$org", org), AlertRows.Delivery);
            if (delivery is null) return null;
            var a = p.Attempt;
            var state = a.Succeeded ? DeliveryState.Succeeded : p.Final ? DeliveryState.Failed : DeliveryState.Pending;
            ctx.Cmd("INSERT INTO webhook_attempts (organization_id, delivery_id, number, at, status, duration_ms, response, error, request_headers) " +
                    "VALUES ($org, $delivery, $number, $at, $status, $duration, $response, $error, $headers)")
                .Set("$org", org).Set("$delivery", delivery.Id.ToString()).Set("$number", a.Number).Set("$at", Ms(a.At)).Set("$status", a.Status)
                .Set("$duration", a.DurationMs).Set("$response", a.Response).Set("$error", a.Error).Set("$headers", a.RequestHeaders).ExecuteNonQuery();
            ctx.Cmd("UPDATE webhook_deliveries SET state = $state, attempt_count = attempt_count + 1, last_status = $status, updated_at = $now WHERE id = $id")
                .Set("$state", state.ToWire()).Set("$status", a.Status).Set("$now", Ms(ctx.Now)).Set("$id", delivery.Id.ToString()).ExecuteNonQuery();
            var endpoint = FindEndpoint(ctx, p.OrganizationId, delivery.EndpointId);
            var disabled = false;
            if (endpoint is not null)
            {
                DateTimeOffset? failingSince = a.Succeeded ? null : endpoint.FailingSince ?? a.At;
                disabled = endpoint.Enabled && failingSince is { } since && a.At - since >= p.DisableAfter;
                ctx.Cmd("UPDATE webhook_endpoints SET failing_since = $failing, enabled = $enabled, disabled_reason = $reason, updated_at = $now WHERE id = $id")
                    .Set("$failing", failingSince is { } f ? Ms(f) : null).Set("$enabled", endpoint.Enabled && !disabled ? 1 : 0)
                    .Set("$reason", disabled ? $"every delivery failed for {p.DisableAfter.TotalDays:0.#} days" : endpoint.DisabledReason)
                    .Set("$now", Ms(ctx.Now)).Set("$id", endpoint.Id.ToString()).ExecuteNonQuery();
            }
            return new AttemptOutcome(state, disabled);
        }, cancellationToken);
}
