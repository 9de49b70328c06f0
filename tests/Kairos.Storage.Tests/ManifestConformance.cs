using Kairos.Core.Alerts;
using Kairos.Core.Manifests;
using Kairos.Core.Monitors;
using Kairos.Core.Queues;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;

namespace Kairos.Storage.Tests;

/// <summary>The manifest facet: a set of writes in one transaction, every written object marked, a conflict undoing all of it, managers per object.</summary>
public abstract partial class StoreConformance
{
    private static ScheduleDefinition Nightly(string name = "nightly", string cron = "0 3 * * *") =>
        new() { Name = name, Cron = cron, Job = new JobTemplate { Queue = "mail", Type = "report", Payload = """{"to":"ops"}""" } };

    private static MonitorDefinition Backup(string name = "backup", string slug = "backup") => new() { Name = name, Slug = slug, PeriodSeconds = 3600 };

    private static AlertRuleDefinition Failures(string name = "failures") => new() { Name = name, Kind = AlertRuleKind.JobFailed, Queue = "mail", Channels = ["ops"] };

    /// <summary>One write of each kind; <paramref name="key"/> makes the monitor's ping key hash unique (it is, across organizations).</summary>
    private static ManifestWrite[] EveryKind(string key = "a") =>
    [
        new QueueWrite("mail", new QueueSettings { ConcurrencyLimit = 5, RateLimit = new RateLimit(10, 1000) }),
        new ScheduleWrite(Nightly()),
        new MonitorWrite(Backup(), "hash-backup-" + key, "sealed-backup"),
        new AlertRuleWrite(Failures()),
    ];

    private Task<ApplyManifestOutcome> ApplyManifestAsync(Guid org, params ManifestWrite[] writes) =>
        Store.Manifests.ApplyAsync(new ApplyManifestParams(org, writes), None);

    private async Task<string[]> ManagedNamesAsync(Guid org) =>
        [.. (await Store.Manifests.ListManagedAsync(org, None)).Select(m => $"{m.Kind.ToWire()}/{m.Name}/{m.ManagedBy}")];

    [SkippableFact]
    public async Task A_manifest_apply_writes_every_kind_and_marks_each_object_managed()
    {
        var outcome = await ApplyManifestAsync(OrgA, EveryKind());
        Assert.True(outcome.Applied);

        var queue = await Store.Queues.GetAsync(new QueueParams(OrgA, "mail"), None);
        Assert.Equal(5, queue!.Settings.ConcurrencyLimit);
        Assert.Equal(new RateLimit(10, 1000), queue.Settings.RateLimit);
        var schedule = await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "nightly"), None);
        Assert.Equal("0 3 * * *", schedule!.Definition.Cron);
        Assert.NotNull(schedule.NextFireAt);
        var monitor = await Store.Monitors.GetAsync(new MonitorParams(OrgA, "backup"), None);
        Assert.Equal("sealed-backup", monitor!.PingKeySealed);
        Assert.Equal(MonitorState.New, monitor.State);
        Assert.Equal(["ops"], (await Store.Alerts.GetRuleAsync(new NamedParams(OrgA, "failures"), None))!.Definition.Channels);

        Assert.Equal(["Queue/mail/manifest", "Schedule/nightly/manifest", "Monitor/backup/manifest", "AlertRule/failures/manifest"], await ManagedNamesAsync(OrgA));
        Assert.Empty(await ManagedNamesAsync(OrgB));
        Assert.Equal(new ManagedState(true, ManagedBy.Manifest), await Store.Manifests.GetManagerAsync(new ManagedObjectParams(OrgA, ManifestKind.Schedule, "nightly"), None));
        Assert.Equal(default, await Store.Manifests.GetManagerAsync(new ManagedObjectParams(OrgB, ManifestKind.Schedule, "nightly"), None));

        // A second apply replaces definitions; a monitor keeps its ping key and its status.
        Assert.True((await ApplyManifestAsync(OrgA, new ScheduleWrite(Nightly(cron: "@hourly")), new MonitorWrite(Backup() with { GraceSeconds = 60 }, "other-hash", "other-sealed"))).Applied);
        Assert.Equal("@hourly", (await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "nightly"), None))!.Definition.Cron);
        var updated = await Store.Monitors.GetAsync(new MonitorParams(OrgA, "backup"), None);
        Assert.Equal(60, updated!.Definition.GraceSeconds);
        Assert.Equal("sealed-backup", updated.PingKeySealed);
    }

    [SkippableFact]
    public async Task A_manifest_apply_takes_over_objects_made_by_hand_and_unmanaging_hands_them_back()
    {
        Assert.NotNull(await Store.Schedules.CreateAsync(new CreateScheduleParams(OrgA, Nightly(), Paused: true, PauseReason: "by hand"), None));
        Assert.Equal(new ManagedState(true, null), await Store.Manifests.GetManagerAsync(new ManagedObjectParams(OrgA, ManifestKind.Schedule, "nightly"), None));

        Assert.True((await ApplyManifestAsync(OrgA, new ScheduleWrite(Nightly(cron: "@daily")))).Applied);
        var s = await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "nightly"), None);
        Assert.Equal("@daily", s!.Definition.Cron);
        Assert.True(s.Paused); // the pause state is not declared by manifests
        Assert.Equal(["Schedule/nightly/manifest"], await ManagedNamesAsync(OrgA));

        Assert.True(await Store.Manifests.SetManagerAsync(new SetManagerParams(OrgA, ManifestKind.Schedule, "nightly", null), None));
        Assert.Empty(await ManagedNamesAsync(OrgA));
        Assert.False(await Store.Manifests.SetManagerAsync(new SetManagerParams(OrgA, ManifestKind.Schedule, "absent", null), None));
        Assert.False(await Store.Manifests.SetManagerAsync(new SetManagerParams(OrgB, ManifestKind.Schedule, "nightly", null), None));
    }

    [SkippableFact]
    public async Task A_manifest_apply_deletes_what_it_is_told_to_in_the_same_transaction()
    {
        Assert.True((await ApplyManifestAsync(OrgA, EveryKind())).Applied);
        Assert.True((await ApplyManifestAsync(OrgB, EveryKind("b"))).Applied);

        var outcome = await ApplyManifestAsync(OrgA,
            new DeleteWrite(ManifestKind.Queue, "mail"), new DeleteWrite(ManifestKind.Schedule, "nightly"), new DeleteWrite(ManifestKind.Monitor, "backup"),
            new DeleteWrite(ManifestKind.AlertRule, "failures"), new ScheduleWrite(Nightly("weekly", "@weekly")));
        Assert.True(outcome.Applied);
        Assert.Null(await Store.Queues.GetAsync(new QueueParams(OrgA, "mail"), None));
        Assert.Null(await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "nightly"), None));
        Assert.Null(await Store.Monitors.GetAsync(new MonitorParams(OrgA, "backup"), None));
        Assert.Null(await Store.Alerts.GetRuleAsync(new NamedParams(OrgA, "failures"), None));
        Assert.Equal(["Schedule/weekly/manifest"], await ManagedNamesAsync(OrgA));
        // The other organization's objects of the same names are untouched.
        Assert.Equal(4, (await ManagedNamesAsync(OrgB)).Length);
        Assert.NotNull(await Store.Monitors.GetAsync(new MonitorParams(OrgB, "backup"), None));
    }

    [SkippableFact]
    public async Task A_manifest_apply_writes_workflow_templates_and_keeps_one_a_schedule_starts()
    {
        WorkflowTemplateStep[] steps =
        [
            new() { Id = "extract", Job = new JobTemplate { Queue = "etl", Type = "extract" } },
            new() { Id = "load", Job = new JobTemplate { Queue = "etl", Type = "load" }, DependsOn = ["extract"] },
        ];
        var schedule = new ScheduleDefinition { Name = "nightly-etl", Cron = "@daily", Workflow = "etl" };
        Assert.True((await ApplyManifestAsync(OrgA, new WorkflowTemplateWrite("etl", steps), new ScheduleWrite(schedule))).Applied);
        var template = await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgA, "etl"), None);
        Assert.Equal(["extract", "load"], template!.Steps.Select(s => s.Id));
        Assert.Equal(ManagedBy.Manifest, template.ManagedBy);
        Assert.Equal(["Workflow/etl/manifest", "Schedule/nightly-etl/manifest"], await ManagedNamesAsync(OrgA));

        // The template cannot go while the schedule starts it: nothing of that apply stays.
        var refused = await ApplyManifestAsync(OrgA, new QueueWrite("etl", new QueueSettings()), new DeleteWrite(ManifestKind.Workflow, "etl"));
        Assert.False(refused.Applied);
        Assert.Contains("nightly-etl", refused.Conflict, StringComparison.Ordinal);
        Assert.NotNull(await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgA, "etl"), None));
        Assert.Null(await Store.Queues.GetAsync(new QueueParams(OrgA, "etl"), None));

        Assert.True((await ApplyManifestAsync(OrgA, new DeleteWrite(ManifestKind.Schedule, "nightly-etl"), new DeleteWrite(ManifestKind.Workflow, "etl"))).Applied);
        Assert.Null(await Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(OrgA, "etl"), None));
        Assert.Empty(await ManagedNamesAsync(OrgA));
    }

    [SkippableFact]
    public async Task Concurrent_manifest_applies_of_one_set_leave_one_of_each_object_all_managed()
    {
        // Eight clients apply the same new set at once: each apply is whole or refused whole ("apply again").
        using var start = new SemaphoreSlim(0);
        var applies = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await start.WaitAsync();
            return await ApplyManifestAsync(OrgA, EveryKind("c" + i));
        })).ToList();
        start.Release(applies.Count);
        var outcomes = await Task.WhenAll(applies).WaitAsync(ConcurrencyTimeout);
        Assert.Contains(outcomes, o => o.Applied);
        foreach (var refused in outcomes.Where(o => !o.Applied)) Assert.Contains("meanwhile", refused.Conflict, StringComparison.Ordinal);

        Assert.Equal(["nightly"], (await Store.Schedules.ListAsync(new ListSchedulesParams(OrgA), None)).Items.Select(s => s.Name));
        Assert.Equal(["backup"], (await Store.Monitors.ListAsync(new ListMonitorsParams(OrgA), None)).Items.Select(m => m.Name));
        Assert.Equal(["failures"], (await Store.Alerts.ListRulesAsync(new ListNamedParams(OrgA), None)).Items.Select(r => r.Name));
        Assert.Equal(["Queue/mail/manifest", "Schedule/nightly/manifest", "Monitor/backup/manifest", "AlertRule/failures/manifest"], await ManagedNamesAsync(OrgA));
        // A refused apply, tried again, goes through.
        Assert.True((await ApplyManifestAsync(OrgA, EveryKind("again"))).Applied);
    }

    [SkippableFact]
    public async Task A_conflict_rolls_back_every_write_of_the_apply()
    {
        Assert.NotNull(await Store.Monitors.CreateAsync(new CreateMonitorParams(OrgA, Backup("by-hand", "shared"), "h", "s"), None));
        var outcome = await ApplyManifestAsync(OrgA,
            new QueueWrite("mail", new QueueSettings { ConcurrencyLimit = 1 }), new ScheduleWrite(Nightly()), new AlertRuleWrite(Failures()),
            new MonitorWrite(Backup("backup", "shared"), "h2", "s2"));
        Assert.False(outcome.Applied);
        Assert.Equal(ManifestKind.Monitor, outcome.ConflictWith!.Kind);
        Assert.Contains("shared", outcome.Conflict, StringComparison.Ordinal);
        Assert.Null(await Store.Queues.GetAsync(new QueueParams(OrgA, "mail"), None));
        Assert.Null(await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "nightly"), None));
        Assert.Null(await Store.Alerts.GetRuleAsync(new NamedParams(OrgA, "failures"), None));
        Assert.Null(await Store.Monitors.GetAsync(new MonitorParams(OrgA, "backup"), None));
        Assert.Empty(await ManagedNamesAsync(OrgA));

        // A queue with unfinished jobs is not deleted, and the writes before it are undone.
        Assert.True((await ApplyManifestAsync(OrgA, new QueueWrite("busy", new QueueSettings()))).Applied);
        await EnqueueAsync(MakeJob("busy"));
        var busy = await ApplyManifestAsync(OrgA, new ScheduleWrite(Nightly()), new DeleteWrite(ManifestKind.Queue, "busy"));
        Assert.False(busy.Applied);
        Assert.Equal("busy", busy.ConflictWith!.Name);
        Assert.Null(await Store.Schedules.GetAsync(new ScheduleParams(OrgA, "nightly"), None));
        Assert.NotNull(await Store.Queues.GetAsync(new QueueParams(OrgA, "busy"), None));

        // The store goes on working after the rollback.
        Assert.True((await ApplyManifestAsync(OrgA, new ScheduleWrite(Nightly()))).Applied);
        Assert.Equal(["Queue/busy/manifest", "Schedule/nightly/manifest"], await ManagedNamesAsync(OrgA));
    }
}
