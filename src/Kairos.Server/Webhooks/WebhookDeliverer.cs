using System.Collections.Concurrent;
using Kairos.Core.Alerts;
using Kairos.Core.Dispatch;
using Kairos.Core.Events;
using Kairos.Core.Storage;
using Kairos.Core.Workers;

namespace Kairos.Server.Webhooks;

/// <summary>
/// Runs webhook deliveries on every node, as a worker of Kairos' own queue in each organization that has endpoints
/// (registered as <c>kairos-webhooks</c>, labelled <see cref="AlertEvaluator.InternalLabel"/>, deregistered at
/// shutdown): long-polls the queue like any worker and runs each delivery job through <see cref="WebhookService.RunAsync"/>.
/// Being ordinary jobs, deliveries survive restarts, are spread over nodes, and come back when a node dies (lease expiry);
/// every <see cref="Refresh"/> it also gives orphan deliveries (their job deleted, or never made) a new job.
/// </summary>
internal sealed class WebhookDeliverer(IKairosStore store, Dispatcher dispatcher, WebhookService service, TimeProvider time, ServerOptions options,
    ILogger<WebhookDeliverer> logger) : BackgroundService
{
    private const int Capacity = 8;
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<Guid, Task> _loops = new();
    private readonly ConcurrentDictionary<Guid, Guid> _workers = new();
    private CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        service.DeliveryEnqueued += Start;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    foreach (var org in await store.Webhooks.ListOrganizationsWithEndpointsAsync(stoppingToken)) Start(org);
                    await service.RequeueOrphansAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Could not list the organizations with webhooks or their orphan deliveries: {Message}", ex.Message);
                }
                await Task.Delay(Refresh, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            service.DeliveryEnqueued -= Start;
            await Task.WhenAll(_loops.Values);
            foreach (var (org, worker) in _workers)
            {
                try
                {
                    await dispatcher.DeregisterWorkerAsync(new WorkerParams(org, worker), CancellationToken.None);
                }
                catch (Exception ex)
                {
                    logger.LogWarning("Could not deregister the webhook worker of {Organization}: {Message}", org, ex.Message);
                }
            }
        }
    }

    private void Start(Guid organizationId)
    {
        if (_stopping.IsCancellationRequested) return;
        _loops.GetOrAdd(organizationId, org => Task.Run(() => RunAsync(org, _stopping)));
    }

    private async Task RunAsync(Guid org, CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_workers.TryGetValue(org, out var workerId))
                {
                    var worker = await dispatcher.RegisterWorkerAsync(new RegisterWorkerParams(org, new WorkerRegistration
                    {
                        Name = "kairos-webhooks",
                        Host = Environment.MachineName,
                        Pid = Environment.ProcessId,
                        Queues = [WebhookService.Queue],
                        Capacity = Capacity,
                        Labels = new Dictionary<string, string> { [AlertEvaluator.InternalLabel] = "webhooks" },
                        Version = Apis.SystemApi.Version,
                    }), stoppingToken);
                    _workers[org] = workerId = worker.Id;
                }
                running.RemoveAll(t => t.IsCompleted);
                var free = Capacity - running.Count;
                if (free == 0)
                {
                    await Task.WhenAny(running);
                    continue;
                }
                var leaseMs = (int)(options.OutboundTimeout + TimeSpan.FromMinutes(1)).TotalMilliseconds;
                var leased = await dispatcher.FetchAsync(new LeaseParams(org, workerId, [WebhookService.Queue], free, leaseMs), Wait, stoppingToken);
                if (leased is null)
                {
                    _workers.TryRemove(org, out _); // deregistered by someone (or the organization is gone): register again
                    continue;
                }
                foreach (var job in leased)
                {
                    running.Add(Task.Run(async () =>
                    {
                        try
                        {
                            await service.RunAsync(job, stoppingToken);
                        }
                        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                        {
                            // The lease runs out and the job comes back as a failed attempt.
                            logger.LogError(ex, "Webhook delivery job {Job} failed to run", job.Job.Id);
                        }
                    }, CancellationToken.None));
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Webhook deliveries of {Organization}: {Message}", org, ex.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); } catch (OperationCanceledException) { break; }
            }
        }
        await Task.WhenAll(running);
    }
}
