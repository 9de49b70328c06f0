using System.Text;
using System.Text.Json;
using Kairos.Core.Alerts;
using Kairos.Core.Webhooks;
using Kairos.Server.Http;
using Kairos.Server.Outbound;

namespace Kairos.Server.Alerts;

/// <summary>
/// A generic webhook channel: a JSON POST in the event envelope (<c>alert.fired</c>, <c>alert.resolved</c>,
/// <c>alert.test</c>), with the channel's headers, and signed as webhooks are when the channel has a secret.
/// </summary>
public sealed class WebhookChannel(OutboundHttp http, TimeProvider time) : IChannelSender
{
    public AlertChannelKind Kind => AlertChannelKind.Webhook;

    public static string Body(AlertMessage m) => JsonSerializer.Serialize(new
    {
        id = $"alert_{Guid.CreateVersion7(m.At):N}",
        type = m.Status switch { "resolved" => "alert.resolved", "test" => "alert.test", _ => "alert.fired" },
        time = m.At,
        organization_id = m.OrganizationId,
        data = new
        {
            status = m.Status,
            incident_id = m.IncidentId,
            rule = m.Rule,
            key = m.Key,
            title = m.Title,
            summary = m.Summary,
            dedup_key = m.DedupKey,
        },
    }, Json.Options);

    public async Task SendAsync(AlertChannelConfig config, AlertMessage message, CancellationToken cancellationToken)
    {
        var body = Body(message);
        using var request = new HttpRequestMessage(HttpMethod.Post, config.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in config.Headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        if (config.Secret is { Length: > 0 } secret)
        {
            request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.HeaderValue(secret, time.GetUtcNow().ToUnixTimeSeconds(), body));
        }
        var result = await http.SendAsync(request, cancellationToken);
        if (!result.Succeeded) throw new ChannelException($"the webhook answered {result.Describe()}");
    }
}
