namespace Kairos.Cli.Tests;

public sealed partial class CliCommandTests
{
    [Fact]
    public async Task Monitors_create_list_get_ping_runs_pause_resume_delete_with_json_and_exit_codes()
    {
        var created = await _server.RunAsync("monitors", "create", "backup", "--every", "1h", "--grace", "10m", "--max-runtime", "30m", "--tag", "db", "--json");
        Ok(created);
        var monitor = created.Json();
        Assert.Equal(("new", 3600, 600, 1800), (monitor.GetProperty("state").GetString(), monitor.GetProperty("period_seconds").GetInt32(),
            monitor.GetProperty("grace_seconds").GetInt32(), monitor.GetProperty("max_runtime_seconds").GetInt32()));
        Assert.StartsWith(_server.BaseAddress.ToString().TrimEnd('/') + "/ping/", monitor.GetProperty("ping_url").GetString(), StringComparison.Ordinal);
        Assert.Contains("--every", Failed(await _server.RunAsync("monitors", "create", "neither"), 2), StringComparison.Ordinal);
        Assert.Contains("409", Failed(await _server.RunAsync("monitors", "create", "backup", "--every", "1h"), 1), StringComparison.Ordinal);
        Assert.Contains("cron", Failed(await _server.RunAsync("monitors", "create", "broken", "--cron", "0 25 * * *"), 1), StringComparison.Ordinal);

        // Pings by name through the API key, and by slug through the organization's ping key alone.
        Ok(await _server.RunAsync("ping", "backup", "--start", "--rid", "r1"));
        Ok(await _server.RunAsync("ping", "backup", "--exit-code", "0", "--rid", "r1", "-m", "42 files"));
        Assert.Contains("at most one", Failed(await _server.RunAsync("ping", "backup", "--fail", "--start"), 2), StringComparison.Ordinal);
        Assert.Contains("No monitor 'nope'", Failed(await _server.RunAsync("ping", "nope"), 1), StringComparison.Ordinal);
        Assert.Contains("no ping key yet", (await _server.RunAsync("monitors", "ping-key")).Stdout, StringComparison.Ordinal);
        var made = await _server.RunAsync("monitors", "ping-key", "--new", "--json");
        Ok(made);
        var orgKey = made.Json().GetProperty("ping_key").GetString()!;
        Assert.StartsWith("org_", orgKey, StringComparison.Ordinal);
        var noApiKey = new Dictionary<string, string> { ["KAIROS_API_KEY"] = "", ["KAIROS_PING_KEY"] = orgKey };
        Ok(await _server.RunWithAsync(noApiKey, "ping", "backup", "--fail"));

        var runs = await _server.RunAsync("monitors", "runs", "backup", "--json");
        Ok(runs);
        var items = runs.Json().GetProperty("items");
        Assert.Equal(["fail", "success"], items.EnumerateArray().Select(r => r.GetProperty("outcome").GetString()));
        Assert.Equal("42 files", items[1].GetProperty("log").GetString());
        Assert.Equal("r1", items[1].GetProperty("rid").GetString());
        Assert.Contains("42 files", (await _server.RunAsync("monitors", "runs", "backup")).Stdout, StringComparison.Ordinal);

        var get = await _server.RunAsync("monitors", "get", "backup");
        Ok(get);
        Assert.Contains("down", get.Stdout, StringComparison.Ordinal);
        Assert.Contains("/ping/", get.Stdout, StringComparison.Ordinal);
        var list = await _server.RunAsync("monitors", "list");
        Ok(list);
        Assert.Contains("backup", list.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await _server.RunAsync("monitors", "list", "--state", "down", "--json")).Json().GetArrayLength());

        var paused = await _server.RunAsync("monitors", "pause", "backup", "--reason", "host rebuild");
        Ok(paused);
        Assert.Contains("host rebuild", paused.Stdout, StringComparison.Ordinal);
        Assert.Equal("up", (await _server.RunAsync("monitors", "resume", "backup", "--json")).Json().GetProperty("state").GetString());
        Ok(await _server.RunAsync("monitors", "delete", "backup"));
        Assert.Contains("No monitor 'backup'", Failed(await _server.RunAsync("monitors", "get", "backup"), 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_wraps_a_command_with_start_and_finish_pings_and_exits_with_its_code()
    {
        Ok(await _server.RunAsync("monitors", "create", "nightly-etl", "--every", "1d"));

        var failing = await _server.RunAsync("exec", "--monitor", "nightly-etl", "--", "sh", "-c", "echo first line; echo to stderr >&2; echo last line; exit 3");
        Assert.True(failing.ExitCode == 3, failing.ToString());
        Assert.Contains("first line", failing.Stdout, StringComparison.Ordinal);
        Assert.Contains("last line", failing.Stdout, StringComparison.Ordinal);
        Assert.Equal(["to stderr"], failing.Stderr);

        var ok = await _server.RunAsync("exec", "--monitor", "nightly-etl", "--", "sh", "-c", "echo all good");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("all good", ok.Stdout, StringComparison.Ordinal);

        var missing = await _server.RunAsync("exec", "--monitor", "nightly-etl", "--", "/no/such/command-kairos");
        Assert.Equal(127, missing.ExitCode);
        Assert.Contains("cannot run", Assert.Single(missing.Stderr), StringComparison.Ordinal);
        Assert.Contains("No monitor 'nope'", Failed(await _server.RunAsync("exec", "--monitor", "nope", "--", "true"), 1), StringComparison.Ordinal);

        var runs = (await _server.RunAsync("monitors", "runs", "nightly-etl", "--json")).Json().GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["fail", "success", "fail"], runs.Select(r => r.GetProperty("outcome").GetString()));
        // Each start was paired with its finish (one run each, with a start time and a duration).
        Assert.All(runs, r => Assert.NotEqual(System.Text.Json.JsonValueKind.Null, r.GetProperty("started_at").ValueKind));
        Assert.All(runs, r => Assert.Equal(32, r.GetProperty("rid").GetString()!.Length));
        var failed = runs[2];
        Assert.Equal(3, failed.GetProperty("exit_code").GetInt32());
        var log = failed.GetProperty("log").GetString()!;
        Assert.Contains("first line", log, StringComparison.Ordinal);
        Assert.Contains("to stderr", log, StringComparison.Ordinal);
        Assert.Contains("last line", log, StringComparison.Ordinal);
        Assert.Equal(0, runs[1].GetProperty("exit_code").GetInt32());
        Assert.Contains("all good", runs[1].GetProperty("log").GetString(), StringComparison.Ordinal);
        Assert.Contains("cannot run", runs[0].GetProperty("log").GetString(), StringComparison.Ordinal);
        Assert.Equal("down", (await _server.RunAsync("monitors", "get", "nightly-etl", "--json")).Json().GetProperty("state").GetString());
    }

    [Fact]
    public async Task Exec_sends_the_end_of_a_wide_output_within_the_ping_body_cap()
    {
        Ok(await _server.RunAsync("monitors", "create", "wide-etl", "--every", "1d"));

        // About 280 KB of three-byte characters, then the line that matters: the log must end with it, not be cut by the server.
        var run = await _server.RunAsync("exec", "--monitor", "wide-etl", "--", "sh", "-c",
            "i=0; while [ $i -lt 3000 ]; do echo '€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€'; i=$((i+1)); done; echo 'THE END: 42 tables'");
        Assert.True(run.ExitCode == 0, run.ToString());

        var last = (await _server.RunAsync("monitors", "runs", "wide-etl", "--json")).Json().GetProperty("items")[0];
        Assert.Equal("success", last.GetProperty("outcome").GetString());
        Assert.False(last.GetProperty("log_truncated").GetBoolean());
        var log = last.GetProperty("log").GetString()!;
        Assert.EndsWith("€\nTHE END: 42 tables\n", log, StringComparison.Ordinal);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(log), 90 * 1024, 100 * 1024);
    }
}
