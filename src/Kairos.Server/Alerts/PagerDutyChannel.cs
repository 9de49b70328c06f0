using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kairos.Core.Alerts;
using Kairos.Server.Outbound;

namespace Kairos.Server.Alerts;

/// <summary>
/// PagerDuty Events API v2: <c>trigger</c> when an incident fires (and again after the cool-down), <c>resolve</c> when
/// it clears, both with the incident's dedup key, so PagerDuty keeps one alert per Kairos incident.
/// </summary>
public sealed class PagerDutyChannel(OutboundHttp http) : IChannelSender
{
    public AlertChannelKind Kind => AlertChannelKind.Pagerduty;

    public static JsonObject Payload(string routingKey, string? severity, AlertMessage m)
    {
        var body = new JsonObject
        {
            ["routing_key"] = routingKey,
            ["event_action"] = m.Resolved ? "resolve" : "trigger",
            ["dedup_key"] = m.DedupKey,
        };
        if (!m.Resolved)
        {
            body["payload"] = new JsonObject
            {
                ["summary"] = m.Title.Length <= 1024 ? m.Title : m.Title[..1024],
                ["source"] = "kairos",
                ["severity"] = severity ?? "warning",
                ["timestamp"] = m.At.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
                ["component"] = m.Key,
                ["group"] = m.Rule,
                ["class"] = "kairos.alert",
                ["custom_details"] = new JsonObject { ["summary"] = m.Summary, ["incident_id"] = m.IncidentId?.ToString(), ["status"] = m.Status },
            };
        }
        return body;
    }

    public async Task SendAsync(AlertChannelConfig config, AlertMessage message, CancellationToken cancellationToken)
    {
        var url = config.EventsUrl ?? AlertChannelConfig.DefaultPagerDutyUrl;
        await PostAsync(url, Payload(config.RoutingKey!, config.Severity, message), cancellationToken);
        if (message.Status == "test")
        {
            // A test leaves nothing open on the other side.
            await PostAsync(url, Payload(config.RoutingKey!, config.Severity, message with { Status = "resolved" }), cancellationToken);
        }
    }

    private async Task PostAsync(string url, JsonObject body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        var result = await http.SendAsync(request, cancellationToken);
        if (!result.Succeeded) throw new ChannelException($"PagerDuty answered {result.Describe()}");
    }
}
