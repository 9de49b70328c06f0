using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>A webhook endpoint: a URL subscribed to event types (<c>job.failed</c>, <c>monitor.*</c>, <c>*</c>).</summary>
public sealed class Webhook
{
    public Guid Id { get; init; }
    public string Url { get; init; } = "";
    public string? Description { get; init; }
    public IReadOnlyList<string> EventTypes { get; init; } = [];
    public bool Enabled { get; init; }
    public string? DisabledReason { get; init; }
    public DateTimeOffset? FailingSince { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A new endpoint: <see cref="Secret"/> (the signing secret) is shown this once.</summary>
public sealed class CreatedWebhook
{
    public Guid Id { get; init; }
    public string Url { get; init; } = "";
    public IReadOnlyList<string> EventTypes { get; init; } = [];
    public string Secret { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One event sent to one endpoint: <c>pending</c>, <c>succeeded</c> or <c>failed</c>.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; init; }
    public Guid WebhookId { get; init; }
    public string EventId { get; init; } = "";
    public string EventType { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public int? LastStatus { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

internal sealed class CreateWebhookBody
{
    public required string Url { get; init; }
    public string? Description { get; init; }
    public required IReadOnlyList<string> EventTypes { get; init; }
}

/// <summary>Source-generated JSON of the webhook types (snake_case, like the rest of the API).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Page<Webhook>))]
[JsonSerializable(typeof(CreatedWebhook))]
[JsonSerializable(typeof(CreateWebhookBody))]
[JsonSerializable(typeof(WebhookDelivery))]
[JsonSerializable(typeof(Page<WebhookDelivery>))]
internal sealed partial class KairosWebhookJson : JsonSerializerContext;
