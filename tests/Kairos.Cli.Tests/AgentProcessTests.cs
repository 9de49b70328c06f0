using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kairos.Cli.Tests;

/// <summary>
/// <c>kairos agent</c> as a process against a real server process, running real commands: exit codes and logs, the
/// process tree killed on cancel (proved by pid), and the allowlist.
/// </summary>
[Collection(KairosProcessCollection.Name)]
public sealed class AgentProcessTests(PublishedKairos kairos, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly string[] FailingArgs = ["-c", "echo one; echo two; echo broken >&2; exit 3"];
    private static readonly string[] HelloArgs = ["hello", "agent"];
    private static readonly string[] XArgs = ["x"];
    private CliServer _server = null!;
    private readonly List<int> _pidsToReap = [];

    public async Task InitializeAsync() => _server = await CliServer.StartAsync(kairos);

    public async Task DisposeAsync()
    {
        foreach (var p in _server.Processes) output.WriteLine(p.Describe(lastLines: 20));
        await _server.DisposeAsync();
        // Whatever a failed test left running.
        foreach (var pid in _pidsToReap)
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private async Task<KairosProcess> StartAgentAsync(params string[] allow)
    {
        var args = new List<string> { "agent", "--queues", "shell", "--grace", "1s" };
        foreach (var a in allow)
        {
            args.Add("--allow");
            args.Add(a);
        }
        var agent = _server.Start([.. args]);
        await WaitAsync(() => agent.Stdout.Any(l => l.StartsWith("Kairos agent ", StringComparison.Ordinal)) || agent.HasExited, "the agent says it runs");
        Assert.False(agent.HasExited, agent.Describe());
        return agent;
    }

    private async Task<Guid> EnqueueShellAsync(object payload, int maxAttempts = 1)
    {
        using var response = await _server.Api.PostJsonAsync("api/v1/jobs", new { Queue = "shell", Type = "shell", Payload = payload, MaxAttempts = maxAttempts });
        await KairosApi.EnsureStatusAsync(response, HttpStatusCode.Created);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private async Task<JsonElement> GetJobAsync(Guid id)
    {
        using var response = await _server.Api.GetAsync($"api/v1/jobs/{id}");
        await KairosApi.EnsureStatusAsync(response, HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    private async Task<JsonElement> WaitForStateAsync(Guid id, string state)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var job = await GetJobAsync(id);
            if (job.GetProperty("state").GetString() == state) return job;
            if (clock.Elapsed > Timeout) throw new TimeoutException($"job {id} did not become {state}: {job}");
            await Task.Delay(20);
        }
    }

    private static List<string> Logs(JsonElement job) => job.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("line").GetString()!).ToList();

    [Fact]
    public async Task A_command_that_prints_lines_and_exits_3_fails_with_its_lines_in_the_log()
    {
        await StartAgentAsync("/bin/sh -c *", "echo *");
        var failing = await EnqueueShellAsync(new { Command = "/bin/sh", Args = FailingArgs });
        var fine = await EnqueueShellAsync(new { Command = "echo", Args = HelloArgs });

        var failed = await WaitForStateAsync(failing, "failed");
        var logs = Logs(failed);
        Assert.Contains("one", logs);
        Assert.Contains("two", logs);
        Assert.Contains("broken", logs);
        Assert.True(logs.IndexOf("one") < logs.IndexOf("two"));
        var error = failed.GetProperty("last_error");
        Assert.Equal("exit code 3: broken", error.GetProperty("message").GetString());
        Assert.EndsWith("CommandFailedException", error.GetProperty("type").GetString(), StringComparison.Ordinal);

        var succeeded = await WaitForStateAsync(fine, "succeeded");
        Assert.Equal(["hello agent"], Logs(succeeded));
        Assert.Equal(0, succeeded.GetProperty("result").GetProperty("exit_code").GetInt32());
        Assert.True(succeeded.GetProperty("result").GetProperty("duration_ms").GetInt64() >= 0);
    }

    [Fact]
    public async Task A_cancelled_job_takes_its_whole_process_tree_down()
    {
        await StartAgentAsync("/bin/sh -c *");
        var pids = Path.Combine(_server.Root, "pids");
        Directory.CreateDirectory(pids);
        // Both the shell and its child ignore SIGTERM: only the SIGKILL after the grace period ends them.
        var script = $"trap '' TERM; sleep 600 & echo $! > {pids}/child.tmp; mv {pids}/child.tmp {pids}/child; echo $$ > {pids}/sh.tmp; mv {pids}/sh.tmp {pids}/sh; echo started; wait";
        var job = await EnqueueShellAsync(new { Command = "/bin/sh", Args = new[] { "-c", script } });

        await WaitAsync(() => File.Exists(Path.Combine(pids, "child")) && File.Exists(Path.Combine(pids, "sh")), "the command writes its pids");
        var child = int.Parse((await File.ReadAllTextAsync(Path.Combine(pids, "child"))).Trim(), CultureInfo.InvariantCulture);
        var shell = int.Parse((await File.ReadAllTextAsync(Path.Combine(pids, "sh"))).Trim(), CultureInfo.InvariantCulture);
        _pidsToReap.AddRange([child, shell]);
        Assert.True(IsRunning(child), $"sleep 600 (pid {child}) runs");
        Assert.True(IsRunning(shell), $"the shell (pid {shell}) runs");
        Assert.Contains("sleep", await File.ReadAllTextAsync($"/proc/{child}/cmdline"), StringComparison.Ordinal);

        using (var cancel = await _server.Api.PostAsync($"api/v1/jobs/{job}/cancel", null))
        {
            await KairosApi.EnsureStatusAsync(cancel, HttpStatusCode.OK);
        }
        var cancelled = await WaitForStateAsync(job, "cancelled");
        await WaitAsync(() => !IsRunning(child) && !IsRunning(shell), "both processes are gone");
        Assert.Contains("started", Logs(cancelled));
    }

    [Fact]
    public async Task A_command_past_its_timeout_is_killed_and_the_job_fails()
    {
        await StartAgentAsync("/bin/sh -c *");
        var pidFile = Path.Combine(_server.Root, "timeout-pid");
        var job = await EnqueueShellAsync(new { Command = "/bin/sh", Args = new[] { "-c", $"echo $$ > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}; exec sleep 600" }, TimeoutMs = 1500 });

        var failed = await WaitForStateAsync(job, "failed");
        Assert.Equal("System.TimeoutException", failed.GetProperty("last_error").GetProperty("type").GetString());
        Assert.Contains("timed out after 1500 ms", failed.GetProperty("last_error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), CultureInfo.InvariantCulture);
        _pidsToReap.Add(pid);
        await WaitAsync(() => !IsRunning(pid), "the timed-out sleep is gone");
    }

    [Fact]
    public async Task A_command_outside_the_allowlist_never_runs()
    {
        await StartAgentAsync("echo *");
        var marker = Path.Combine(_server.Root, "must-not-exist");
        var refused = await EnqueueShellAsync(new { Command = "touch", Args = new[] { marker } }, maxAttempts: 5);
        var viaShell = await EnqueueShellAsync(new { Command = $"touch {marker}", Shell = true }, maxAttempts: 5);
        var sneaky = await EnqueueShellAsync(new { Command = "/tmp/echo", Args = XArgs }, maxAttempts: 5);

        foreach (var id in new[] { refused, viaShell, sneaky })
        {
            var failed = await WaitForStateAsync(id, "failed");
            Assert.Equal(1, failed.GetProperty("attempt").GetInt32()); // not retried: failed at once
            Assert.Contains("allowlist", failed.GetProperty("last_error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Empty(Logs(failed));
        }
        Assert.False(File.Exists(marker), "a refused command ran");
    }

    [Fact]
    public async Task The_agent_without_an_allowlist_refuses_to_start()
    {
        var result = await _server.RunAsync("agent", "--queues", "shell");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--allow", Assert.Single(result.Stderr), StringComparison.Ordinal);
    }

    /// <summary>Alive and not a zombie, read from /proc.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Timeout) throw new TimeoutException(what);
            await Task.Delay(20);
        }
    }
}
