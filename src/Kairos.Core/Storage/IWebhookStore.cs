using Kairos.Core.Webhooks;

namespace Kairos.Core.Storage;

/// <summary>Webhook endpoints and their deliveries (each delivery with every attempt: the delivery log).</summary>
public interface IWebhookStore
{
    Task<WebhookEndpoint> CreateEndpointAsync(CreateEndpointParams p, CancellationToken cancellationToken);
    /// <summary>Changes the fields given (null keeps one); enabling clears the disabled reason and the failure streak. Null when unknown.</summary>
    Task<WebhookEndpoint?> UpdateEndpointAsync(UpdateEndpointParams p, CancellationToken cancellationToken);
    Task<WebhookEndpoint?> GetEndpointAsync(EndpointParams p, CancellationToken cancellationToken);
    /// <summary>The organization's endpoints, oldest first.</summary>
    Task<Page<WebhookEndpoint>> ListEndpointsAsync(ListEndpointsParams p, CancellationToken cancellationToken);
    /// <summary>Deletes the endpoint and its delivery log. False when unknown.</summary>
    Task<bool> DeleteEndpointAsync(EndpointParams p, CancellationToken cancellationToken);
    /// <summary>The organization's enabled endpoints (for matching events).</summary>
    Task<IReadOnlyList<WebhookEndpoint>> ListEnabledEndpointsAsync(Guid organizationId, CancellationToken cancellationToken);
    /// <summary>Maintenance, all organizations: those with at least one enabled endpoint.</summary>
    Task<IReadOnlyList<Guid>> ListOrganizationsWithEndpointsAsync(CancellationToken cancellationToken);

    Task<WebhookDelivery> CreateDeliveryAsync(CreateDeliveryParams p, CancellationToken cancellationToken);
    /// <summary>Links a delivery to the job that runs it (a redelivery links a new one and makes it pending again).</summary>
    Task<bool> SetDeliveryJobAsync(DeliveryJobParams p, CancellationToken cancellationToken);
    /// <summary>A delivery with its attempts; null when unknown.</summary>
    Task<WebhookDelivery?> GetDeliveryAsync(DeliveryParams p, CancellationToken cancellationToken);
    /// <summary>
    /// Maintenance, all organizations: pending deliveries unchanged since <see cref="OrphanDeliveriesParams.UnchangedSince"/>
    /// without a live job, oldest first: their job is gone (deleted by a user, or never linked: the node stopped between
    /// the delivery and its job) or ended without their word (cancelled, or failed when its last lease ran out). Nothing
    /// would ever run them again.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> ListOrphanDeliveriesAsync(OrphanDeliveriesParams p, CancellationToken cancellationToken);
    /// <summary>Ends a pending delivery as failed without another attempt (its job ended without it). False when it is not pending (or unknown).</summary>
    Task<bool> FailDeliveryAsync(DeliveryParams p, CancellationToken cancellationToken);
    /// <summary>An endpoint's deliveries, newest first; null when the endpoint is unknown.</summary>
    Task<Page<WebhookDelivery>?> ListDeliveriesAsync(ListDeliveriesParams p, CancellationToken cancellationToken);

    /// <summary>
    /// Records one attempt and its outcome: the delivery's state (succeeded, still pending, or failed for good) and the
    /// endpoint's failure streak. An endpoint failing since <see cref="RecordAttemptParams.DisableAfter"/> or longer is
    /// disabled; <see cref="AttemptOutcome.Disabled"/> tells the caller it happened now (to alert its owners once).
    /// </summary>
    Task<AttemptOutcome?> RecordAttemptAsync(RecordAttemptParams p, CancellationToken cancellationToken);
}

public sealed record CreateEndpointParams(Guid OrganizationId, string Url, string? Description, IReadOnlyList<string> EventTypes, string SecretProtected);

public sealed record UpdateEndpointParams(Guid OrganizationId, Guid EndpointId)
{
    public string? Url { get; init; }
    public string? Description { get; init; }
    public IReadOnlyList<string>? EventTypes { get; init; }
    public bool? Enabled { get; init; }
}

public sealed record EndpointParams(Guid OrganizationId, Guid EndpointId);

public sealed record ListEndpointsParams(Guid OrganizationId)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

public sealed record CreateDeliveryParams(Guid OrganizationId, Guid EndpointId, string EventId, string EventType, string Body);
public sealed record DeliveryJobParams(Guid OrganizationId, Guid DeliveryId, Guid JobId);
public sealed record DeliveryParams(Guid OrganizationId, Guid DeliveryId);
public sealed record OrphanDeliveriesParams(DateTimeOffset UnchangedSince, int Limit = 100);

public sealed record ListDeliveriesParams(Guid OrganizationId, Guid EndpointId)
{
    public int Limit { get; init; } = 50;
    public string? Cursor { get; init; }
}

/// <param name="Final">No attempt follows: a failure is the delivery's last word.</param>
public sealed record RecordAttemptParams(Guid OrganizationId, Guid DeliveryId, DeliveryAttempt Attempt, bool Final, TimeSpan DisableAfter);

/// <param name="State">The delivery's state after the attempt.</param>
/// <param name="Disabled">The endpoint was disabled by this attempt.</param>
public sealed record AttemptOutcome(DeliveryState State, bool Disabled);
