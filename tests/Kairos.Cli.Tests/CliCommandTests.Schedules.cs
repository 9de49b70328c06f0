namespace Kairos.Cli.Tests;

public sealed partial class CliCommandTests
{
    [Fact]
    public async Task Schedules_create_list_get_trigger_runs_pause_resume_preview_delete_with_json_and_exit_codes()
    {
        var created = await _server.RunAsync("schedules", "create", "nightly", "--cron", "0 3 * * *", "--tz", "Europe/Berlin", "--type", "report.build",
            "--queue", "reports", "--payload", """{"kind":"nightly"}""", "--overlap", "skip", "--jitter", "30s", "--json");
        Ok(created);
        var schedule = created.Json();
        Assert.Equal("nightly", schedule.GetProperty("name").GetString());
        Assert.Equal("At 03:00, every day", schedule.GetProperty("description").GetString());
        Assert.Equal("skip", schedule.GetProperty("overlap").GetString());
        Assert.Equal(30_000, schedule.GetProperty("jitter_ms").GetInt32());
        Assert.Equal("nightly", schedule.GetProperty("job").GetProperty("payload").GetProperty("kind").GetString());

        var badCron = await _server.RunAsync("schedules", "create", "broken", "--cron", "0 25 * * *", "--type", "t");
        var line = Failed(badCron, 1);
        Assert.Contains("cron", line, StringComparison.Ordinal);
        Assert.Contains("field 2 (hour)", line, StringComparison.Ordinal);
        Assert.Contains("position 3", line, StringComparison.Ordinal);
        Assert.Contains("--cron", Failed(await _server.RunAsync("schedules", "create", "neither", "--type", "t"), 2), StringComparison.Ordinal);
        Assert.Contains("409", Failed(await _server.RunAsync("schedules", "create", "nightly", "--every", "1h", "--type", "t"), 1), StringComparison.Ordinal);
        Ok(await _server.RunAsync("schedules", "create", "nightly", "--every", "15m", "--type", "t", "--replace"));

        var list = await _server.RunAsync("schedules", "list");
        Ok(list);
        Assert.Contains("nightly", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("Every 15 minutes", list.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await _server.RunAsync("schedules", "list", "--json")).Json().GetArrayLength());

        var triggered = await _server.RunAsync("schedules", "trigger", "nightly", "--json");
        Ok(triggered);
        var jobId = triggered.Json().GetProperty("job").GetProperty("id").GetString();
        var runs = await _server.RunAsync("schedules", "runs", "nightly", "--json");
        Ok(runs);
        var run = Assert.Single(runs.Json().GetProperty("items").EnumerateArray());
        Assert.Equal(jobId, run.GetProperty("job_id").GetString());
        Assert.Equal("manual", run.GetProperty("trigger").GetString());
        Assert.Contains("manual", (await _server.RunAsync("schedules", "runs", "nightly")).Stdout, StringComparison.Ordinal);

        var paused = await _server.RunAsync("schedules", "pause", "nightly", "--reason", "db work");
        Ok(paused);
        Assert.Contains("paused", paused.Stdout, StringComparison.Ordinal);
        Assert.Contains("db work", paused.Stdout, StringComparison.Ordinal);
        var resumed = await _server.RunAsync("schedules", "resume", "nightly", "--json");
        Ok(resumed);
        Assert.False(resumed.Json().GetProperty("paused").GetBoolean());

        var preview = await _server.RunAsync("schedules", "preview", "0 9 * * 1-5", "--tz", "Europe/Berlin");
        Ok(preview);
        Assert.Contains("At 09:00, Monday through Friday (Europe/Berlin)", preview.Stdout, StringComparison.Ordinal);
        Assert.Contains("timezone", Failed(await _server.RunAsync("schedules", "preview", "@daily", "--tz", "Nowhere/Land"), 1), StringComparison.Ordinal);

        Ok(await _server.RunAsync("schedules", "delete", "nightly"));
        Assert.Contains("No schedule 'nightly'", Failed(await _server.RunAsync("schedules", "get", "nightly"), 1), StringComparison.Ordinal);
    }
}
