using System.Text.Json;
using System.Text.Json.Nodes;
using Kairos.Core.Manifests;
using Kairos.Core.Schedules;
using Kairos.Server.Manifests;

namespace Kairos.Server.Tests;

/// <summary>
/// Manifests checked offline, as <c>kairos validate</c> does: YAML with several documents, every error with
/// <c>file:line:column</c>, cron by Cronos, names declared twice; and the JSON Schema against the validator.
/// </summary>
public sealed class ManifestValidationTests
{
    private static ManifestSet Check(string yaml, string file = "ops/jobs.yaml")
    {
        var (documents, errors) = ManifestParser.Parse(file, yaml);
        var set = ManifestValidator.Check(documents, TimeProvider.System, 1024 * 1024);
        return new ManifestSet(set.Objects, [.. errors, .. set.Errors]);
    }

    private const string Valid = """
        apiVersion: kairos/v1
        kind: Queue
        metadata:
          name: mail
        spec:
          concurrency_limit: 5
        ---
        kind: Schedule
        metadata:
          name: nightly-report
        spec:
          cron: "0 3 * * *"
          timezone: Europe/Berlin
          overlap: skip
          job:
            queue: mail
            type: report.send
            payload: {to: ops@example.com, pages: 3, draft: false}
            tags: [nightly]
        ---
        kind: Monitor
        metadata: {name: backup}
        spec:
          period_seconds: 3600
          grace_seconds: 600
        ---
        kind: AlertRule
        metadata: {name: mail-failures}
        spec:
          kind: job_failed
          queue: mail
          threshold: 3
          window_ms: 600000
          channels: [ops-slack]
        ---
        """;

    [Fact]
    public void A_file_of_several_documents_of_every_kind_is_valid()
    {
        var set = Check(Valid);
        Assert.True(set.Ok, string.Join("\n", set.Errors));
        Assert.Equal([ManifestKind.Queue, ManifestKind.Schedule, ManifestKind.Monitor, ManifestKind.AlertRule], set.Objects.Select(o => o.Kind));
        var schedule = (ScheduleDefinition)set.Objects[1].Definition;
        Assert.Equal("0 3 * * *", schedule.Cron);
        Assert.Equal(OverlapPolicy.Skip, schedule.Overlap);
        // YAML scalars keep their JSON types in the payload.
        var payload = JsonNode.Parse(schedule.Job!.Payload)!;
        Assert.Equal(3, (int)payload["pages"]!);
        Assert.False((bool)payload["draft"]!);
        Assert.Equal("ops@example.com", (string?)payload["to"]);
    }

    [Fact]
    public void Each_error_names_the_file_line_and_column_of_the_field()
    {
        var set = Check("""
            kind: Schedule
            metadata:
              name: nightly
            spec:
              cron: "0 3 * * * * * *"
              job:
                queue: mail
                type: report
            ---
            kind: Schedule
            metadata: {name: weekly}
            spec:
              cron: "@weekly"
              job:
                queue: mail
                type: report
                priority: high
            ---
            kind: Monitor
            metadata:
              name: backup
            spec:
              period_seconds: 3600
              grace: 600
            ---
            kind: Widget
            metadata:
              name: w
            spec: {}
            ---
            kind: Queue
            metadata: {}
            spec:
              concurrency_limit: 0
            """);
        var errors = set.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:5:9: spec.cron: ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:17:15: spec.job.priority: must be a whole number", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:24:10: spec.grace: is not a field of spec", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:26:7: kind: must be one of Queue, Schedule, Monitor, AlertRule", StringComparison.Ordinal));
        // A missing field is placed at its parent.
        Assert.Contains(errors, e => e == "ops/jobs.yaml:32:11: metadata.name: is required");
        Assert.Empty(set.Objects);
    }

    [Fact]
    public void Semantic_errors_come_from_the_same_checks_as_the_API_with_positions()
    {
        var set = Check("""
            kind: Schedule
            metadata: {name: every-5}
            spec:
              every_ms: 300000
              cron: "*/5 * * * *"
              timezone: Mars/Olympus
              job: {queue: q, type: t}
            ---
            kind: Queue
            metadata: {name: q}
            spec:
              concurrency_limit: 0
              rate_limit: {limit: 10}
            ---
            kind: Monitor
            metadata: {name: feb}
            spec:
              cron: "0 0 31 2 *"
            """);
        var errors = set.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:5:9: spec.cron: give cron or every_ms, not both", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:6:13: spec.timezone: ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:12:22: spec.concurrency_limit: must be between 1 and 1000000", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:13:15: spec.rate_limit.period_ms: is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:18:9: spec.cron: never matches a date", StringComparison.Ordinal));
    }

    [Fact]
    public void Names_declared_twice_and_monitor_slugs_used_twice_are_refused()
    {
        var set = Check("""
            kind: Queue
            metadata: {name: mail}
            spec: {}
            ---
            kind: Queue
            metadata: {name: mail}
            spec: {concurrency_limit: 2}
            ---
            kind: Schedule
            metadata: {name: mail}
            spec: {cron: "@daily", job: {queue: mail, type: t}}
            ---
            kind: Monitor
            metadata: {name: a}
            spec: {slug: shared, period_seconds: 3600}
            ---
            kind: Monitor
            metadata: {name: b}
            spec: {slug: shared, period_seconds: 3600}
            """);
        var errors = set.Errors.Select(e => e.ToString()).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains("ops/jobs.yaml:6:18: metadata.name: Queue 'mail' is declared twice (also at ops/jobs.yaml:2:18)", errors);
        Assert.Contains(errors, e => e.StartsWith("ops/jobs.yaml:19:14: spec.slug: the slug 'shared' is another monitor's", StringComparison.Ordinal));
    }

    [Fact]
    public void A_workflow_template_is_checked_as_a_workflow_and_a_schedule_may_start_it()
    {
        var set = Check("""
            kind: Workflow
            metadata: {name: etl}
            spec:
              steps:
                - id: extract
                  job: {queue: etl, type: extract}
                - id: load
                  job: {queue: etl, type: load}
                  depends_on: [extract]
            ---
            kind: Schedule
            metadata: {name: nightly-etl}
            spec: {cron: "@daily", workflow: etl}
            ---
            kind: Workflow
            metadata: {name: loop}
            spec:
              steps:
                - id: a
                  job: {queue: q, type: t}
                  depends_on: [b]
                - id: b
                  job: {queue: q, type: t}
                  depends_on: [a]
            """);
        var errors = set.Errors.Select(e => e.ToString()).ToList();
        var error = Assert.Single(errors);
        Assert.Contains("cycle", error, StringComparison.Ordinal);
        // Placed in the cyclic template's steps (line 19 on).
        Assert.Matches(@"^ops/jobs\.yaml:(19|2[0-6]):\d+: spec\.steps", error);

        var valid = Check(Valid + "\n" + """
            kind: Workflow
            metadata: {name: etl}
            spec:
              steps:
                - {id: extract, job: {queue: etl, type: extract}}
                - {id: load, job: {queue: etl, type: load}, depends_on: [extract], continue_on_failure: true}
            """);
        Assert.True(valid.Ok, string.Join("\n", valid.Errors));
        var template = Assert.IsType<WorkflowTemplateDefinition>(valid.Objects[^1].Definition);
        Assert.Equal(["extract"], template.Steps[1].DependsOn);
        Assert.True(template.Steps[1].ContinueOnFailure);
    }

    [Fact]
    public void Broken_YAML_is_an_error_at_its_position()
    {
        var set = Check("kind: Queue\nmetadata:\n  name: mail\n   extra: oops\nspec: {}\n");
        var error = Assert.Single(set.Errors);
        Assert.StartsWith("ops/jobs.yaml:4:", error.Location, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_schema_uses_only_keywords_the_validator_checks_and_lists_the_request_fields()
    {
        var schema = ManifestSchema.Get();
        void Walk(JsonNode? node)
        {
            if (node is JsonArray a)
            {
                foreach (var item in a) Walk(item);
                return;
            }
            if (node is not JsonObject o) return;
            foreach (var (key, value) in o)
            {
                Assert.True(ManifestSchema.Keywords.Contains(key), $"keyword '{key}' is not checked by the validator");
                if (key is "properties" or "$defs")
                {
                    foreach (var (_, sub) in (JsonObject)value!) Walk(sub);
                }
                else Walk(value);
            }
        }
        Walk(schema);

        foreach (var (kind, type) in ManifestSchema.SpecTypes)
        {
            var properties = ((JsonObject)ManifestSchema.Spec(kind)["properties"]!).Select(p => p.Key).Order();
            var fields = type.GetProperties().Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)).Where(f => !ManifestSchema.NotInSpec.Contains(f)).Order();
            Assert.Equal(fields, properties);
        }
        // The words the schema lists are the ones the validator accepts.
        var overlap = ManifestSchema.Spec(ManifestKind.Schedule)["properties"]!["overlap"]!["enum"]!.AsArray().Select(w => (string)w!);
        Assert.Equal(Enum.GetValues<OverlapPolicy>().Select(p => p.ToWire()), overlap);
    }

    [Fact]
    public void Every_spec_the_validator_accepts_passes_the_schema_and_its_normal_form_validates_again()
    {
        var set = Check(Valid);
        Assert.True(set.Ok);
        foreach (var o in set.Objects)
        {
            var doc = new JsonObject { ["kind"] = o.Kind.ToWire(), ["metadata"] = new JsonObject { ["name"] = o.Name }, ["spec"] = o.Spec.DeepClone() };
            var errors = new List<string>();
            ManifestSchema.Check(doc, (path, message) => errors.Add($"{path}: {message}"));
            Assert.Empty(errors);
            var again = ManifestValidator.Check([new ManifestDocument("normal", doc, new Dictionary<string, SourceMark>())], TimeProvider.System, 1024 * 1024);
            Assert.True(again.Ok, string.Join("\n", again.Errors));
            Assert.True(JsonNode.DeepEquals(o.Spec, again.Objects[0].Spec));
        }
    }
}
