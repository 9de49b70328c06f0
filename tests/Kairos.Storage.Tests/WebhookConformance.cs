using Kairos.Core.Storage;
using Kairos.Core.Webhooks;

namespace Kairos.Storage.Tests;

/// <summary>The webhook facet: endpoints per organization, deliveries with their attempts, the failure streak that disables an endpoint.</summary>
public abstract partial class StoreConformance
{
    private Task<WebhookEndpoint> CreateEndpointAsync(Guid? org = null, string url = "https://example.com/hook", params string[] events) =>
        Store.Webhooks.CreateEndpointAsync(new CreateEndpointParams(org ?? OrgA, url, "d", events.Length == 0 ? ["job.failed"] : events, "protected-secret"), None);

    private static DeliveryAttempt Attempt(int n, DateTimeOffset at, int? status) =>
        new(n, at, status, 42, status is null ? null : "ok", status is null ? "connection refused" : null, "Kairos-Signature: t=1,v1=x");

    [SkippableFact]
    public async Task Webhook_endpoints_are_created_listed_updated_and_deleted_within_their_organization()
    {
        var a = await CreateEndpointAsync(events: ["job.failed", "monitor.*"]);
        Assert.Equal(["job.failed", "monitor.*"], a.EventTypes);
        Assert.Equal("protected-secret", a.SecretProtected);
        Assert.True(a.Enabled);
        Assert.True(a.Subscribes("monitor.down"));
        Assert.False(a.Subscribes("job.succeeded"));
        Time.Advance(TimeSpan.FromMilliseconds(5));
        var b = await CreateEndpointAsync(url: "https://example.com/b");
        var other = await CreateEndpointAsync(OrgB);

        var first = await Store.Webhooks.ListEndpointsAsync(new ListEndpointsParams(OrgA) { Limit = 1 }, None);
        Assert.Equal([a.Id], first.Items.Select(e => e.Id));
        Assert.Equal([b.Id], (await Store.Webhooks.ListEndpointsAsync(new ListEndpointsParams(OrgA) { Limit = 1, Cursor = first.NextCursor }, None)).Items.Select(e => e.Id));
        Assert.Null(await Store.Webhooks.GetEndpointAsync(new EndpointParams(OrgB, a.Id), None));
        Assert.Null(await Store.Webhooks.UpdateEndpointAsync(new UpdateEndpointParams(OrgB, a.Id) { Enabled = false }, None));

        var off = await Store.Webhooks.UpdateEndpointAsync(new UpdateEndpointParams(OrgA, a.Id) { Enabled = false, EventTypes = ["*"] }, None);
        Assert.False(off!.Enabled);
        Assert.Equal(["*"], off.EventTypes);
        Assert.Equal("https://example.com/hook", off.Url);
        Assert.Equal([b.Id], (await Store.Webhooks.ListEnabledEndpointsAsync(OrgA, None)).Select(e => e.Id));
        Assert.Equal(new[] { OrgA, OrgB }.Order(), (await Store.Webhooks.ListOrganizationsWithEndpointsAsync(None)).Order());

        var delivery = await Store.Webhooks.CreateDeliveryAsync(new CreateDeliveryParams(OrgA, b.Id, "evt_1", "job.failed", "{}"), None);
        Assert.True(await Store.Webhooks.DeleteEndpointAsync(new EndpointParams(OrgA, b.Id), None));
        Assert.False(await Store.Webhooks.DeleteEndpointAsync(new EndpointParams(OrgA, b.Id), None));
        Assert.Null(await Store.Webhooks.GetDeliveryAsync(new DeliveryParams(OrgA, delivery.Id), None));
        Assert.NotNull(await Store.Webhooks.GetEndpointAsync(new EndpointParams(OrgB, other.Id), None));
    }

    [SkippableFact]
    public async Task Webhook_deliveries_record_their_attempts_and_end_succeeded_or_failed()
    {
        var endpoint = await CreateEndpointAsync();
        var d = await Store.Webhooks.CreateDeliveryAsync(new CreateDeliveryParams(OrgA, endpoint.Id, "evt_1", "job.failed", """{"id":"evt_1"}"""), None);
        Assert.Equal(DeliveryState.Pending, d.State);
        var job = Guid.CreateVersion7();
        Assert.True(await Store.Webhooks.SetDeliveryJobAsync(new DeliveryJobParams(OrgA, d.Id, job), None));
        Assert.False(await Store.Webhooks.SetDeliveryJobAsync(new DeliveryJobParams(OrgB, d.Id, job), None));

        var failed = await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, d.Id, Attempt(1, Start, 500), false, TimeSpan.FromDays(3)), None);
        Assert.Equal(new AttemptOutcome(DeliveryState.Pending, false), failed);
        Assert.Equal(Start, (await Store.Webhooks.GetEndpointAsync(new EndpointParams(OrgA, endpoint.Id), None))!.FailingSince);
        Time.Advance(TimeSpan.FromMinutes(1));
        var ok = await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, d.Id, Attempt(2, Start.AddMinutes(1), 204), false, TimeSpan.FromDays(3)), None);
        Assert.Equal(new AttemptOutcome(DeliveryState.Succeeded, false), ok);
        Assert.Null((await Store.Webhooks.GetEndpointAsync(new EndpointParams(OrgA, endpoint.Id), None))!.FailingSince);
        Assert.Null(await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgB, d.Id, Attempt(3, Start, 204), false, TimeSpan.FromDays(3)), None));

        var read = await Store.Webhooks.GetDeliveryAsync(new DeliveryParams(OrgA, d.Id), None);
        Assert.Equal(DeliveryState.Succeeded, read!.State);
        Assert.Equal(2, read.AttemptCount);
        Assert.Equal(204, read.LastStatus);
        Assert.Equal(job, read.JobId);
        Assert.Equal([500, 204], read.Attempts.Select(x => x.Status!.Value));
        Assert.Equal(Attempt(1, Start, 500), read.Attempts[0]);
        Assert.Null(await Store.Webhooks.GetDeliveryAsync(new DeliveryParams(OrgB, d.Id), None));

        var second = await Store.Webhooks.CreateDeliveryAsync(new CreateDeliveryParams(OrgA, endpoint.Id, "evt_2", "job.failed", "{}"), None);
        var lastWord = await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, second.Id, Attempt(1, Start.AddMinutes(1), null), true, TimeSpan.FromDays(3)), None);
        Assert.Equal(DeliveryState.Failed, lastWord!.State);
        var page = await Store.Webhooks.ListDeliveriesAsync(new ListDeliveriesParams(OrgA, endpoint.Id) { Limit = 1 }, None);
        Assert.Equal([second.Id], page!.Items.Select(x => x.Id));
        Assert.Equal([d.Id], (await Store.Webhooks.ListDeliveriesAsync(new ListDeliveriesParams(OrgA, endpoint.Id) { Limit = 1, Cursor = page.NextCursor }, None))!.Items.Select(x => x.Id));
        Assert.Null(await Store.Webhooks.ListDeliveriesAsync(new ListDeliveriesParams(OrgB, endpoint.Id), None));
    }

    [SkippableFact]
    public async Task An_endpoint_failing_for_the_disable_period_is_disabled_once_and_reenabling_clears_the_streak()
    {
        var endpoint = await CreateEndpointAsync();
        var days = TimeSpan.FromDays(3);
        var d = await Store.Webhooks.CreateDeliveryAsync(new CreateDeliveryParams(OrgA, endpoint.Id, "evt_1", "job.failed", "{}"), None);
        Assert.False((await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, d.Id, Attempt(1, Start, 500), false, days), None))!.Disabled);
        Assert.False((await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, d.Id, Attempt(2, Start.AddDays(2), 500), false, days), None))!.Disabled);
        Assert.True((await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, d.Id, Attempt(3, Start.AddDays(3), 500), false, days), None))!.Disabled);
        Assert.False((await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, d.Id, Attempt(4, Start.AddDays(4), 500), true, days), None))!.Disabled);
        var disabled = await Store.Webhooks.GetEndpointAsync(new EndpointParams(OrgA, endpoint.Id), None);
        Assert.False(disabled!.Enabled);
        Assert.Contains("3 days", disabled.DisabledReason, StringComparison.Ordinal);

        var again = await Store.Webhooks.UpdateEndpointAsync(new UpdateEndpointParams(OrgA, endpoint.Id) { Enabled = true }, None);
        Assert.True(again!.Enabled);
        Assert.Null(again.DisabledReason);
        Assert.Null(again.FailingSince);
    }

    [SkippableFact]
    public async Task Pending_deliveries_without_a_live_job_are_listed_as_orphans_once_unchanged_for_a_while_and_can_fail_for_good()
    {
        var endpoint = await CreateEndpointAsync();
        var other = await CreateEndpointAsync(OrgB);
        Task<WebhookDelivery> DeliveryAsync(WebhookEndpoint e, string evt) =>
            Store.Webhooks.CreateDeliveryAsync(new CreateDeliveryParams(e.OrganizationId, e.Id, evt, "job.failed", "{}"), None);
        var unlinked = await DeliveryAsync(endpoint, "evt_unlinked");     // the node stopped before its job was made
        var deleted = await DeliveryAsync(other, "evt_deleted");          // its job deleted by a user (another organization)
        var running = await DeliveryAsync(endpoint, "evt_running");       // its job is there
        var done = await DeliveryAsync(endpoint, "evt_done");             // no job, but finished
        var cancelled = await DeliveryAsync(endpoint, "evt_cancelled");   // its job cancelled by a user: ended without it
        var deletedJob = await EnqueueAsync(MakeJob("kairos.webhooks"), OrgB);
        var liveJob = await EnqueueAsync(MakeJob("kairos.webhooks"));
        var cancelledJob = await EnqueueAsync(MakeJob("kairos.webhooks"));
        await Store.Webhooks.SetDeliveryJobAsync(new DeliveryJobParams(OrgB, deleted.Id, deletedJob.Id), None);
        await Store.Webhooks.SetDeliveryJobAsync(new DeliveryJobParams(OrgA, running.Id, liveJob.Id), None);
        await Store.Webhooks.SetDeliveryJobAsync(new DeliveryJobParams(OrgA, cancelled.Id, cancelledJob.Id), None);
        await Store.Webhooks.RecordAttemptAsync(new RecordAttemptParams(OrgA, done.Id, Attempt(1, Start, 200), false, TimeSpan.FromDays(3)), None);
        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.DeleteAsync(new JobCommandParams(OrgB, deletedJob.Id), None)).Status);
        Assert.Equal(CommandStatus.Applied, (await Store.Jobs.CancelAsync(new JobCommandParams(OrgA, cancelledJob.Id), None)).Status);

        // Too fresh: a delivery is linked to its job right after it is made.
        Assert.Empty(await Store.Webhooks.ListOrphanDeliveriesAsync(new OrphanDeliveriesParams(Time.GetUtcNow() - TimeSpan.FromMinutes(1)), None));
        Time.Advance(TimeSpan.FromMinutes(2));
        var orphans = await Store.Webhooks.ListOrphanDeliveriesAsync(new OrphanDeliveriesParams(Time.GetUtcNow() - TimeSpan.FromMinutes(1)), None);
        Assert.Equal(new[] { unlinked.Id, deleted.Id, cancelled.Id }.Order(), orphans.Select(d => d.Id).Order());
        Assert.Single(await Store.Webhooks.ListOrphanDeliveriesAsync(new OrphanDeliveriesParams(Time.GetUtcNow() - TimeSpan.FromMinutes(1), Limit: 1), None));

        // The one whose job ended fails for good, once; a finished delivery does not.
        Assert.False(await Store.Webhooks.FailDeliveryAsync(new DeliveryParams(OrgB, cancelled.Id), None));
        Assert.True(await Store.Webhooks.FailDeliveryAsync(new DeliveryParams(OrgA, cancelled.Id), None));
        Assert.False(await Store.Webhooks.FailDeliveryAsync(new DeliveryParams(OrgA, cancelled.Id), None));
        Assert.False(await Store.Webhooks.FailDeliveryAsync(new DeliveryParams(OrgA, done.Id), None));
        Assert.Equal(DeliveryState.Failed, (await Store.Webhooks.GetDeliveryAsync(new DeliveryParams(OrgA, cancelled.Id), None))!.State);
        Assert.Equal(DeliveryState.Succeeded, (await Store.Webhooks.GetDeliveryAsync(new DeliveryParams(OrgA, done.Id), None))!.State);

        // Given a new job, it is no orphan any more.
        var again = await EnqueueAsync(MakeJob("kairos.webhooks"));
        await Store.Webhooks.SetDeliveryJobAsync(new DeliveryJobParams(OrgA, unlinked.Id, again.Id), None);
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal([deleted.Id], (await Store.Webhooks.ListOrphanDeliveriesAsync(new OrphanDeliveriesParams(Time.GetUtcNow() - TimeSpan.FromMinutes(1)), None)).Select(d => d.Id));
    }

    [SkippableFact]
    public void The_key_ring_keeps_each_key_once_in_the_order_stored()
    {
        Assert.Empty(Store.KeyRing.ReadAll());
        Store.KeyRing.Store("key-1", "<key id=\"1\"/>");
        Time.Advance(TimeSpan.FromSeconds(1));
        Store.KeyRing.Store("key-2", "<key id=\"2\"/>");
        Store.KeyRing.Store("key-1", "<key id=\"other\"/>");
        Assert.Equal(["<key id=\"1\"/>", "<key id=\"2\"/>"], Store.KeyRing.ReadAll());
    }
}
