using Kairos.Core;
using Kairos.Core.Audit;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>The audit facet: append, list with filters and cursor pagination, get, on every store.</summary>
public abstract partial class StoreConformance
{
    private AuditEntry Entry(Guid? org, string action, string? targetType = null, string? targetId = null, Guid? actor = null,
        AuditActorType actorType = AuditActorType.User, string? details = null) => new()
        {
            Id = Ids.New(Time),
            OrganizationId = org,
            Time = Time.GetUtcNow(),
            ActorType = actorType,
            ActorId = actor,
            ActorName = actorType == AuditActorType.ApiKey ? "deploy (kx_1234abcd)" : "olga@example.com",
            Action = action,
            TargetType = targetType,
            TargetId = targetId,
            Ip = "203.0.113.7",
            RequestId = "req-" + action,
            Status = 200,
            Details = details,
        };

    private async Task<List<AuditEntry>> ListAllAuditAsync(ListAuditParams p)
    {
        var all = new List<AuditEntry>();
        string? cursor = null;
        do
        {
            var page = await Store.Audit.ListAsync(p with { Cursor = cursor }, None);
            Assert.True(page.Items.Count <= p.Limit);
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return all;
    }

    [SkippableFact]
    public async Task Audit_entries_come_back_whole_newest_first_page_by_page()
    {
        var olga = Guid.NewGuid();
        var first = Entry(OrgA, "queue.pause", "queue", "emails", olga, details: """{"reason":"deploy","n":[1,2]}""");
        Time.Advance(TimeSpan.FromMilliseconds(5));
        var second = Entry(OrgA, "api_key.create", "api_key", Guid.NewGuid().ToString(), Guid.NewGuid(), AuditActorType.ApiKey) with { Status = 201 };
        await Store.Audit.AppendAsync(new AppendAuditParams([first, second]), None);
        await Store.Audit.AppendAsync(new AppendAuditParams([]), None);

        var page = await Store.Audit.ListAsync(new ListAuditParams(OrgA), None);
        Assert.Null(page.NextCursor);
        Assert.Equal([second.Id, first.Id], page.Items.Select(e => e.Id));
        var read = page.Items[1];
        AssertJsonEqual(first.Details!, read.Details);
        Assert.Equal(first, read with { Details = first.Details });
        Assert.Equal(second, page.Items[0]);
        Assert.Equal(first with { Details = read.Details }, await Store.Audit.GetAsync(new AuditEntryParams(OrgA, first.Id), None));
        Assert.Null(await Store.Audit.GetAsync(new AuditEntryParams(OrgB, first.Id), None));
        Assert.Null(await Store.Audit.GetAsync(new AuditEntryParams(OrgA, Guid.NewGuid()), None));

        // Many entries, appended at the same millisecond: pages follow the order of appending, nothing twice or lost.
        var many = Enumerable.Range(0, 23).Select(i => Entry(OrgA, "job.retry", "job", $"job-{i:00}")).ToList();
        foreach (var chunk in many.Chunk(5)) await Store.Audit.AppendAsync(new AppendAuditParams(chunk), None);
        var all = await ListAllAuditAsync(new ListAuditParams(OrgA) { Limit = 4 });
        Assert.Equal(many.AsEnumerable().Reverse().Select(e => e.Id).Concat([second.Id, first.Id]), all.Select(e => e.Id));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Audit.ListAsync(new ListAuditParams(OrgA) { Cursor = "bm90IGEgY3Vyc29y" }, None));
    }

    [SkippableFact]
    public async Task Audit_lists_filter_by_actor_action_target_and_time_within_the_organization()
    {
        var olga = Guid.NewGuid();
        var key = Guid.NewGuid();
        var early = Entry(OrgA, "queue.pause", "queue", "emails", olga);
        Time.Advance(TimeSpan.FromMinutes(1));
        var middle = Entry(OrgA, "queue.resume", "queue", "emails", key, AuditActorType.ApiKey);
        Time.Advance(TimeSpan.FromMinutes(1));
        var late = Entry(OrgA, "job.retry", "job", "j-1", olga);
        var other = Entry(OrgB, "queue.pause", "queue", "emails", olga);
        var serverLevel = Entry(null, "auth.login_failed", "user", null) with { ActorName = "who@example.com", Status = 401 };
        await Store.Audit.AppendAsync(new AppendAuditParams([early, middle, late, other, serverLevel]), None);

        async Task<Guid[]> Ids(ListAuditParams p) => [.. (await ListAllAuditAsync(p)).Select(e => e.Id)];

        Assert.Equal([late.Id, middle.Id, early.Id], await Ids(new ListAuditParams(OrgA)));
        Assert.Equal([other.Id], await Ids(new ListAuditParams(OrgB)));
        Assert.Equal([late.Id, early.Id], await Ids(new ListAuditParams(OrgA) { ActorId = olga }));
        Assert.Equal([middle.Id], await Ids(new ListAuditParams(OrgA) { ActorType = AuditActorType.ApiKey }));
        Assert.Equal([early.Id], await Ids(new ListAuditParams(OrgA) { Action = "queue.pause" }));
        Assert.Equal([middle.Id, early.Id], await Ids(new ListAuditParams(OrgA) { Action = "queue.*" }));
        Assert.Equal([middle.Id, early.Id], await Ids(new ListAuditParams(OrgA) { Action = "queue." }));
        Assert.Empty(await Ids(new ListAuditParams(OrgA) { Action = "queue" }));
        Assert.Equal([middle.Id, early.Id], await Ids(new ListAuditParams(OrgA) { TargetType = "queue", TargetId = "emails" }));
        Assert.Equal([late.Id], await Ids(new ListAuditParams(OrgA) { TargetId = "j-1" }));
        Assert.Equal([late.Id, middle.Id], await Ids(new ListAuditParams(OrgA) { Since = middle.Time }));
        Assert.Equal([early.Id], await Ids(new ListAuditParams(OrgA) { Until = middle.Time }));
        Assert.Equal([middle.Id], await Ids(new ListAuditParams(OrgA) { Since = middle.Time, Until = late.Time, ActorId = key, Action = "queue.*" }));
    }

    [SkippableFact]
    public async Task Concurrent_audit_appends_all_land()
    {
        var entries = Enumerable.Range(0, 40).Select(i => Entry(OrgA, "queue.pause", "queue", $"q{i}")).ToList();
        await RunConcurrentlyAsync(entries.Select<AuditEntry, Func<CancellationToken, Task>>(e => ct => Store.Audit.AppendAsync(new AppendAuditParams([e]), ct)).ToList());
        Assert.Equal(entries.Select(e => e.Id).Order(), (await ListAllAuditAsync(new ListAuditParams(OrgA) { Limit = 500 })).Select(e => e.Id).Order());
    }

    [SkippableFact]
    public async Task Deleting_an_organization_removes_its_audit_entries_only()
    {
        var owner = (await FirstOwnerAsync()).User;
        var doomed = await Store.Identity.CreateOrganizationAsync(new CreateOrganizationParams("Doomed", owner.Id), None);
        var gone = Entry(doomed.Id, "queue.pause", "queue", "q");
        var kept = Entry(OrgA, "queue.pause", "queue", "q");
        await Store.Audit.AppendAsync(new AppendAuditParams([gone, kept]), None);

        Assert.True(await Store.Identity.DeleteOrganizationAsync(new OrganizationParams(doomed.Id), None));
        Assert.Empty((await Store.Audit.ListAsync(new ListAuditParams(doomed.Id), None)).Items);
        Assert.Null(await Store.Audit.GetAsync(new AuditEntryParams(doomed.Id, gone.Id), None));
        Assert.Equal([kept.Id], (await Store.Audit.ListAsync(new ListAuditParams(OrgA), None)).Items.Select(e => e.Id));
    }
}
