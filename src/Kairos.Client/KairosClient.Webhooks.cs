using System.Globalization;

namespace Kairos.Client;

/// <summary>Webhook endpoints and their deliveries (needs <c>webhooks.manage</c>: an admin key).</summary>
public sealed partial class KairosClient
{
    public Task<Page<Webhook>> ListWebhooksAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/webhooks" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosWebhookJson.Default.PageWebhook, idempotent: true, cancellationToken);

    /// <summary>Subscribes a URL to event types; the answer holds the signing secret, this once.</summary>
    public Task<CreatedWebhook> CreateWebhookAsync(string url, IReadOnlyList<string> eventTypes, string? description = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/webhooks",
            Json(new CreateWebhookBody { Url = url, EventTypes = eventTypes, Description = description }, KairosWebhookJson.Default.CreateWebhookBody),
            KairosWebhookJson.Default.CreatedWebhook, idempotent: false, cancellationToken);

    public Task DeleteWebhookAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/webhooks/{id}", null, idempotent: false, cancellationToken);

    /// <summary>Sends a <c>webhook.test</c> event to the endpoint; answers the delivery (pending: follow it with <see cref="ListWebhookDeliveriesAsync"/>).</summary>
    public Task<WebhookDelivery> TestWebhookAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/webhooks/{id}/test", null, KairosWebhookJson.Default.WebhookDelivery, idempotent: false, cancellationToken);

    /// <summary>An endpoint's deliveries, newest first.</summary>
    public Task<Page<WebhookDelivery>> ListWebhookDeliveriesAsync(Guid id, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/webhooks/{id}/deliveries" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosWebhookJson.Default.PageWebhookDelivery, idempotent: true, cancellationToken);
}
