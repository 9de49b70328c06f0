using System.Text.Json;

namespace Kairos.Core.Alerts;

/// <summary>Where notifications go.</summary>
public enum AlertChannelKind
{
    /// <summary>A Slack incoming webhook (Block Kit message).</summary>
    Slack,
    /// <summary>A generic webhook: a JSON POST.</summary>
    Webhook,
    /// <summary>Email over SMTP.</summary>
    Email,
    /// <summary>PagerDuty Events API v2: trigger and resolve with a stable dedup key.</summary>
    Pagerduty,
}

public static class AlertChannelKinds
{
    public static readonly IReadOnlyList<string> Wire = ["slack", "webhook", "email", "pagerduty"];

    public static string ToWire(this AlertChannelKind kind) => Wire[(int)kind];

    public static bool TryParse(string? text, out AlertChannelKind kind)
    {
        var i = text is null ? -1 : Wire.ToList().IndexOf(text);
        kind = i < 0 ? default : (AlertChannelKind)i;
        return i >= 0;
    }
}

/// <summary>
/// A channel's settings. Secret fields (<see cref="SecretFields"/>: a Slack webhook URL, a PagerDuty routing key, an SMTP
/// password, a webhook's signing secret) are held encrypted by the server wherever they rest (the store, backups) and
/// are never answered by the API, only masked.
/// </summary>
public sealed record AlertChannelConfig
{
    /// <summary>slack: the incoming webhook URL (secret: it carries its token). webhook: the URL.</summary>
    public string? Url { get; init; }
    /// <summary>webhook: extra headers sent with every request.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
    /// <summary>webhook: when set, requests are signed as webhooks are (<c>Kairos-Signature</c>).</summary>
    public string? Secret { get; init; }
    /// <summary>email: SMTP server.</summary>
    public string? Host { get; init; }
    public int? Port { get; init; }
    /// <summary>email: <c>none</c>, <c>starttls</c> (default) or <c>tls</c> (implicit TLS, port 465).</summary>
    public string? Tls { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? From { get; init; }
    public IReadOnlyList<string>? To { get; init; }
    /// <summary>pagerduty: the integration's routing key.</summary>
    public string? RoutingKey { get; init; }
    /// <summary>pagerduty: critical, error, warning (default) or info.</summary>
    public string? Severity { get; init; }
    /// <summary>pagerduty: the Events API v2 endpoint (default https://events.pagerduty.com/v2/enqueue).</summary>
    public string? EventsUrl { get; init; }

    public const string DefaultPagerDutyUrl = "https://events.pagerduty.com/v2/enqueue";
    public static readonly IReadOnlyList<string> TlsModes = ["none", "starttls", "tls"];
    public static readonly IReadOnlyList<string> Severities = ["critical", "error", "warning", "info"];

    /// <summary>The names (snake_case) of the secret fields of a kind.</summary>
    public static IReadOnlyList<string> SecretFields(AlertChannelKind kind) => kind switch
    {
        AlertChannelKind.Slack => ["url"],
        AlertChannelKind.Webhook => ["secret"],
        AlertChannelKind.Email => ["password"],
        AlertChannelKind.Pagerduty => ["routing_key"],
        _ => [],
    };

    /// <summary>The problems of the settings for <paramref name="kind"/>, field (<c>config.x</c>) → messages.</summary>
    public Dictionary<string, string[]> Validate(AlertChannelKind kind)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string field, string message) => errors["config." + field] = [message];
        static bool IsHttpUrl(string? u) => Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
        switch (kind)
        {
            case AlertChannelKind.Slack:
            case AlertChannelKind.Webhook:
                if (!IsHttpUrl(Url)) Add("url", "give an absolute http(s) URL");
                break;
            case AlertChannelKind.Email:
                if (string.IsNullOrWhiteSpace(Host)) Add("host", "give the SMTP server's host name");
                if (Port is < 1 or > 65535) Add("port", "must be between 1 and 65535");
                if (Tls is not null && !TlsModes.Contains(Tls)) Add("tls", "one of none, starttls, tls");
                if (string.IsNullOrWhiteSpace(From) || !From.Contains('@', StringComparison.Ordinal)) Add("from", "give the sender's address");
                if (To is not { Count: > 0 } || To.Any(t => !t.Contains('@', StringComparison.Ordinal))) Add("to", "give one or more recipient addresses");
                if (Password is not null && Username is null) Add("username", "a password needs a username");
                break;
            case AlertChannelKind.Pagerduty:
                if (string.IsNullOrWhiteSpace(RoutingKey)) Add("routing_key", "give the integration's routing key");
                if (Severity is not null && !Severities.Contains(Severity)) Add("severity", "one of critical, error, warning, info");
                if (EventsUrl is not null && !IsHttpUrl(EventsUrl)) Add("events_url", "give an absolute http(s) URL");
                break;
        }
        return errors;
    }

    public string ToJson() => JsonSerializer.Serialize(this, AlertJson.Options);

    public static AlertChannelConfig FromJson(string json) =>
        JsonSerializer.Deserialize<AlertChannelConfig>(json, AlertJson.Options) ?? new AlertChannelConfig();
}

/// <summary>A channel as stored: its config JSON holds secret fields already encrypted (the store never sees them in clear).</summary>
public sealed record AlertChannel(Guid Id, Guid OrganizationId, string Name, AlertChannelKind Kind, string ConfigJson, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
