using System.Text.Json.Nodes;
using Kairos.Core.Alerts;
using Kairos.Core.Events;
using Kairos.Core.Manifests;
using Kairos.Core.Monitors;
using Kairos.Core.Queues;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Kairos.Server.Manifests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>
/// A manifest set to apply: the documents as JSON (<c>kind</c>, <c>metadata.name</c>, <c>spec</c>; what
/// <c>kairos apply</c> reads from YAML). <c>dry_run</c>: compute the changes only. <c>prune</c>: also delete the
/// managed objects the set no longer declares.
/// </summary>
public sealed record ApplyManifestsRequest(List<JsonNode?>? Manifests, bool? DryRun, bool? Prune);

/// <summary>One object's change: <c>create</c>, <c>update</c> (with the spec fields that change, and <c>managed_by</c> when an object made by hand is taken over), <c>unchanged</c> or <c>delete</c>.</summary>
public sealed record ManifestChangeDto(string Kind, string Name, string Action, IReadOnlyList<string> Fields);

/// <param name="Applied">False for a dry run, or when nothing needed to change.</param>
public sealed record ApplyManifestsResponse(bool DryRun, bool Applied, IReadOnlyList<ManifestChangeDto> Changes);

/// <summary>The object to hand back to the API and the console (<c>kind</c>: Queue, Schedule, Monitor, AlertRule, Workflow).</summary>
public sealed record UnmanageRequest(string? Kind, string? Name);

public sealed record ManagedObjectDto(string Kind, string Name, string? ManagedBy);

/// <summary>
/// Manifests (jobs as code): the JSON Schema of the documents, apply (diff, then every change in one store
/// transaction), the list of managed objects, and unmanage (an object goes back to hand management).
/// </summary>
public static class ManifestsApi
{
    public static RouteGroupBuilder MapManifestsApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/manifests").WithTags("Manifests");
        g.MapGet("/schema", Schema).WithName("GetManifestSchema").RequireAuthorization(Policies.Read);
        g.MapGet("/managed", Managed).WithName("ListManagedObjects").RequireAuthorization(Policies.Read);
        g.MapPost("/apply", Apply).WithName("ApplyManifests").RequireAuthorization(Policies.ManifestsApply).Audited("manifest.apply");
        g.MapPost("/unmanage", Unmanage).WithName("UnmanageObject").RequireAuthorization(Policies.ManifestsApply).Audited("manifest.unmanage");
        return api;
    }

    public sealed record Deps(IKairosStore Store, PingKeys Keys, Scheduler Scheduler, MonitorWatch Watch, EventBus Events, ServerOptions Options, TimeProvider Time);

    /// <summary>The JSON Schema every manifest document follows (for editors, and what the CLI checks offline).</summary>
    public static Ok<JsonObject> Schema() => TypedResults.Ok(ManifestSchema.Get());

    /// <summary>The objects a manifest manages (all of them: an organization has few), by kind then name.</summary>
    public static async Task<Ok<ListResponse<ManagedObjectDto>>> Managed(HttpContext http, IKairosStore store)
    {
        var managed = await store.Manifests.ListManagedAsync(http.User.OrganizationId(), http.RequestAborted);
        return TypedResults.Ok(new ListResponse<ManagedObjectDto>([.. managed.Select(m => new ManagedObjectDto(m.Kind.ToWire(), m.Name, m.ManagedBy))], null));
    }

    public static async Task<Results<Ok<ApplyManifestsResponse>, ValidationProblem, ProblemHttpResult>> Apply(
        ApplyManifestsRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        if (request.Manifests is not { } manifests) return Problems.Invalid("manifests", "is required: a list of manifest documents");
        if (manifests.Count > 10_000) return Problems.Invalid("manifests", "at most 10000 documents at once");
        var org = http.User.OrganizationId();
        var ct = http.RequestAborted;
        var documents = manifests.Select((m, i) => new ManifestDocument($"manifests[{i}]", m, new Dictionary<string, SourceMark>())).ToList();
        var set = ManifestValidator.Check(documents, deps.Time, deps.Options.MaxPayloadBytes);
        var v = new Validation();
        foreach (var e in set.Errors) v.Add(e.Location, e.Message);
        foreach (var o in set.Objects.Where(o => o.Kind == ManifestKind.AlertRule))
        {
            await AlertRulesApi.CheckChannelsAsync((AlertRuleDefinition)o.Definition, o.Document.Locate("spec.channels"), org, deps.Store, v, ct);
        }
        var templates = set.Objects.Where(o => o.Kind == ManifestKind.Workflow).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var o in set.Objects)
        {
            if (o.Definition is ScheduleDefinition { Workflow: { } template } && !templates.Contains(template) &&
                await deps.Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(org, template), ct) is null)
            {
                v.Add(o.Document.Locate("spec.workflow"), $"no workflow template '{template}': declare it (kind: Workflow) or make it first");
            }
        }
        if (!v.Ok) return Problems.Invalid(v);

        var managed = (await deps.Store.Manifests.ListManagedAsync(org, ct)).ToDictionary(m => (m.Kind, m.Name));
        var changes = new List<ManifestChangeDto>();
        var writes = new List<ManifestWrite>();
        if (request.Prune == true)
        {
            var declared = set.Objects.Select(o => (o.Kind, o.Name)).ToHashSet();
            foreach (var m in managed.Values.Where(m => !declared.Contains((m.Kind, m.Name))))
            {
                changes.Add(new ManifestChangeDto(m.Kind.ToWire(), m.Name, "delete", []));
                writes.Add(new DeleteWrite(m.Kind, m.Name));
            }
        }
        foreach (var o in set.Objects)
        {
            var current = await CurrentSpecAsync(deps.Store, org, o.Kind, o.Name, ct);
            IReadOnlyList<string> fields = current is null ? [.. o.Spec.Select(p => p.Key)] : ManifestValidator.ChangedFields(current, o.Spec);
            if (current is not null && !managed.ContainsKey((o.Kind, o.Name))) fields = [.. fields, "managed_by"];
            var action = current is null ? "create" : fields.Count == 0 ? "unchanged" : "update";
            changes.Add(new ManifestChangeDto(o.Kind.ToWire(), o.Name, action, fields));
            if (action != "unchanged") writes.Add(Write(o, deps.Keys));
        }
        // What others name goes first and away last: deletes of rules and schedules before the templates and queues they
        // name, then writes of queues and templates before the schedules and rules that name them.
        writes = [.. writes.OrderBy(w => w is DeleteWrite ? DeleteOrder.IndexOf(w.Kind) : 10 + WriteOrder.IndexOf(w.Kind))];
        if (request.DryRun == true || writes.Count == 0) return TypedResults.Ok(new ApplyManifestsResponse(request.DryRun == true, false, changes));

        var outcome = await deps.Store.Manifests.ApplyAsync(new ApplyManifestParams(org, writes), ct);
        if (!outcome.Applied)
        {
            return Problems.Conflict($"Nothing was applied: {outcome.ConflictWith!.Kind.ToWire()} '{outcome.ConflictWith.Name}': {outcome.Conflict}.");
        }
        http.Audit().Detail("created", Count(changes, "create")).Detail("updated", Count(changes, "update")).Detail("deleted", Count(changes, "delete"))
            .Detail("prune", request.Prune == true);
        await AnnounceAsync(deps, org, changes, ct);
        return TypedResults.Ok(new ApplyManifestsResponse(false, true, changes));
    }

    /// <summary>Unmarks a managed object: the API and the console may change and delete it again (a later apply takes it back).</summary>
    public static async Task<Results<Ok<ManagedObjectDto>, ValidationProblem, ProblemHttpResult>> Unmanage(UnmanageRequest request, HttpContext http, IKairosStore store)
    {
        var v = new Validation();
        if (!ManifestKinds.TryParse(request.Kind, out var kind) || !ManifestRows.Kinds.Contains(kind)) v.Add("kind", "one of " + string.Join(", ", ManifestRows.Kinds.Select(k => k.ToWire())));
        if (string.IsNullOrEmpty(request.Name)) v.Add("name", "is required");
        if (!v.Ok) return Problems.Invalid(v);
        http.Audit().TargetId = $"{kind.ToWire()} {request.Name}";
        if (!await store.Manifests.SetManagerAsync(new SetManagerParams(http.User.OrganizationId(), kind, request.Name!, null), http.RequestAborted))
        {
            return Problems.NotFound($"No {kind.ToWire()} '{request.Name}'.");
        }
        return TypedResults.Ok(new ManagedObjectDto(kind.ToWire(), request.Name!, null));
    }

    /// <summary>
    /// The 409 the API answers to a hand change of a managed object (null when it is not managed or does not exist); every
    /// PUT, PATCH and DELETE of queues, schedules, monitors, alert rules and workflow templates asks it first.
    /// </summary>
    public static async Task<ProblemHttpResult?> RefuseIfManagedAsync(HttpContext http, IKairosStore store, ManifestKind kind, string name)
    {
        var state = await store.Manifests.GetManagerAsync(new ManagedObjectParams(http.User.OrganizationId(), kind, name), http.RequestAborted);
        if (state.ManagedBy is null) return null;
        return Problems.Conflict(
            $"{kind.ToWire()} '{name}' is managed by a {state.ManagedBy}: change it in the manifest and run kairos apply, or unmark it first " +
            $"(POST /api/v1/manifests/unmanage {{\"kind\":\"{kind.ToWire()}\",\"name\":\"{name}\"}}, or kairos unmanage {kind.ToWire()} {name}).");
    }

    private static readonly List<ManifestKind> DeleteOrder = [ManifestKind.AlertRule, ManifestKind.Schedule, ManifestKind.Monitor, ManifestKind.Workflow, ManifestKind.Queue];
    private static readonly List<ManifestKind> WriteOrder = [ManifestKind.Queue, ManifestKind.Workflow, ManifestKind.Schedule, ManifestKind.Monitor, ManifestKind.AlertRule];

    private static int Count(List<ManifestChangeDto> changes, string action) => changes.Count(c => c.Action == action);

    private static async Task<JsonObject?> CurrentSpecAsync(IKairosStore store, Guid org, ManifestKind kind, string name, CancellationToken ct)
    {
        object? definition = kind switch
        {
            ManifestKind.Queue => (await store.Queues.GetAsync(new QueueParams(org, name), ct))?.Settings,
            ManifestKind.Schedule => (await store.Schedules.GetAsync(new ScheduleParams(org, name), ct))?.Definition,
            ManifestKind.Monitor => (await store.Monitors.GetAsync(new MonitorParams(org, name), ct))?.Definition,
            ManifestKind.AlertRule => (await store.Alerts.GetRuleAsync(new NamedParams(org, name), ct))?.Definition,
            ManifestKind.Workflow => await store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(org, name), ct) is { } t ? new WorkflowTemplateDefinition(t.Steps) : null,
            _ => null,
        };
        return definition is null ? null : ManifestValidator.SpecOf(definition);
    }

    private static ManifestWrite Write(DesiredObject o, PingKeys keys)
    {
        switch (o.Definition)
        {
            case QueueSettings q:
                return new QueueWrite(o.Name, q);
            case ScheduleDefinition s:
                return new ScheduleWrite(s);
            case MonitorDefinition m:
                // Used only when the monitor is created: its key is then read (and rotated) through the monitors API.
                var (_, hash, sealedKey) = keys.NewMonitorKey();
                return new MonitorWrite(m, hash, sealedKey);
            case AlertRuleDefinition a:
                return new AlertRuleWrite(a);
            case WorkflowTemplateDefinition w:
                return new WorkflowTemplateWrite(o.Name, w.Steps);
            default:
                throw new InvalidOperationException($"no write for {o.Kind}");
        }
    }

    /// <summary>After the commit: the events the objects' own APIs publish, and wake-ups of the scheduler and the monitor watch.</summary>
    private static async Task AnnounceAsync(Deps deps, Guid org, List<ManifestChangeDto> changes, CancellationToken ct)
    {
        foreach (var c in changes.Where(c => c.Action is "create" or "update" or "delete"))
        {
            var verb = c.Action switch { "create" => "created", "update" => "updated", _ => "deleted" };
            switch (c.Kind)
            {
                case "Schedule" when c.Action != "delete":
                    if (await deps.Store.Schedules.GetAsync(new ScheduleParams(org, c.Name), ct) is { } s)
                    {
                        deps.Events.Publish("schedule." + verb, org, new ScheduleEventData(s.Name, s.Id));
                        if (!s.Paused) deps.Scheduler.WakeAt(s.NextFireAt);
                    }
                    break;
                case "Monitor" when c.Action != "delete":
                    if (await deps.Store.Monitors.GetAsync(new MonitorParams(org, c.Name), ct) is { } m)
                    {
                        deps.Events.Publish("monitor." + verb, org, MonitorEventData.Of(m));
                        deps.Watch.WakeAt(m.NextCheckAt);
                    }
                    break;
                case "Queue" when c.Action == "delete":
                    deps.Events.Publish("queue.deleted", org, new QueueEventData(c.Name));
                    break;
            }
        }
    }
}
