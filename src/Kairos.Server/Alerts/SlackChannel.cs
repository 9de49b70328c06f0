using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kairos.Core.Alerts;
using Kairos.Server.Outbound;

namespace Kairos.Server.Alerts;

/// <summary>A Slack incoming webhook: a Block Kit message (header, details, context) with a plain-text fallback.</summary>
public sealed class SlackChannel(OutboundHttp http) : IChannelSender
{
    public AlertChannelKind Kind => AlertChannelKind.Slack;

    public static JsonObject Payload(AlertMessage m)
    {
        var emoji = m.Status switch { "resolved" => ":white_check_mark:", "test" => ":wave:", _ => ":rotating_light:" };
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Clip(m.Headline, 150), ["emoji"] = true } },
        };
        if (!string.IsNullOrEmpty(m.Summary))
        {
            blocks.Add(new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Clip(m.Summary, 2900) } });
        }
        blocks.Add(new JsonObject
        {
            ["type"] = "context",
            ["elements"] = new JsonArray { new JsonObject { ["type"] = "mrkdwn", ["text"] = $"{emoji} Kairos · {m.Details} · {m.At:yyyy-MM-dd HH:mm:ss} UTC" } },
        });
        return new JsonObject { ["text"] = m.Headline, ["blocks"] = blocks };
    }

    public async Task SendAsync(AlertChannelConfig config, AlertMessage message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, config.Url) { Content = JsonContent.Create(Payload(message)) };
        var result = await http.SendAsync(request, cancellationToken);
        if (!result.Succeeded) throw new ChannelException($"Slack answered {result.Describe()}");
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
