using System.Text.Json;
using System.Text.Json.Nodes;
using Kairos.Core.Alerts;
using Kairos.Core.Manifests;
using Kairos.Core.Monitors;
using Kairos.Core.Queues;
using Kairos.Core.Schedules;
using Kairos.Server.Apis;
using Kairos.Server.Http;

namespace Kairos.Server.Manifests;

/// <summary>One object a manifest declares, validated: its definition and its spec in normal form (defaults filled in).</summary>
/// <param name="Definition">A <see cref="QueueSettings"/>, <see cref="ScheduleDefinition"/>, <see cref="MonitorDefinition"/> or <see cref="AlertRuleDefinition"/>.</param>
/// <param name="Document">The document it came from (to place later errors).</param>
public sealed record DesiredObject(ManifestKind Kind, string Name, ManifestDocument Document, object Definition, JsonObject Spec);

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
    public static ManifestSet Check(IReadOnlyList<ManifestDocument> documents, DateTimeOffset now, int maxPayloadBytes)
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
            var definition = ToDefinition(kind, name, spec, now, maxPayloadBytes, Error);
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
    private static object? ToDefinition(ManifestKind kind, string name, JsonObject spec, DateTimeOffset now, int maxPayloadBytes, Action<string, string> error)
    {
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
            _ => null,
        };
        if (tooLarge is not null) error("spec.job.payload", tooLarge);
        foreach (var (field, messages) in v.Errors)
        {
            foreach (var message in messages) error(field == "name" ? "metadata.name" : "spec." + field, message);
        }
        return v.Ok && tooLarge is null ? definition : null;
    }

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
            ScheduleDefinition s => new ScheduleRequest(null, s.Cron, s.EveryMs, s.TimeZone,
                new JobTemplateRequest(s.Job.Queue, s.Job.Type, new RawJson(s.Job.Payload), s.Job.Priority, s.Job.MaxAttempts, s.Job.TimeoutMs, [.. s.Job.Tags]),
                s.Overlap.ToWire(), s.CatchUp.ToWire(), s.CatchUpLimit, s.JitterMs, s.StartAt, s.EndAt, null, null),
            MonitorDefinition m => new MonitorRequest(null, m.Slug, m.PeriodSeconds, m.Cron, m.TimeZone, m.GraceSeconds, m.MaxRuntimeSeconds,
                m.StartGraceSeconds, m.FailureThreshold, [.. m.Tags], null, null),
            AlertRuleDefinition a => new AlertRuleRequest(null, a.Kind.ToWire(), a.Queue, a.JobType, a.Threshold, a.WindowMs, a.RatePercent, a.MinJobs,
                a.MaxAgeMs, [.. a.MonitorStates], a.Monitor, a.Schedule, [.. a.Channels], a.CooldownMs, a.Enabled),
            _ => throw new ArgumentException($"not a manifest definition: {definition.GetType().Name}", nameof(definition)),
        };
        var spec = (JsonObject)JsonSerializer.SerializeToNode(request, request.GetType(), Json.Options)!;
        foreach (var name in ManifestSchema.NotInSpec) spec.Remove(name);
        return (JsonObject)WithoutNulls(spec)!;
    }

    private static JsonNode? WithoutNulls(JsonNode? node)
    {
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
