using System.Text.Json;
using System.Text.Json.Nodes;
using Kairos.Core.Alerts;
using Kairos.Core.Manifests;
using Kairos.Core.Monitors;
using Kairos.Core.Queues;
using Kairos.Core.Schedules;
using Kairos.Core.Workflows;
using Kairos.Server.Apis;
using Kairos.Server.Http;

namespace Kairos.Server.Manifests;

/// <summary>One object a manifest declares, validated: its definition and its spec in normal form (defaults filled in).</summary>
/// <param name="Definition">A <see cref="QueueSettings"/>, <see cref="ScheduleDefinition"/>, <see cref="MonitorDefinition"/>, <see cref="AlertRuleDefinition"/> or <see cref="WorkflowTemplateDefinition"/>.</param>
/// <param name="Document">The document it came from (to place later errors).</param>
public sealed record DesiredObject(ManifestKind Kind, string Name, ManifestDocument Document, object Definition, JsonObject Spec);

/// <summary>A workflow template a manifest declares: its steps, checked as a workflow's are.</summary>
public sealed record WorkflowTemplateDefinition(IReadOnlyList<WorkflowTemplateStep> Steps);

/// <summary>The objects of a manifest set, or its errors.</summary>
public sealed record ManifestSet(IReadOnlyList<DesiredObject> Objects, IReadOnlyList<ManifestError> Errors)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>
/// Checks manifest documents, the same way offline (<c>kairos validate</c>, positions in files) and on the server
/// (<c>manifests[i].spec.cron</c>): against <see cref="ManifestSchema"/>, then each spec through the very code the
/// object's API validates a request with (cron and time zone by Cronos, ranges, payload size), then across the set
/// (a kind and name declared twice, two monitors with one slug). What it cannot know offline (that an alert rule's
/// channels exist) the server checks at apply.
/// </summary>
public static class ManifestValidator
{
    public static ManifestSet Check(IReadOnlyList<ManifestDocument> documents, TimeProvider time, int maxPayloadBytes)
    {
        var objects = new List<DesiredObject>();
        var errors = new List<ManifestError>();
        var seen = new Dictionary<(ManifestKind, string), ManifestDocument>();
        var slugs = new Dictionary<string, ManifestDocument>(StringComparer.Ordinal);
        foreach (var doc in documents)
        {
            var before = errors.Count;
            void Error(string path, string message) => errors.Add(new ManifestError(doc.Locate(path), path, message));
            ManifestSchema.Check(doc.Root, Error);
            if (errors.Count > before) continue;
            var root = (JsonObject)doc.Root!;
            if (!ManifestKinds.TryParse((string?)root["kind"], out var kind)) continue;
            var name = (string)root["metadata"]!["name"]!;
            var spec = (JsonObject)root["spec"]!;
            var definition = ToDefinition(kind, name, spec, time, maxPayloadBytes, Error);
            if (definition is null) continue;
            if (seen.TryGetValue((kind, name), out var first))
            {
                Error("metadata.name", $"{kind.ToWire()} '{name}' is declared twice (also at {first.Locate("metadata.name")})");
                continue;
            }
            seen[(kind, name)] = doc;
            if (definition is MonitorDefinition m)
            {
                if (slugs.TryGetValue(m.Slug, out var other))
                {
                    Error("spec.slug", $"the slug '{m.Slug}' is another monitor's (at {other.Locate("metadata.name")})");
                    continue;
                }
                slugs[m.Slug] = doc;
            }
            objects.Add(new DesiredObject(kind, name, doc, definition, SpecOf(definition)));
        }
        return new ManifestSet(errors.Count == 0 ? objects : [], errors);
    }

    /// <summary>The definition a spec declares, through the API's own validation; null after reporting its errors.</summary>
    private static object? ToDefinition(ManifestKind kind, string name, JsonObject spec, TimeProvider time, int maxPayloadBytes, Action<string, string> error)
    {
        var now = time.GetUtcNow();
        object? request;
        try
        {
            request = spec.Deserialize(ManifestSchema.SpecTypes[kind], Json.Options);
        }
        catch (JsonException ex)
        {
            var field = ApiExceptionHandler.FieldName(ex.Path);
            error(field is { Length: > 0 } ? "spec." + field : "spec", "has the wrong type or is out of range");
            return null;
        }
        var v = new Validation();
        string? tooLarge = null;
        object? definition = request switch
        {
            UpsertQueueRequest q => QueuesApi.ToSettings(name, q, v),
            ScheduleRequest s => SchedulesApi.ToDefinition(s, name, v, now, maxPayloadBytes, ref tooLarge),
            MonitorRequest m => MonitorsApi.ToDefinition(m, name, v, now),
            AlertRuleRequest a => AlertRulesApi.ToDefinition(a, name, v),
            WorkflowRequest w => WorkflowTemplate(w, name, v, time, maxPayloadBytes, ref tooLarge),
            _ => null,
        };
        if (tooLarge is not null) error("spec.job.payload", tooLarge);
        foreach (var (field, messages) in v.Errors)
        {
            foreach (var message in messages) error(field == "name" ? "metadata.name" : "spec." + field, message);
        }
        return v.Ok && tooLarge is null ? definition : null;
    }

    /// <summary>The steps of a workflow template, through the workflows API's checks (graph errors too: unknown parents, cycles).</summary>
    private static WorkflowTemplateDefinition? WorkflowTemplate(WorkflowRequest r, string name, Validation v, TimeProvider time, int maxPayloadBytes, ref string? tooLarge)
    {
        var definition = WorkflowsApi.ToDefinition(r with { Name = name }, v, new ServerOptions { MaxPayloadBytes = maxPayloadBytes }, time, ref tooLarge, out var graph);
        foreach (var (field, messages) in graph.Errors)
        {
            foreach (var message in messages) v.Add(field, message);
        }
        if (definition is null || !v.Ok) return null;
        return new WorkflowTemplateDefinition([.. definition.Steps.Select(s => new WorkflowTemplateStep
        {
            Id = s.Id,
            Job = JobTemplate.From(s.Job),
            DependsOn = s.DependsOn,
            ContinueOnFailure = s.ContinueOnFailure,
        })]);
    }

    private static JobTemplateRequest JobRequest(JobTemplate j) =>
        new(j.Queue, j.Type, new RawJson(j.Payload), j.Priority, j.MaxAttempts, j.TimeoutMs, [.. j.Tags]);

    /// <summary>
    /// An object's spec in normal form, from its definition: every field the definition has, defaults included, nulls
    /// left out. Two specs are equal when the objects are; the fields that differ are the update.
    /// </summary>
    public static JsonObject SpecOf(object definition)
    {
        object request = definition switch
        {
            QueueSettings q => new UpsertQueueRequest(q.ConcurrencyLimit, q.RateLimit is { } r ? new RateLimitDto(r.Limit, r.PeriodMs) : null,
                q.DefaultMaxAttempts, q.DefaultTimeoutMs),
            ScheduleDefinition s => new ScheduleRequest(null, s.Cron, s.EveryMs, s.TimeZone, s.Job is { } j ? JobRequest(j) : null,
                s.Overlap.ToWire(), s.CatchUp.ToWire(), s.CatchUpLimit, s.JitterMs, s.StartAt, s.EndAt, null, null, s.Workflow),
            MonitorDefinition m => new MonitorRequest(null, m.Slug, m.PeriodSeconds, m.Cron, m.TimeZone, m.GraceSeconds, m.MaxRuntimeSeconds,
                m.StartGraceSeconds, m.FailureThreshold, [.. m.Tags], null, null),
            AlertRuleDefinition a => new AlertRuleRequest(null, a.Kind.ToWire(), a.Queue, a.JobType, a.Threshold, a.WindowMs, a.RatePercent, a.MinJobs,
                a.MaxAgeMs, [.. a.MonitorStates], a.Monitor, a.Schedule, [.. a.Channels], a.CooldownMs, a.Enabled),
            WorkflowTemplateDefinition w => new WorkflowRequest(null,
                [.. w.Steps.Select(s => new WorkflowStepRequest(s.Id, JobRequest(s.Job), [.. s.DependsOn], s.ContinueOnFailure))]),
            _ => throw new ArgumentException($"not a manifest definition: {definition.GetType().Name}", nameof(definition)),
        };
        var spec = (JsonObject)JsonSerializer.SerializeToNode(request, request.GetType(), Json.Options)!;
        foreach (var name in ManifestSchema.NotInSpec) spec.Remove(name);
        return (JsonObject)WithoutNulls(spec)!;
    }

    private static JsonNode? WithoutNulls(JsonNode? node)
    {
        if (node is JsonArray a)
        {
            foreach (var item in a) WithoutNulls(item);
            return a;
        }
        if (node is not JsonObject o) return node;
        foreach (var key in o.Where(p => p.Value is null).Select(p => p.Key).ToList()) o.Remove(key);
        foreach (var (_, value) in o) WithoutNulls(value);
        return o;
    }

    /// <summary>The top-level spec fields whose values differ, in the order of the current spec then the new one.</summary>
    public static IReadOnlyList<string> ChangedFields(JsonObject current, JsonObject desired) =>
        [.. current.Select(p => p.Key).Concat(desired.Select(p => p.Key)).Distinct(StringComparer.Ordinal)
            .Where(k => !JsonNode.DeepEquals(current[k], desired[k]))];
}
