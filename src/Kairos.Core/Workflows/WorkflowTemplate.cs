using System.Text;
using System.Text.Json;
using Kairos.Core.Schedules;

namespace Kairos.Core.Workflows;

/// <summary>One step of a workflow template: a job template, the steps it waits for, and what its failure does.</summary>
public sealed record WorkflowTemplateStep
{
    public required string Id { get; init; }
    public required JobTemplate Job { get; init; }
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    public bool ContinueOnFailure { get; init; }
}

/// <summary>
/// A named, stored workflow per organization, run by hand (<c>POST /workflow-templates/{name}/run</c>) or by a
/// schedule. Its steps are one JSON document on the template's row; every run copies them into a new workflow
/// instance (its own steps and jobs), so changing or deleting the template never reaches instances already made.
/// </summary>
public sealed record WorkflowTemplate
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    /// <summary>Unique per organization; the template is addressed by it, and its instances carry it as their name.</summary>
    public required string Name { get; init; }
    public required IReadOnlyList<WorkflowTemplateStep> Steps { get; init; }
    /// <summary>What manages the template (e.g. <c>manifest</c>); null when it is managed by hand.</summary>
    public string? ManagedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The definition of a new instance: the steps as they are now, the jobs due at <paramref name="at"/>.</summary>
    public WorkflowDefinition Instantiate(DateTimeOffset at) => new()
    {
        Name = Name,
        Steps = [.. Steps.Select(s => new WorkflowStepDefinition { Id = s.Id, Job = s.Job.ToNewJob(at, null), DependsOn = s.DependsOn, ContinueOnFailure = s.ContinueOnFailure })],
    };

    /// <summary>The template's steps as stored: <c>[{"id", "job": {...}, "depends_on": [...], "continue_on_failure"}]</c>.</summary>
    public static string StepsJson(IReadOnlyList<WorkflowTemplateStep> steps)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var s in steps)
            {
                w.WriteStartObject();
                w.WriteString("id", s.Id);
                w.WritePropertyName("job");
                w.WriteRawValue(s.Job.ToJson(), skipInputValidation: true);
                w.WriteStartArray("depends_on");
                foreach (var d in s.DependsOn) w.WriteStringValue(d);
                w.WriteEndArray();
                w.WriteBoolean("continue_on_failure", s.ContinueOnFailure);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static IReadOnlyList<WorkflowTemplateStep> ReadSteps(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.EnumerateArray().Select(e => new WorkflowTemplateStep
        {
            Id = e.GetProperty("id").GetString()!,
            Job = JobTemplate.FromJson(e.GetProperty("job").GetRawText()),
            DependsOn = [.. e.GetProperty("depends_on").EnumerateArray().Select(d => d.GetString()!)],
            ContinueOnFailure = e.GetProperty("continue_on_failure").GetBoolean(),
        })];
    }
}
