namespace Kairos.Core.Webhooks;

/// <summary>
/// A URL subscribed to event types. <see cref="SecretProtected"/> is the signing secret, encrypted by the server (shown
/// once in clear when the endpoint is made). An endpoint whose deliveries keep failing for
/// <see cref="WebhookRetry.DisableAfter"/> is disabled, with <see cref="DisabledReason"/>.
/// </summary>
public sealed record WebhookEndpoint
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Url { get; init; }
    public string? Description { get; init; }
    /// <summary><c>job.failed</c>, a prefix <c>job.*</c>, or <c>*</c> for everything.</summary>
    public required IReadOnlyList<string> EventTypes { get; init; }
    public required string SecretProtected { get; init; }
    public bool Enabled { get; init; } = true;
    public string? DisabledReason { get; init; }
    /// <summary>Since when every delivery failed (null when the last one succeeded).</summary>
    public DateTimeOffset? FailingSince { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    public bool Subscribes(string eventType) => EventTypes.Any(t => WebhookEvents.Matches(t, eventType));
}

public static class WebhookEvents
{
    /// <summary>The event a test delivery sends.</summary>
    public const string Ping = "webhook.test";

    public static bool Matches(string pattern, string eventType) =>
        pattern == "*" || pattern == eventType ||
        (pattern.EndsWith(".*", StringComparison.Ordinal) && eventType.StartsWith(pattern[..^1], StringComparison.Ordinal));

    /// <summary>A pattern is <c>*</c>, <c>family.*</c> or <c>family.name</c> (lowercase letters, digits, <c>_</c>).</summary>
    public static bool IsValidPattern(string? pattern)
    {
        if (pattern is null || pattern.Length is 0 or > 100) return false;
        if (pattern == "*") return true;
        var parts = pattern.Split('.');
        if (parts.Length != 2 || !IsPart(parts[0])) return false;
        return parts[1] == "*" || IsPart(parts[1]);
        static bool IsPart(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
    }
}

public enum DeliveryState
{
    Pending,
    Succeeded,
    Failed,
}

public static class DeliveryStates
{
    public static string ToWire(this DeliveryState s) => s switch
    {
        DeliveryState.Pending => "pending",
        DeliveryState.Succeeded => "succeeded",
        _ => "failed",
    };

    public static DeliveryState Parse(string s) => s switch
    {
        "pending" => DeliveryState.Pending,
        "succeeded" => DeliveryState.Succeeded,
        "failed" => DeliveryState.Failed,
        _ => throw new FormatException($"Unknown delivery state '{s}'."),
    };
}

/// <summary>One event sent (or being sent) to one endpoint, and every attempt at it.</summary>
public sealed record WebhookDelivery
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required Guid EndpointId { get; init; }
    /// <summary>The event's id in the body (<c>evt_...</c>): the same for every attempt and redelivery, for receivers to deduplicate.</summary>
    public required string EventId { get; init; }
    public required string EventType { get; init; }
    /// <summary>The exact body sent (the signed bytes).</summary>
    public required string Body { get; init; }
    public required DeliveryState State { get; init; }
    public int AttemptCount { get; init; }
    /// <summary>The job that runs it on the internal queue.</summary>
    public Guid? JobId { get; init; }
    public int? LastStatus { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Filled when the delivery is read alone, oldest first.</summary>
    public IReadOnlyList<DeliveryAttempt> Attempts { get; init; } = [];
}

/// <param name="Status">The HTTP status, or null when no answer came (refused, timeout, connection error: see <paramref name="Error"/>).</param>
/// <param name="Response">The first bytes of the answer's body.</param>
/// <param name="RequestHeaders">The headers sent (signature included), one per line.</param>
public sealed record DeliveryAttempt(int Number, DateTimeOffset At, int? Status, long DurationMs, string? Response, string? Error, string RequestHeaders)
{
    public bool Succeeded => Status is >= 200 and < 300;
}
