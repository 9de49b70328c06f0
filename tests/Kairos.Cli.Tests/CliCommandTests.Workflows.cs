using System.Net;
using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;

namespace Kairos.Cli.Tests;

/// <summary><c>kairos workflows list|get|create|cancel|retry</c>, the steps moved by a worker on the HTTP protocol.</summary>
public sealed partial class CliCommandTests
{
    private const string DiamondJson = """
        {"name": "etl", "steps": [
          {"id": "source", "job": {"queue": "wf", "type": "etl.extract", "payload": {"day": "2026-12-01"}}},
          {"id": "left", "job": {"queue": "wf", "type": "etl.left"}, "depends_on": ["source"]},
          {"id": "right", "job": {"queue": "wf", "type": "etl.right"}, "depends_on": ["source"]},
          {"id": "join", "job": {"queue": "wf", "type": "etl.join"}, "depends_on": ["left", "right"]}
        ]}
        """;

    /// <summary>Fetches the next job of queue <c>wf</c> as worker <paramref name="worker"/>: its step and lease.</summary>
    private async Task<(Guid Id, string Step, string Lease)> FetchStepAsync(Guid worker)
    {
        using var response = await _server.Api.FetchAsync(worker, "wf", 5000);
        await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
        var job = Assert.Single((await response.ReadJsonAsync()).GetProperty("jobs").EnumerateArray());
        return (job.GetProperty("id").GetGuid(), job.GetProperty("workflow_step").GetString()!, job.GetProperty("lease_token").GetString()!);
    }

    [Fact]
    public async Task Workflows_create_from_a_file_get_with_step_states_list_cancel_retry_with_json_and_exit_codes()
    {
        var file = Path.Combine(_server.Root, "etl.json");
        await File.WriteAllTextAsync(file, DiamondJson);
        var created = await _server.RunAsync("workflows", "create", "-f", file, "--json");
        Ok(created);
        var id = created.Json().GetProperty("id").GetString()!;
        Assert.Equal("running", created.Json().GetProperty("state").GetString());
        Assert.Equal(4, created.Json().GetProperty("steps_total").GetInt32());

        // A worker on the HTTP protocol: the source succeeds, left succeeds, right fails for good; join is cancelled.
        var worker = await _server.Api.RegisterWorkerAsync("cli-wf", "wf");
        var source = await FetchStepAsync(worker);
        Assert.Equal("source", source.Step);
        await KairosApi.EnsureStatusAsync(await _server.Api.PostJsonAsync($"api/v1/jobs/{source.Id}/ack", new { LeaseToken = source.Lease, Result = new { rows = 3 } }), HttpStatusCode.OK);
        var first = await FetchStepAsync(worker);
        var second = await FetchStepAsync(worker);
        var (left, right) = first.Step == "left" ? (first, second) : (second, first);
        await KairosApi.EnsureStatusAsync(await _server.Api.PostJsonAsync($"api/v1/jobs/{left.Id}/ack", new { LeaseToken = left.Lease }), HttpStatusCode.OK);
        await KairosApi.EnsureStatusAsync(await _server.Api.PostJsonAsync($"api/v1/jobs/{right.Id}/fail",
            new { LeaseToken = right.Lease, Error = new { Message = "right side exploded" }, Retryable = false }), HttpStatusCode.OK);

        var get = await _server.RunAsync("workflows", "get", "etl");
        Ok(get);
        Assert.Contains(id, get.Stdout, StringComparison.Ordinal);
        var lines = get.Stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("State", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("source", StringComparison.Ordinal) && l.Contains("succeeded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("right", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal)
            && l.Contains("right side exploded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("join", StringComparison.Ordinal) && l.Contains("cancelled", StringComparison.Ordinal)
            && l.Contains("left, right", StringComparison.Ordinal));
        var byId = (await _server.RunAsync("workflows", "get", id, "--json")).Json();
        var states = byId.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!, s => s.GetProperty("state").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["source"] = "succeeded", ["left"] = "succeeded", ["right"] = "failed", ["join"] = "cancelled" }, states);

        var failed = await _server.RunAsync("workflows", "list", "--state", "failed", "--json");
        Ok(failed);
        Assert.Equal(id, Assert.Single(failed.Json().GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        var table = await _server.RunAsync("workflows", "list");
        Ok(table);
        Assert.Contains("etl", table.Stdout, StringComparison.Ordinal);
        Assert.Contains(table.Stdout.Split('\n'), l => l.Contains("etl", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal)
            && l.Contains("4/4", StringComparison.Ordinal));
        Assert.Contains("No workflows.", (await _server.RunAsync("workflows", "list", "--state", "running")).Stdout, StringComparison.Ordinal);

        // Retry runs right and join again (source and left keep their results); then cancel; a second cancel is a 409.
        var retried = await _server.RunAsync("workflows", "retry", id, "--json");
        Ok(retried);
        var after = retried.Json().GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!, s => s.GetProperty("state").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["source"] = "succeeded", ["left"] = "succeeded", ["right"] = "queued", ["join"] = "pending" }, after);
        Assert.Contains("409", Failed(await _server.RunAsync("workflows", "retry", id), 1), StringComparison.Ordinal);
        var cancelled = await _server.RunAsync("workflows", "cancel", "etl");
        Ok(cancelled);
        Assert.Contains("Workflow etl cancelled", cancelled.Stdout, StringComparison.Ordinal);
        Assert.Contains("nothing left to cancel", Failed(await _server.RunAsync("workflows", "cancel", id), 1), StringComparison.Ordinal);

        // Mistakes: a cycle (the server's 422 in one line), no such workflow, a missing or unreadable file.
        var cycle = Path.Combine(_server.Root, "cycle.json");
        await File.WriteAllTextAsync(cycle, """{"name":"loop","steps":[{"id":"a","job":{"queue":"wf","type":"t"},"depends_on":["b"]},{"id":"b","job":{"queue":"wf","type":"t"},"depends_on":["a"]}]}""");
        var refused = Failed(await _server.RunAsync("workflows", "create", "-f", cycle), 1);
        Assert.Contains("cycle", refused, StringComparison.Ordinal);
        Assert.Contains("422", refused, StringComparison.Ordinal);
        Assert.Contains("no workflow 'nope'", Failed(await _server.RunAsync("workflows", "get", "nope"), 1), StringComparison.Ordinal);
        Assert.Contains("404", Failed(await _server.RunAsync("workflows", "get", Guid.NewGuid().ToString()), 1), StringComparison.Ordinal);
        Assert.Contains("missing.json", Failed(await _server.RunAsync("workflows", "create", "-f", Path.Combine(_server.Root, "missing.json")), 2), StringComparison.Ordinal);
        var notJson = Path.Combine(_server.Root, "bad.json");
        await File.WriteAllTextAsync(notJson, "{\"name\": ");
        Assert.Contains("not a workflow definition", Failed(await _server.RunAsync("workflows", "create", "-f", notJson), 2), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Array, (await _server.RunAsync("workflows", "list", "--json")).Json().GetProperty("items").ValueKind);
    }

    [Fact]
    public async Task Workflow_templates_put_list_get_run_and_a_schedule_that_starts_one()
    {
        var file = Path.Combine(_server.Root, "etl.json");
        await File.WriteAllTextAsync(file, DiamondJson);
        var saved = await _server.RunAsync("workflows", "templates", "put", "etl", "-f", file);
        Ok(saved);
        Assert.Contains("Workflow template etl saved", saved.Stdout, StringComparison.Ordinal);
        Assert.Contains(saved.Stdout.Split('\n'), l => l.Contains("join", StringComparison.Ordinal) && l.Contains("left, right", StringComparison.Ordinal));
        var list = await _server.RunAsync("workflows", "templates", "list");
        Ok(list);
        Assert.Contains(list.Stdout.Split('\n'), l => l.Contains("etl", StringComparison.Ordinal) && l.Contains("source", StringComparison.Ordinal));
        var got = (await _server.RunAsync("workflows", "templates", "get", "etl", "--json")).Json();
        Assert.Equal(4, got.GetProperty("steps").GetArrayLength());

        var run = await _server.RunAsync("workflows", "templates", "run", "etl", "--json");
        Ok(run);
        Assert.Equal("etl", run.Json().GetProperty("name").GetString());

        // A schedule that starts the template; triggered, its runs show the instance.
        Assert.Contains("--type TYPE", Failed(await _server.RunAsync("schedules", "create", "both", "--cron", "@daily", "--type", "t", "--workflow", "etl"), 2), StringComparison.Ordinal);
        Assert.Contains("workflow", Failed(await _server.RunAsync("schedules", "create", "none", "--cron", "@daily", "--workflow", "nope"), 1), StringComparison.Ordinal);
        var created = await _server.RunAsync("schedules", "create", "nightly-etl", "--cron", "0 3 * * *", "--workflow", "etl");
        Ok(created);
        Assert.Contains("template etl", created.Stdout, StringComparison.Ordinal);
        var triggered = await _server.RunAsync("schedules", "trigger", "nightly-etl", "--json");
        Ok(triggered);
        var instance = triggered.Json().GetProperty("workflow").GetProperty("id").GetString()!;
        var runs = await _server.RunAsync("schedules", "runs", "nightly-etl");
        Ok(runs);
        Assert.Contains("workflow " + instance, runs.Stdout, StringComparison.Ordinal);
        Assert.Contains(instance, (await _server.RunAsync("workflows", "list", "--name", "etl")).Stdout, StringComparison.Ordinal);

        Assert.Contains("nightly-etl", Failed(await _server.RunAsync("workflows", "templates", "delete", "etl"), 1), StringComparison.Ordinal);
        Ok(await _server.RunAsync("schedules", "delete", "nightly-etl"));
        Ok(await _server.RunAsync("workflows", "templates", "delete", "etl"));
        Assert.Contains("No workflow templates.", (await _server.RunAsync("workflows", "templates", "list")).Stdout, StringComparison.Ordinal);
        Assert.Contains("404", Failed(await _server.RunAsync("workflows", "templates", "run", "etl"), 1), StringComparison.Ordinal);
    }
}
