using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kairos.Cli.Tests;

/// <summary>
/// The management commands of the published <c>kairos</c> as processes against a real server process: what they print,
/// that <c>--json</c> parses, and the exit codes (0 success, 1 a failure the server reported, 2 a usage error) with one
/// line on stderr.
/// </summary>
[Collection(KairosProcessCollection.Name)]
public sealed partial class CliCommandTests(PublishedKairos kairos, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] FirstLines = ["first line", "second line"];
    private static readonly string[] LastLines = ["last line"];
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync(kairos);

    public async Task DisposeAsync()
    {
        foreach (var p in _server.Processes) output.WriteLine(p.Describe(lastLines: 10));
        await _server.DisposeAsync();
    }

    private static void Ok(CliResult r)
    {
        Assert.True(r.ExitCode == 0, $"expected exit 0:\n{r}");
        Assert.Empty(r.Stderr);
    }

    private static string Failed(CliResult r, int code)
    {
        Assert.True(r.ExitCode == code, $"expected exit {code}:\n{r}");
        var line = Assert.Single(r.Stderr);
        Assert.StartsWith("kairos: ", line, StringComparison.Ordinal);
        return line;
    }

    [Fact]
    public async Task Login_saves_a_private_profile_that_env_and_flags_override()
    {
        var noEnv = new Dictionary<string, string> { ["KAIROS_URL"] = "", ["KAIROS_API_KEY"] = "" };
        var url = _server.BaseAddress.ToString().TrimEnd('/');

        var refused = await _server.RunWithAsync(noEnv, "login", "--url", url, "--api-key", "kx_not_a_key");
        Assert.Contains("refused", Failed(refused, 1), StringComparison.Ordinal);
        Assert.False(File.Exists(_server.ConfigPath), "a refused login saved a profile");

        var login = await _server.RunWithAsync(noEnv, "login", "--url", url, "--api-key", CliServer.AdminKey);
        Ok(login);
        Assert.Contains("Logged in to " + url, login.Stdout, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_server.ConfigPath));
        Assert.Contains(CliServer.AdminKey, await File.ReadAllTextAsync(_server.ConfigPath), StringComparison.Ordinal);

        // The profile alone is enough.
        var status = await _server.RunWithAsync(noEnv, "status");
        Ok(status);
        Assert.Contains("Version", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("sqlite", status.Stdout, StringComparison.Ordinal);

        // KAIROS_URL overrides the profile, --url overrides KAIROS_URL.
        var deadUrl = "http://127.0.0.1:9";
        var envWins = await _server.RunWithAsync(new Dictionary<string, string> { ["KAIROS_URL"] = deadUrl, ["KAIROS_API_KEY"] = "" }, "status");
        Assert.Contains("cannot reach", Failed(envWins, 1), StringComparison.Ordinal);
        var flagWins = await _server.RunWithAsync(new Dictionary<string, string> { ["KAIROS_URL"] = deadUrl, ["KAIROS_API_KEY"] = "" }, "status", "--url", url, "--json");
        Ok(flagWins);
        Assert.Equal(JsonValueKind.String, flagWins.Json().GetProperty("system").GetProperty("version").ValueKind);
        var keyFlag = await _server.RunWithAsync(noEnv, "status", "--api-key", "kx_wrong");
        Assert.Contains("401", Failed(keyFlag, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_enqueue_list_get_cancel_retry_delete_with_json_and_exit_codes()
    {
        var enqueued = await _server.RunAsync("jobs", "enqueue", "email.send", "--payload", """{"to":"a@example.com"}""", "--queue", "mail",
            "--priority", "5", "--max-attempts", "3", "--timeout", "30s", "--tag", "welcome", "--tag", "mail", "--json");
        Ok(enqueued);
        var job = enqueued.Json();
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal("queued", job.GetProperty("state").GetString());
        Assert.Equal(5, job.GetProperty("priority").GetInt32());
        Assert.Equal(3, job.GetProperty("max_attempts").GetInt32());
        Assert.Equal(30_000, job.GetProperty("timeout_ms").GetInt32());
        Assert.Equal(2, job.GetProperty("tags").GetArrayLength());

        var later = await _server.RunAsync("jobs", "enqueue", "report.build", "-q", "mail", "--delay", "10m");
        Ok(later);
        Assert.Matches("^Enqueued job [0-9a-f-]{36} \\(scheduled\\) on queue mail$", later.Stdout.Trim());

        var table = await _server.RunAsync("jobs", "list", "--queue", "mail");
        Ok(table);
        Assert.Contains(id, table.Stdout, StringComparison.Ordinal);
        Assert.Contains("report.build", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("STATE", table.Stdout, StringComparison.Ordinal);

        var list = await _server.RunAsync("jobs", "list", "--queue", "mail", "--state", "queued", "--json");
        Ok(list);
        Assert.Equal(id, Assert.Single(list.Json().GetProperty("items").EnumerateArray()).GetProperty("id").GetString());

        var get = await _server.RunAsync("jobs", "get", id, "--json");
        Ok(get);
        Assert.Equal("a@example.com", get.Json().GetProperty("payload").GetProperty("to").GetString());
        var human = await _server.RunAsync("jobs", "get", id);
        Ok(human);
        Assert.Contains("email.send", human.Stdout, StringComparison.Ordinal);

        var cancel = await _server.RunAsync("jobs", "cancel", id, "--json");
        Ok(cancel);
        Assert.Equal("cancelled", cancel.Json().GetProperty("state").GetString());
        var refused = await _server.RunAsync("jobs", "cancel", id);
        Assert.Contains("409", Failed(refused, 1), StringComparison.Ordinal);
        var retry = await _server.RunAsync("jobs", "retry", id);
        Ok(retry);
        Assert.Contains("queued", retry.Stdout, StringComparison.Ordinal);
        Ok(await _server.RunAsync("jobs", "delete", id));

        var gone = await _server.RunAsync("jobs", "get", id);
        Assert.Contains($"No job '{id}'", Failed(gone, 1), StringComparison.Ordinal);
        Assert.Empty(gone.Stdout.Trim());
    }

    [Fact]
    public async Task Usage_errors_exit_2_with_one_line()
    {
        Assert.Contains("not a job id", Failed(await _server.RunAsync("jobs", "get", "not-a-uuid"), 2), StringComparison.Ordinal);
        Assert.Contains("--frobnicate", Failed(await _server.RunAsync("jobs", "list", "--frobnicate"), 2), StringComparison.Ordinal);
        Assert.Contains("lis", Failed(await _server.RunAsync("jobs", "lis"), 2), StringComparison.Ordinal);
        Assert.Contains("--payload is not valid JSON", Failed(await _server.RunAsync("jobs", "enqueue", "t", "--payload", "{nope"), 2), StringComparison.Ordinal);
        Assert.Contains("--delay", Failed(await _server.RunAsync("jobs", "enqueue", "t", "--delay", "soon"), 2), StringComparison.Ordinal);
        // Invalid values the server rejects are its failure: exit 1 with its field error.
        Assert.Contains("max_attempts", Failed(await _server.RunAsync("jobs", "enqueue", "t", "--max-attempts", "0"), 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_logs_follow_prints_lines_as_they_come_and_exits_when_the_job_finishes()
    {
        var jobId = await _server.Api.EnqueueAsync("logged", new { n = 1 });
        var workerId = await _server.Api.RegisterWorkerAsync("log-writer", "logged");
        using var fetch = await _server.Api.FetchAsync(workerId, "logged", 5000);
        var leased = (await fetch.ReadJsonAsync()).GetProperty("jobs")[0];
        var token = leased.GetProperty("lease_token").GetString();

        var follow = _server.Start(["jobs", "logs", jobId.ToString(), "--follow", "--interval", "100ms"]);
        using (var logs = await _server.Api.PostJsonAsync($"api/v1/jobs/{jobId}/logs", new { LeaseToken = token, Lines = FirstLines }))
        {
            await KairosApi.EnsureStatusAsync(logs, System.Net.HttpStatusCode.OK);
        }
        await WaitAsync(() => follow.Stdout.Count(l => l.EndsWith("line", StringComparison.Ordinal)) == 2, "the two lines are printed while the job runs");
        Assert.False(follow.HasExited);

        using (var logs = await _server.Api.PostJsonAsync($"api/v1/jobs/{jobId}/logs", new { LeaseToken = token, Lines = LastLines }))
        {
            await KairosApi.EnsureStatusAsync(logs, System.Net.HttpStatusCode.OK);
        }
        using (var ack = await _server.Api.PostJsonAsync($"api/v1/jobs/{jobId}/ack", new { LeaseToken = token }))
        {
            await KairosApi.EnsureStatusAsync(ack, System.Net.HttpStatusCode.OK);
        }
        Assert.Equal(0, await follow.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["first line", "second line", "last line"], follow.Stdout.Select(l => l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..]));

        var json = await _server.RunAsync("jobs", "logs", jobId.ToString(), "--json");
        Ok(json);
        var lines = json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("line").GetString());
        Assert.Equal(["first line", "second line", "last line"], lines);
    }

    [Fact]
    public async Task Queues_list_get_pause_resume_set_limits_and_purge()
    {
        await _server.Api.EnqueueAsync("reports", new { });
        await _server.Api.EnqueueAsync("reports", new { });

        var list = await _server.RunAsync("queues", "list", "--json");
        Ok(list);
        var reports = list.Json().EnumerateArray().Single(q => q.GetProperty("name").GetString() == "reports");
        Assert.Equal(2, reports.GetProperty("counts").GetProperty("queued").GetInt64());
        var table = await _server.RunAsync("queues", "list");
        Ok(table);
        Assert.Matches(@"reports\s+no\s+2\s+0", table.Stdout);

        var paused = await _server.RunAsync("queues", "pause", "reports", "--reason", "deploy", "--json");
        Ok(paused);
        Assert.True(paused.Json().GetProperty("paused").GetBoolean());
        Assert.Equal("deploy", paused.Json().GetProperty("pause_reason").GetString());

        var limits = await _server.RunAsync("queues", "set-limits", "reports", "--concurrency", "4", "--rate", "5/1s", "--json");
        Ok(limits);
        Assert.Equal(4, limits.Json().GetProperty("concurrency_limit").GetInt32());
        Assert.Equal(1000, limits.Json().GetProperty("rate_limit").GetProperty("period_ms").GetInt32());
        // Settings not named stay as they are.
        var more = await _server.RunAsync("queues", "set-limits", "reports", "--default-max-attempts", "7", "--json");
        Ok(more);
        Assert.Equal(4, more.Json().GetProperty("concurrency_limit").GetInt32());
        Assert.Equal(7, more.Json().GetProperty("default_max_attempts").GetInt32());

        var get = await _server.RunAsync("queues", "get", "reports");
        Ok(get);
        Assert.Contains("5 per 1s", get.Stdout, StringComparison.Ordinal);
        Assert.Contains("deploy", get.Stdout, StringComparison.Ordinal);

        var resumed = await _server.RunAsync("queues", "resume", "reports", "--json");
        Ok(resumed);
        Assert.False(resumed.Json().GetProperty("paused").GetBoolean());

        var purge = await _server.RunAsync("queues", "purge", "reports", "--yes", "--json");
        Ok(purge);
        Assert.Equal(2, purge.Json().GetProperty("purged").GetInt64());
        Assert.Contains("No queue 'nope'", Failed(await _server.RunAsync("queues", "get", "nope"), 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workers_list_get_quiet_stop_remove()
    {
        var id = (await _server.Api.RegisterWorkerAsync("cli-worker", "default")).ToString();

        var list = await _server.RunAsync("workers", "list", "--json");
        Ok(list);
        Assert.Equal("cli-worker", list.Json().EnumerateArray().Single(w => w.GetProperty("id").GetString() == id).GetProperty("name").GetString());
        var table = await _server.RunAsync("workers", "list");
        Ok(table);
        Assert.Contains(id, table.Stdout, StringComparison.Ordinal);

        var quiet = await _server.RunAsync("workers", "quiet", id, "--json");
        Ok(quiet);
        Assert.Equal("quiet", quiet.Json().GetProperty("state").GetString());
        var stop = await _server.RunAsync("workers", "stop", id);
        Ok(stop);
        Assert.Contains("stopped", stop.Stdout, StringComparison.Ordinal);
        var get = await _server.RunAsync("workers", "get", id, "--json");
        Ok(get);
        Assert.Equal(0, get.Json().GetProperty("running_job_ids").GetArrayLength());

        Ok(await _server.RunAsync("workers", "remove", id));
        Assert.Contains("No worker", Failed(await _server.RunAsync("workers", "get", id), 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_prints_the_stream_as_json_lines()
    {
        var jobId = await _server.Api.EnqueueAsync("evented", new { });
        var events = await _server.RunAsync("events", "--since", "0", "--type", "job.", "--count", "1", "--json");
        Ok(events);
        var e = JsonDocument.Parse(events.Stdout.Trim()).RootElement;
        Assert.Equal("job.enqueued", e.GetProperty("type").GetString());
        Assert.Equal(jobId, e.GetProperty("data").GetProperty("job_id").GetGuid());
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException(what);
            await Task.Delay(20);
        }
    }
}
