using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Kairos.Core.Alerts;
using Kairos.Core.Manifests;
using Kairos.Core.Schedules;
using Kairos.Server.Apis;
using Kairos.Server.Http;

namespace Kairos.Server.Manifests;

/// <summary>
/// The JSON Schema of manifest documents (served at <c>GET /api/v1/manifests/schema</c>). Each kind's <c>spec</c> is
/// generated from the request record its API takes (<see cref="SpecTypes"/>), the very type
/// <see cref="ManifestValidator"/> reads the spec into, so the schema and the validator cannot drift; the validator
/// also checks every document against this schema (<see cref="Check"/>).
/// </summary>
public static class ManifestSchema
{
    /// <summary>The request record each kind's spec is (the API's body for that object, less its name and pause state).</summary>
    public static readonly IReadOnlyDictionary<ManifestKind, Type> SpecTypes = new Dictionary<ManifestKind, Type>
    {
        [ManifestKind.Queue] = typeof(UpsertQueueRequest),
        [ManifestKind.Schedule] = typeof(ScheduleRequest),
        [ManifestKind.Monitor] = typeof(MonitorRequest),
        [ManifestKind.AlertRule] = typeof(AlertRuleRequest),
        [ManifestKind.Workflow] = typeof(WorkflowRequest),
    };

    /// <summary>Request fields that are not part of a spec: the name is <c>metadata.name</c>; pausing is done by hand, not declared.</summary>
    public static readonly IReadOnlySet<string> NotInSpec = new HashSet<string>(StringComparer.Ordinal) { "name", "paused", "pause_reason" };

    /// <summary>Fields whose strings are one of a few words: the schema lists them.</summary>
    private static readonly Dictionary<(Type, string), IReadOnlyList<string>> Enums = new()
    {
        [(typeof(ScheduleRequest), "overlap")] = [.. Enum.GetValues<OverlapPolicy>().Select(p => p.ToWire())],
        [(typeof(ScheduleRequest), "catch_up")] = [.. Enum.GetValues<CatchUpPolicy>().Select(p => p.ToWire())],
        [(typeof(AlertRuleRequest), "kind")] = AlertRuleKinds.Wire,
    };

    /// <summary>The API's JSON options, with the reflection resolver the exporter needs named.</summary>
    private static readonly JsonSerializerOptions SchemaOptions = new(Json.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private static readonly Lazy<JsonObject> Document = new(Build);

    /// <summary>A fresh copy of the schema.</summary>
    public static JsonObject Get() => (JsonObject)Document.Value.DeepClone();

    /// <summary>The schema of one kind's spec.</summary>
    public static JsonObject Spec(ManifestKind kind) => (JsonObject)Document.Value["$defs"]![kind.ToWire() + "Spec"]!;

    public static IEnumerable<ManifestKind> Kinds => SpecTypes.Keys;

    private static JsonObject Build()
    {
        var defs = new JsonObject();
        var cases = new JsonArray();
        foreach (var (kind, type) in SpecTypes)
        {
            defs[kind.ToWire() + "Spec"] = SpecSchema(type);
            cases.Add(new JsonObject
            {
                ["if"] = new JsonObject { ["properties"] = new JsonObject { ["kind"] = new JsonObject { ["const"] = kind.ToWire() } } },
                ["then"] = new JsonObject { ["properties"] = new JsonObject { ["spec"] = new JsonObject { ["$ref"] = $"#/$defs/{kind.ToWire()}Spec" } } },
            });
        }
        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = "https://kairos.dev/schemas/manifest-v1.json",
            ["title"] = "Kairos manifest",
            ["description"] = "One YAML document: apiVersion (optional), kind, metadata.name and spec (the fields of the API's request body for that kind).",
            ["type"] = "object",
            ["required"] = new JsonArray("kind", "metadata", "spec"),
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["apiVersion"] = new JsonObject { ["const"] = ManifestDocument.ApiVersion },
                ["kind"] = new JsonObject { ["enum"] = new JsonArray([.. SpecTypes.Keys.Select(k => (JsonNode)k.ToWire())]) },
                ["metadata"] = new JsonObject
                {
                    ["type"] = "object",
                    ["required"] = new JsonArray("name"),
                    ["additionalProperties"] = false,
                    ["properties"] = new JsonObject { ["name"] = new JsonObject { ["type"] = "string" } },
                },
                ["spec"] = new JsonObject { ["type"] = "object" },
            },
            ["allOf"] = cases,
            ["$defs"] = defs,
        };
    }

    private static JsonObject SpecSchema(Type type)
    {
        var options = new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) =>
            {
                var t = Nullable.GetUnderlyingType(context.TypeInfo.Type) ?? context.TypeInfo.Type;
                if (t == typeof(DateTimeOffset)) return new JsonObject { ["type"] = new JsonArray("string", "null"), ["format"] = "date-time" };
                if (t == typeof(RawJson)) return new JsonObject { ["description"] = "any JSON value" };
                if (node is not JsonObject o) return node;
                // Fields left out take their defaults; what a kind needs, its API's validation says (the validator's next step).
                o.Remove("required");
                if (context.PropertyInfo is { } p && context.PropertyInfo.DeclaringType is { } owner && Enums.TryGetValue((owner, p.Name), out var words))
                {
                    o["enum"] = new JsonArray([.. words.Select(w => (JsonNode)w)]);
                }
                if (o["properties"] is JsonObject) o["additionalProperties"] = false;
                return o;
            },
        };
        var schema = (JsonObject)SchemaOptions.GetJsonSchemaAsNode(type, options);
        var properties = (JsonObject)schema["properties"]!;
        foreach (var name in NotInSpec) properties.Remove(name);
        schema["type"] = "object";
        return schema;
    }

    /// <summary>
    /// The errors of a document against <see cref="Get"/>: the envelope, then the spec of its kind. Supports the keywords
    /// the schema uses (type, properties, additionalProperties, required, enum, const, items, $ref to its $defs); the
    /// tests check that the schema uses no other.
    /// </summary>
    public static void Check(JsonNode? document, Action<string, string> error)
    {
        var root = Document.Value;
        Walk(root, document, "", error, present: true);
        if (document is JsonObject o && o["kind"]?.GetValueKind() == JsonValueKind.String && ManifestKinds.TryParse((string?)o["kind"], out var kind) &&
            SpecTypes.ContainsKey(kind) && o["spec"] is JsonObject spec)
        {
            Walk(Spec(kind), spec, "spec", error, present: true);
        }
    }

    public static readonly IReadOnlySet<string> Keywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "$schema", "$id", "$defs", "$ref", "title", "description", "type", "format", "properties", "additionalProperties", "required", "enum",
        "const", "items", "allOf", "if", "then", "default",
    };

    private static void Walk(JsonObject schema, JsonNode? value, string path, Action<string, string> error, bool present)
    {
        if (!present) return;
        if (schema["type"] is { } type && !TypeMatches(type, value))
        {
            error(path, $"must be {Describe(type)}");
            return;
        }
        if (schema["const"] is { } constant && !JsonNode.DeepEquals(constant, value))
        {
            error(path, $"must be {constant.ToJsonString()}");
            return;
        }
        if (schema["enum"] is JsonArray words && !words.Any(w => JsonNode.DeepEquals(w, value)))
        {
            error(path, "must be one of " + string.Join(", ", words.Select(w => w!.GetValueKind() == JsonValueKind.String ? (string?)w : w!.ToJsonString())));
            return;
        }
        if (value is JsonObject obj)
        {
            var properties = schema["properties"] as JsonObject;
            foreach (var required in schema["required"] as JsonArray ?? [])
            {
                var name = (string)required!;
                if (!obj.ContainsKey(name)) error(Join(path, name), "is required");
            }
            foreach (var (name, child) in obj)
            {
                if (properties?[name] is JsonObject sub) Walk(sub, child, Join(path, name), error, present: true);
                else if (properties is not null && !properties.ContainsKey(name) && schema["additionalProperties"]?.GetValueKind() == JsonValueKind.False)
                {
                    error(Join(path, name), "is not a field of " + (path.Length == 0 ? "a manifest" : path) + " (known: " + string.Join(", ", properties.Select(p => p.Key)) + ")");
                }
            }
        }
        if (value is JsonArray array && schema["items"] is JsonObject items)
        {
            for (var i = 0; i < array.Count; i++) Walk(items, array[i], $"{path}[{i}]", error, present: true);
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static bool TypeMatches(JsonNode type, JsonNode? value)
    {
        IEnumerable<string> types = type is JsonArray a ? a.Select(t => (string)t!) : [(string)type!];
        return types.Any(t => t switch
        {
            "null" => value is null,
            "object" => value is JsonObject,
            "array" => value is JsonArray,
            "string" => value?.GetValueKind() == JsonValueKind.String,
            "boolean" => value?.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
            "number" => value?.GetValueKind() == JsonValueKind.Number,
            "integer" => value?.GetValueKind() == JsonValueKind.Number && value.ToJsonString().All(c => char.IsAsciiDigit(c) || c == '-'),
            _ => false,
        });
    }

    private static string Describe(JsonNode type)
    {
        IEnumerable<string> types = type is JsonArray a ? a.Select(t => (string)t!) : [(string)type!];
        return string.Join(" or ", types.Select(t => t switch
        {
            "object" => "a mapping",
            "array" => "a list",
            "integer" => "a whole number",
            "boolean" => "true or false",
            _ => "a " + t,
        }));
    }
}
