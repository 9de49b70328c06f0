using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Kairos.Client;

/// <summary>One object's change in a manifest apply: <c>create</c>, <c>update</c> (with the spec fields that change), <c>unchanged</c> or <c>delete</c>.</summary>
public sealed class ManifestChange
{
    /// <summary>Queue, Schedule, Monitor, AlertRule or Workflow.</summary>
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    public string Action { get; init; } = "";
    public IReadOnlyList<string> Fields { get; init; } = [];
}

/// <summary>What an apply did (or, with a dry run, would do).</summary>
public sealed class ManifestApplyResult
{
    public bool DryRun { get; init; }
    /// <summary>False for a dry run, or when nothing needed to change.</summary>
    public bool Applied { get; init; }
    public IReadOnlyList<ManifestChange> Changes { get; init; } = [];
}

/// <summary>An object a manifest manages (<c>managed_by</c> null once unmarked).</summary>
public sealed class ManagedObject
{
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    public string? ManagedBy { get; init; }
}

internal sealed class ApplyManifestsBody
{
    public required IReadOnlyList<JsonNode?> Manifests { get; init; }
    public bool DryRun { get; init; }
    public bool Prune { get; init; }
}

internal sealed class UnmanageBody
{
    public required string Kind { get; init; }
    public required string Name { get; init; }
}

/// <summary>Source-generated JSON of the manifest types (snake_case, like the rest of the API).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApplyManifestsBody))]
[JsonSerializable(typeof(UnmanageBody))]
[JsonSerializable(typeof(ManifestApplyResult))]
[JsonSerializable(typeof(ManagedObject))]
[JsonSerializable(typeof(Page<ManagedObject>))]
internal sealed partial class KairosManifestJson : JsonSerializerContext;
