using Kairos.Core.Events;

namespace Kairos.Server.Webhooks;

/// <summary>Turns the events that happen on this node into webhook deliveries (each node its own events: once across nodes).</summary>
internal sealed class WebhookPublisher(EventBus events, WebhookService service, ILogger<WebhookPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            using var subscription = events.SubscribeAll(localOnly: true);
            try
            {
                await foreach (var e in subscription.Reader.ReadAllAsync(stoppingToken))
                {
                    try
                    {
                        await service.PublishAsync(e, stoppingToken);
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        logger.LogError(ex, "No webhook deliveries made for event {Type} of {Organization}", e.Type, e.OrganizationId);
                    }
                }
                // The bus closed a subscription that fell behind: the events it dropped get no deliveries.
                logger.LogWarning("Webhook deliveries fell behind the events; some events were not delivered");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
