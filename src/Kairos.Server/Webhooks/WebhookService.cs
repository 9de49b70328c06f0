using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Kairos.Core.Alerts;
using Kairos.Core.Dispatch;
using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Webhooks;
using Kairos.Server.Alerts;
using Kairos.Server.Http;
using Kairos.Server.Outbound;

namespace Kairos.Server.Webhooks;

/// <summary>The data of <c>webhook.disabled</c>: an endpoint whose deliveries all failed for <see cref="WebhookRetry.DisableAfter"/>.</summary>
public sealed record WebhookDisabledData(Guid WebhookId, string Url, string Reason);

/// <summary>
/// Webhook deliveries: each event an endpoint subscribes to becomes a delivery (the exact signed body, kept) and a job
/// on Kairos' own queue <see cref="Queue"/> in the endpoint's organization, which <see cref="WebhookDeliverer"/> runs:
/// one POST per attempt, every attempt logged, retried with <see cref="WebhookRetry"/> backoff for about a day.
/// </summary>
public sealed class WebhookService(
    IKairosStore store, Dispatcher dispatcher, EventBus events, OutboundHttp http, SecretBox box, AlertNotifier notifier, TimeProvider time,
    ILogger<WebhookService> logger)
{
    /// <summary>The internal queue of deliveries (in each organization that has endpoints).</summary>
    public const string Queue = "kairos.webhooks";
    public const string JobType = "kairos.webhook.deliver";
    /// <summary>How long the endpoints of an organization are cached for matching events.</summary>
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, (DateTimeOffset Until, IReadOnlyList<WebhookEndpoint> Endpoints)> _endpoints = new();

    /// <summary>Called with each organization that got a delivery on this node (the deliverer starts its worker there).</summary>
    public event Action<Guid>? DeliveryEnqueued;

    /// <summary>Forgets the cached endpoints of an organization (they changed on this node).</summary>
    public void Invalidate(Guid organizationId) => _endpoints.TryRemove(organizationId, out _);

    /// <summary>The body of an event as webhooks send it: the event envelope with a delivery-independent id.</summary>
    public static string Envelope(string eventId, string type, DateTimeOffset at, Guid organizationId, object data) =>
        JsonSerializer.Serialize(new { id = eventId, type, time = at, organization_id = organizationId, data }, Json.Options);

    public static string NewEventId(TimeProvider time) => $"evt_{Guid.CreateVersion7(time.GetUtcNow()):N}";

    /// <summary>Makes the deliveries of one event that happened on this node.</summary>
    public async Task PublishAsync(DomainEvent e, CancellationToken cancellationToken)
    {
        if (e.Data is JobEventData { Queue: Queue }) return; // the deliveries' own jobs
        if (!_endpoints.TryGetValue(e.OrganizationId, out var cached) || cached.Until <= time.GetUtcNow())
        {
            cached = (time.GetUtcNow() + CacheFor, await store.Webhooks.ListEnabledEndpointsAsync(e.OrganizationId, cancellationToken));
            _endpoints[e.OrganizationId] = cached;
        }
        // One event id and one body for every endpoint: receivers of several endpoints see the same event.
        string? eventId = null, body = null;
        foreach (var endpoint in cached.Endpoints)
        {
            if (!endpoint.Subscribes(e.Type)) continue;
            eventId ??= NewEventId(time);
            body ??= Envelope(eventId, e.Type, e.Time, e.OrganizationId, e.Data);
            await EnqueueAsync(endpoint, eventId, e.Type, body, cancellationToken);
        }
    }

    /// <summary>A test event to one endpoint, whatever it subscribes to.</summary>
    public Task<WebhookDelivery> SendTestAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        var eventId = NewEventId(time);
        var body = Envelope(eventId, WebhookEvents.Ping, time.GetUtcNow(), endpoint.OrganizationId,
            new { webhook_id = endpoint.Id, message = "A test event from Kairos: if your endpoint answers 2xx, it works." });
        return EnqueueAsync(endpoint, eventId, WebhookEvents.Ping, body, cancellationToken);
    }

    private async Task<WebhookDelivery> EnqueueAsync(WebhookEndpoint endpoint, string eventId, string type, string body, CancellationToken cancellationToken)
    {
        var delivery = await store.Webhooks.CreateDeliveryAsync(new CreateDeliveryParams(endpoint.OrganizationId, endpoint.Id, eventId, type, body), cancellationToken);
        return await StartAsync(delivery, cancellationToken);
    }

    /// <summary>Runs a delivery (again): a new job on the internal queue; the delivery is pending until it ends.</summary>
    public async Task<WebhookDelivery> StartAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var job = await dispatcher.EnqueueAsync(delivery.OrganizationId, new NewJob
        {
            Queue = Queue,
            Type = JobType,
            Payload = JsonSerializer.Serialize(new { delivery_id = delivery.Id, webhook_id = delivery.EndpointId, event_type = delivery.EventType }, Json.Options),
            MaxAttempts = WebhookRetry.MaxAttempts,
            TimeoutMs = (int)TimeSpan.FromMinutes(5).TotalMilliseconds,
        }, cancellationToken);
        await store.Webhooks.SetDeliveryJobAsync(new DeliveryJobParams(delivery.OrganizationId, delivery.Id, job.Job.Id), cancellationToken);
        DeliveryEnqueued?.Invoke(delivery.OrganizationId);
        return delivery with { JobId = job.Job.Id, State = DeliveryState.Pending };
    }

    /// <summary>Pending deliveries are linked to their job right away; one unchanged this long without a job is an orphan.</summary>
    public static readonly TimeSpan OrphanAfter = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Settles each orphan delivery (pending without a live job): one whose job is gone (deleted, or never made because a
    /// node stopped in between) gets a new job, so it is delivered after all; one whose job ended without it (cancelled
    /// by someone, or failed when the lease of its last attempt ran out) fails for good. Safe on every node at once: a
    /// delivery runs only under the job it is linked to. Answers how many were started again.
    /// </summary>
    public async Task<int> RequeueOrphansAsync(CancellationToken cancellationToken)
    {
        var started = 0;
        foreach (var orphan in await store.Webhooks.ListOrphanDeliveriesAsync(new OrphanDeliveriesParams(time.GetUtcNow() - OrphanAfter), cancellationToken))
        {
            if (orphan.JobId is { } id && await store.Jobs.GetAsync(new GetJobParams(orphan.OrganizationId, id), cancellationToken) is { } ended)
            {
                logger.LogWarning("Webhook delivery {Delivery}: its job {Job} ended {State} without it; the delivery failed", orphan.Id, id, ended.State.ToWire());
                await store.Webhooks.FailDeliveryAsync(new DeliveryParams(orphan.OrganizationId, orphan.Id), cancellationToken);
                continue;
            }
            logger.LogWarning("Webhook delivery {Delivery} had no job (deleted, or a node stopped before making it): enqueued again", orphan.Id);
            await StartAsync(orphan, cancellationToken);
            started++;
        }
        return started;
    }

    /// <summary>One attempt of the delivery a leased job carries: POST, log, then ack, or fail with the next backoff (or for good).</summary>
    public async Task RunAsync(LeasedJob leased, CancellationToken cancellationToken)
    {
        var job = leased.Job;
        var org = job.OrganizationId;
        using var payload = JsonDocument.Parse(job.Payload);
        var deliveryId = payload.RootElement.TryGetProperty("delivery_id", out var d) && d.TryGetGuid(out var id) ? id : Guid.Empty;
        var delivery = await store.Webhooks.GetDeliveryAsync(new DeliveryParams(org, deliveryId), cancellationToken);
        if (delivery is null)
        {
            await dispatcher.AckAsync(new AckParams(org, job.Id, leased.LeaseToken, """{"skipped":"the delivery or its endpoint was deleted"}"""), cancellationToken);
            return;
        }
        if (delivery.JobId is { } current && current != job.Id &&
            await store.Jobs.GetAsync(new GetJobParams(org, current), cancellationToken) is { } other && !other.State.IsTerminal())
        {
            // Another live job runs the delivery (made for it as an orphan while this one was not linked yet): that one sends it.
            // (A finished one is a redelivery's earlier job: this job, just made, is not linked yet.)
            await dispatcher.AckAsync(new AckParams(org, job.Id, leased.LeaseToken, """{"skipped":"another job runs the delivery"}"""), cancellationToken);
            return;
        }
        var endpoint = await store.Webhooks.GetEndpointAsync(new EndpointParams(org, delivery.EndpointId), cancellationToken);
        var number = delivery.AttemptCount + 1;
        var now = time.GetUtcNow();
        OutboundResult result;
        string headers;
        if (endpoint is not { Enabled: true })
        {
            result = new OutboundResult(null, null, 0, "the endpoint is disabled");
            headers = "";
        }
        else
        {
            var timestamp = now.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.HeaderValue(box.Unprotect(endpoint.SecretProtected), timestamp, delivery.Body));
            request.Headers.TryAddWithoutValidation("Kairos-Event-Id", delivery.EventId);
            request.Headers.TryAddWithoutValidation("Kairos-Event-Type", delivery.EventType);
            request.Headers.TryAddWithoutValidation("Kairos-Delivery-Id", delivery.Id.ToString());
            request.Headers.TryAddWithoutValidation("Kairos-Delivery-Attempt", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
            headers = $"POST {endpoint.Url}\n" + string.Join("\n", request.Headers.Select(h => $"{h.Key}: {string.Join(", ", h.Value)}")) + "\nContent-Type: application/json";
            result = await http.SendAsync(request, cancellationToken);
        }
        var final = !result.Succeeded && (endpoint is not { Enabled: true } || job.Attempt >= job.MaxAttempts);
        var snippet = result.Body is { Length: > 1024 } b ? b[..1024] : result.Body;
        var outcome = await store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(org, delivery.Id,
            new DeliveryAttempt(number, now, result.Status, result.DurationMs, snippet, result.Error, headers), final, WebhookRetry.DisableAfter), cancellationToken);
        if (result.Succeeded)
        {
            await dispatcher.AckAsync(new AckParams(org, job.Id, leased.LeaseToken, JsonSerializer.Serialize(new { status = result.Status }, Json.Options)), cancellationToken);
        }
        else
        {
            var error = new JobError(result.Describe(), "WebhookDeliveryFailed", null);
            await dispatcher.FailAsync(new FailParams(org, job.Id, leased.LeaseToken,
                new Failure(error, Retryable: !final, RetryInMs: (int)WebhookRetry.Delay(Math.Max(job.Attempt, 1)).TotalMilliseconds)), cancellationToken);
        }
        if (outcome?.Disabled == true && endpoint is not null) await DisabledAsync(endpoint, cancellationToken);
    }

    /// <summary>An endpoint was disabled after failing for days: a <c>webhook.disabled</c> event, and a notice to every alert channel of the organization.</summary>
    private async Task DisabledAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        var reason = $"every delivery failed for {WebhookRetry.DisableAfter.TotalDays:0} days";
        Invalidate(endpoint.OrganizationId);
        events.Publish("webhook.disabled", endpoint.OrganizationId, new WebhookDisabledData(endpoint.Id, endpoint.Url, reason));
        logger.LogWarning("Webhook {Webhook} disabled: {Reason}", endpoint.Id, reason);
        var message = new AlertMessage("firing", endpoint.OrganizationId, "webhooks", $"webhook:{endpoint.Id}",
            $"Webhook endpoint {endpoint.Url} was disabled", $"{reason}; enable it again with PATCH /api/v1/webhooks/{endpoint.Id} {{\"enabled\": true}}.",
            null, $"kairos-webhook-{endpoint.Id:N}", time.GetUtcNow());
        string? cursor = null;
        do
        {
            var page = await store.Alerts.ListChannelsAsync(new ListNamedParams(endpoint.OrganizationId) { Limit = 100, Cursor = cursor }, cancellationToken);
            foreach (var channel in page.Items)
            {
                if (await notifier.SendAsync(channel, message, cancellationToken) is { } error)
                {
                    logger.LogWarning("Channel {Channel} did not take the notice of webhook {Webhook}: {Error}", channel.Name, endpoint.Id, error);
                }
            }
            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }
}
