using System.Net;
using System.Net.Http.Json;

namespace Kairos.Cli.Tests;

/// <summary><c>kairos validate -f</c> (offline), <c>kairos apply -f [--dry-run] [--prune]</c> and <c>kairos unmanage</c> against a real server.</summary>
public sealed partial class CliCommandTests
{
    private const string OpsManifests = """
        apiVersion: kairos/v1
        kind: Queue
        metadata: {name: mail}
        spec: {concurrency_limit: 4}
        ---
        kind: Schedule
        metadata: {name: nightly-report}
        spec:
          cron: "0 3 * * *"
          timezone: Europe/Berlin
          job: {queue: mail, type: report.send, payload: {to: ops@example.com}}
        ---
        kind: Monitor
        metadata: {name: backup}
        spec: {period_seconds: 3600, grace_seconds: 600}
        """;

    private string ManifestFolder(params (string Name, string Text)[] files)
    {
        var dir = Path.Combine(_server.Root, "manifests-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        foreach (var (name, text) in files)
        {
            var path = Path.Combine(dir, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        return dir;
    }

    [Fact]
    public async Task Validate_reports_each_error_with_file_line_and_column_and_exits_1()
    {
        var dir = ManifestFolder(("ok.yaml", OpsManifests), ("team/bad.yml", """
            kind: Schedule
            metadata: {name: broken}
            spec:
              cron: "61 * * * *"
              job: {queue: q, type: t}
            ---
            kind: Queue
            metadata: {name: mail}
            spec: {concurrncy_limit: 3}
            """));
        var bad = await _server.RunAsync("validate", "-f", dir);
        Assert.Equal(1, bad.ExitCode);
        var file = Path.Combine(dir, "team", "bad.yml");
        Assert.Contains(bad.Stderr, l => l.StartsWith($"{file}:4:9: spec.cron: ", StringComparison.Ordinal));
        Assert.Contains(bad.Stderr, l => l.StartsWith($"{file}:9:26: spec.concurrncy_limit: is not a field of spec", StringComparison.Ordinal));
        Assert.Equal("kairos: 2 error(s).", bad.Stderr[^1]);

        var good = await _server.RunAsync("validate", "-f", Path.Combine(dir, "ok.yaml"));
        Ok(good);
        Assert.Contains("3 object(s) in 3 document(s) of 1 file(s): valid.", good.Stdout, StringComparison.Ordinal);

        // Offline: no server needed.
        var offline = await _server.RunWithAsync(new Dictionary<string, string> { ["KAIROS_URL"] = "http://127.0.0.1:9" }, "validate", "-f", Path.Combine(dir, "ok.yaml"), "--json");
        Ok(offline);
        Assert.True(offline.Json().GetProperty("valid").GetBoolean());

        Assert.Contains("No file or folder", Failed(await _server.RunAsync("validate", "-f", Path.Combine(dir, "absent")), 2), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_prints_the_diff_applies_once_and_prunes_what_the_files_no_longer_declare()
    {
        var dir = ManifestFolder(("ops.yaml", OpsManifests));

        var dry = await _server.RunAsync("apply", "-f", dir, "--dry-run");
        Ok(dry);
        Assert.Contains("+ create    Schedule nightly-report", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("Dry run: 3 to create, 0 to update, 0 to delete, 0 unchanged; nothing changed.", dry.Stdout, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Api.GetAsync("/api/v1/schedules/nightly-report")).StatusCode);

        var first = await _server.RunAsync("apply", "-f", dir);
        Ok(first);
        Assert.Contains("Applied: 3 to create, 0 to update, 0 to delete, 0 unchanged.", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _server.Api.GetAsync("/api/v1/schedules/nightly-report")).StatusCode);

        var again = await _server.RunAsync("apply", "-f", dir, "--json");
        Ok(again);
        Assert.All(again.Json().GetProperty("changes").EnumerateArray(), c => Assert.Equal("unchanged", c.GetProperty("action").GetString()));

        // A hand edit is refused with the way out; unmanage, then the edit goes through.
        var refused = await _server.Api.PatchAsync("/api/v1/queues/mail", JsonContent.Create(new { concurrency_limit = 9 }));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("kairos unmanage Queue mail", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The monitor leaves the files, the schedule changes: an update naming the field, a delete with --prune.
        File.WriteAllText(Path.Combine(dir, "ops.yaml"), OpsManifests.Replace("\"0 3 * * *\"", "\"30 4 * * *\"", StringComparison.Ordinal)
            .Split("---\nkind: Monitor", StringSplitOptions.None)[0]);
        var update = await _server.RunAsync("apply", "-f", dir);
        Ok(update);
        Assert.Contains("~ update    Schedule nightly-report (cron)", update.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Monitor", update.Stdout, StringComparison.Ordinal);
        var pruned = await _server.RunAsync("apply", "-f", dir, "--prune");
        Ok(pruned);
        Assert.Contains("- delete    Monitor backup", pruned.Stdout, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Api.GetAsync("/api/v1/monitors/backup")).StatusCode);

        var unmanaged = await _server.RunAsync("unmanage", "Queue", "mail");
        Ok(unmanaged);
        var patched = await _server.Api.PatchAsync("/api/v1/queues/mail", JsonContent.Create(new { concurrency_limit = 9 }));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        // An error only the server can see (a channel that does not exist) is placed in the file too; nothing is applied.
        File.WriteAllText(Path.Combine(dir, "rules.yaml"), """
            kind: AlertRule
            metadata: {name: mail-failures}
            spec: {kind: job_failed, queue: mail, channels: [nope]}
            """);
        var unknown = await _server.RunAsync("apply", "-f", dir);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains(unknown.Stderr, l => l.StartsWith(Path.Combine(dir, "rules.yaml") + ":3:", StringComparison.Ordinal) && l.Contains("no channel 'nope'", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Api.GetAsync("/api/v1/alert-rules/mail-failures")).StatusCode);
        // The queue kept its hand edit: the refused apply did not take it back.
        Assert.Equal(9, (await _server.Api.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/queues/mail")).GetProperty("concurrency_limit").GetInt32());
    }
}
