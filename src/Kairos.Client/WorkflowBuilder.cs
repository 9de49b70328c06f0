using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Kairos.Client;

/// <summary>
/// Builds a workflow step by step:
/// <code>
/// var etl = new WorkflowBuilder("nightly-etl")
///     .Step("extract", "etl.extract", new Extract(day))
///     .Step("clean", "etl.clean").DependsOn("extract")
///     .Step("enrich", "etl.enrich", options: new EnqueueOptions { Queue = "slow" }).DependsOn("extract").ContinueOnFailure()
///     .Step("load", "etl.load").DependsOn("clean", "enrich");
/// var workflow = await client.CreateWorkflowAsync(etl);
/// </code>
/// <see cref="DependsOn"/> and <see cref="ContinueOnFailure"/> apply to the step added last. A step may only depend on
/// steps added before it, so a built graph has no cycle and no unknown parent; step ids are checked as the server checks
/// them, when they are added. Mistakes throw <see cref="ArgumentException"/> at the call that makes them, before
/// anything is sent.
/// </summary>
public sealed class WorkflowBuilder
{
    /// <summary>Most steps a workflow may have (the server's limit).</summary>
    public const int MaxSteps = 5_000;

    private readonly List<PendingStep> _steps = [];
    private readonly Dictionary<string, PendingStep> _byId = new(StringComparer.Ordinal);

    public WorkflowBuilder(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>The workflow's name (a label; runs of the same workflow share it).</summary>
    public string Name { get; }

    /// <summary>The step ids, in the order they were added.</summary>
    public IReadOnlyList<string> StepIds => [.. _steps.Select(s => s.Id)];

    /// <summary>Adds a step whose job has no payload.</summary>
    public WorkflowBuilder Step(string id, string type, EnqueueOptions? options = null) =>
        Add(id, type, _ => null, options);

    /// <summary>Adds a step whose payload is serialized with the client's payload options.</summary>
    public WorkflowBuilder Step<T>(string id, string type, T payload, EnqueueOptions? options = null) =>
        Add(id, type, o => JsonSerializer.SerializeToElement(payload, o), options);

    /// <summary>Adds a step whose payload is serialized with source-generated metadata.</summary>
    public WorkflowBuilder Step<T>(string id, string type, T payload, JsonTypeInfo<T> typeInfo, EnqueueOptions? options = null) =>
        Add(id, type, _ => JsonSerializer.SerializeToElement(payload, typeInfo), options);

    /// <summary>The step added last starts once these steps (added before it) have succeeded.</summary>
    public WorkflowBuilder DependsOn(params string[] parents)
    {
        ArgumentNullException.ThrowIfNull(parents);
        var step = Last(nameof(DependsOn));
        foreach (var parent in parents)
        {
            if (parent == step.Id) throw new ArgumentException($"step \"{step.Id}\" cannot depend on itself", nameof(parents));
            if (!_byId.ContainsKey(parent ?? ""))
            {
                throw new ArgumentException(
                    $"step \"{step.Id}\" depends on \"{parent}\", which is not a step added before it (add parents first: then the steps cannot form a cycle)",
                    nameof(parents));
            }
            if (step.Parents.Contains(parent!)) throw new ArgumentException($"step \"{step.Id}\" names \"{parent}\" twice", nameof(parents));
            step.Parents.Add(parent!);
        }
        return this;
    }

    /// <summary>When the step added last fails, its children start anyway (and the workflow does not fail for it).</summary>
    public WorkflowBuilder ContinueOnFailure(bool value = true)
    {
        Last(nameof(ContinueOnFailure)).ContinueOnFailure = value;
        return this;
    }

    /// <summary>
    /// The definition to send: payloads serialized with <paramref name="payloadOptions"/> (what
    /// <see cref="KairosClient.CreateWorkflowAsync(WorkflowBuilder, CancellationToken)"/> passes: the client's), steps
    /// without a queue on <paramref name="defaultQueue"/>.
    /// </summary>
    public WorkflowDefinition Build(JsonSerializerOptions? payloadOptions = null, string defaultQueue = "default")
    {
        if (_steps.Count == 0) throw new InvalidOperationException($"workflow \"{Name}\" has no step: add one with Step(...)");
        var options = payloadOptions ?? KairosJson.PayloadDefaults;
        return new WorkflowDefinition
        {
            Name = Name,
            Steps = [.. _steps.Select(s => new WorkflowStepDefinition
            {
                Id = s.Id,
                Job = new ScheduleJobTemplate
                {
                    Queue = s.Options?.Queue ?? defaultQueue,
                    Type = s.Type,
                    Payload = s.Payload(options),
                    Priority = s.Options?.Priority,
                    MaxAttempts = s.Options?.MaxAttempts,
                    TimeoutMs = s.Options?.Timeout is { } t ? (int)Math.Ceiling(t.TotalMilliseconds) : null,
                    Tags = s.Options?.Tags,
                },
                DependsOn = s.Parents.Count == 0 ? null : [.. s.Parents],
                ContinueOnFailure = s.ContinueOnFailure ? true : null,
            })],
        };
    }

    /// <summary>The server's rule for step ids: 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit.</summary>
    public static bool IsStepId(string? id) =>
        id is { Length: > 0 and <= 100 } && char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private WorkflowBuilder Add(string id, string type, Func<JsonSerializerOptions, JsonElement?> payload, EnqueueOptions? options)
    {
        if (!IsStepId(id)) throw new ArgumentException($"step id \"{id}\" must be 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit", nameof(id));
        if (_byId.ContainsKey(id)) throw new ArgumentException($"duplicate step id \"{id}\"", nameof(id));
        ArgumentException.ThrowIfNullOrEmpty(type);
        if (options is { RunAt: not null } or { Delay: not null } or { UniqueKey: not null })
        {
            throw new ArgumentException($"step \"{id}\": a step starts when its parents are done, so RunAt, Delay and UniqueKey do not apply", nameof(options));
        }
        if (_steps.Count == MaxSteps) throw new InvalidOperationException($"a workflow has at most {MaxSteps} steps");
        var step = new PendingStep(id, type, payload, options);
        _steps.Add(step);
        _byId.Add(id, step);
        return this;
    }

    private PendingStep Last(string method) =>
        _steps.Count > 0 ? _steps[^1] : throw new InvalidOperationException($"{method} applies to the step added last: add a step first");

    private sealed class PendingStep(string id, string type, Func<JsonSerializerOptions, JsonElement?> payload, EnqueueOptions? options)
    {
        public string Id { get; } = id;
        public string Type { get; } = type;
        public Func<JsonSerializerOptions, JsonElement?> Payload { get; } = payload;
        public EnqueueOptions? Options { get; } = options;
        public List<string> Parents { get; } = [];
        public bool ContinueOnFailure { get; set; }
    }
}
