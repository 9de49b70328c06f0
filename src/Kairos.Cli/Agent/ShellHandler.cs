using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Kairos.Client.Hosting;
using Microsoft.Extensions.Logging;

namespace Kairos.Cli.Agent;

/// <summary>The payload of a <c>shell</c> job.</summary>
public sealed class ShellPayload
{
    /// <summary>The program: a name looked up on the PATH, or a path.</summary>
    public string? Command { get; set; }
    public IReadOnlyList<string>? Args { get; set; }
    public IDictionary<string, string>? Env { get; set; }
    public string? Cwd { get; set; }
    public int? TimeoutMs { get; set; }

    /// <summary>Run <see cref="Command"/> through <c>/bin/sh -c</c> (only when the allowlist permits <c>sh -c ...</c>).</summary>
    public bool Shell { get; set; }
}

/// <summary>The result of a <c>shell</c> job that exited 0.</summary>
public sealed record ShellResult(int ExitCode, long DurationMs);

/// <summary>A command that exited with a code other than 0: the job fails with the tail of its stderr.</summary>
public sealed class CommandFailedException : Exception
{
    public CommandFailedException()
    {
    }

    public CommandFailedException(string message) : base(message)
    {
    }

    public CommandFailedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public CommandFailedException(int exitCode, string message) : base(message)
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; }
}

/// <summary>The agent's settings: which commands it may run and how long a cancelled command gets before SIGKILL.</summary>
public sealed class AgentOptions
{
    public IReadOnlyList<string> Allow { get; init; } = [];
    public TimeSpan KillGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>True when some pattern matches the whole command line (<c>*</c> any text, <c>?</c> one character).</summary>
    public bool Permits(string commandLine) => Allow.Any(p => Glob(p).IsMatch(commandLine));

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}

/// <summary>
/// Runs a <c>shell</c> job: checks the allowlist before anything starts, runs the program without a shell (unless the
/// job asks for one and the allowlist permits it), streams its stdout and stderr lines into the job log as they come,
/// maps exit code 0 to success, and on cancel or timeout ends the whole process tree: SIGTERM, then SIGKILL after the
/// grace period.
/// </summary>
public sealed class ShellHandler(AgentOptions options, ILogger<ShellHandler> logger) : IJobHandler<ShellPayload, ShellResult>
{
    private const int StderrTailLines = 20;

    public async Task<ShellResult> HandleAsync(ShellPayload payload, JobContext context)
    {
        if (string.IsNullOrWhiteSpace(payload.Command)) throw new NonRetryableException("the payload has no command");
        var args = payload.Args ?? [];
        string file;
        List<string> argv;
        string line;
        if (payload.Shell)
        {
            var script = args.Count == 0 ? payload.Command : payload.Command + " " + string.Join(' ', args);
            file = "/bin/sh";
            argv = ["-c", script];
            line = "sh -c " + script;
            if (!options.Permits(line) && !options.Permits("/bin/sh -c " + script))
            {
                throw new NonRetryableException($"refused: this agent's allowlist does not permit the shell ('{line}'); allow e.g. 'sh -c *'");
            }
        }
        else
        {
            file = payload.Command;
            argv = [.. args];
            line = args.Count == 0 ? payload.Command : payload.Command + " " + string.Join(' ', args);
            if (!options.Permits(line))
            {
                throw new NonRetryableException($"refused: '{line}' is not permitted by this agent's allowlist ({string.Join(", ", options.Allow.Select(a => $"'{a}'"))})");
            }
        }
        if (payload.Cwd is { } cwd && !Directory.Exists(cwd)) throw new NonRetryableException($"the working folder '{cwd}' does not exist");

        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = payload.Cwd ?? Environment.CurrentDirectory,
        };
        foreach (var a in argv) start.ArgumentList.Add(a);
        // The agent's own credentials are not the job's business.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("KAIROS_", StringComparison.OrdinalIgnoreCase)).ToList()) start.Environment.Remove(key);
        foreach (var (k, v) in payload.Env ?? new Dictionary<string, string>()) start.Environment[k] = v;

        using var process = new Process { StartInfo = start };
        var lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        var stderrTail = new Queue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null) lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lines.Writer.TryWrite(e.Data);
            lock (stderrTail)
            {
                stderrTail.Enqueue(e.Data);
                if (stderrTail.Count > StderrTailLines) stderrTail.Dequeue();
            }
        };
        var clock = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new NonRetryableException($"cannot start '{file}': {ex.Message}", ex);
        }
        logger.LogInformation("Job {JobId}: started '{Command}' as pid {Pid}", context.JobId, line, process.Id);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var streaming = StreamLogsAsync(lines.Reader, context);

        using var timeout = payload.TimeoutMs is { } ms and > 0 ? new CancellationTokenSource(TimeSpan.FromMilliseconds(ms)) : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, timeout?.Token ?? CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogInformation("Job {JobId}: stopping pid {Pid} and its children ({Reason})", context.JobId, process.Id,
                context.CancelReason?.ToString() ?? "timeout");
            await ProcessTree.TerminateAsync(process, options.KillGracePeriod);
        }
        lines.Writer.TryComplete();
        await streaming;

        context.CancellationToken.ThrowIfCancellationRequested();
        if (timeout?.IsCancellationRequested == true) throw new TimeoutException($"'{line}' timed out after {payload.TimeoutMs} ms and was killed");
        var code = process.ExitCode;
        if (code == 0) return new ShellResult(0, clock.ElapsedMilliseconds);
        string tail;
        lock (stderrTail) tail = string.Join('\n', stderrTail);
        throw new CommandFailedException(code, $"exit code {code}" + (tail.Length > 0 ? ": " + tail : ""));
    }

    /// <summary>Sends lines to the job log as they come, a batch at a time.</summary>
    private static async Task StreamLogsAsync(ChannelReader<string> reader, JobContext context)
    {
        var batch = new List<string>();
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < 1000 && reader.TryRead(out var l)) batch.Add(l.Length > 65_536 ? l[..65_536] : l);
            try
            {
                await context.LogAsync(batch);
            }
            catch (Client.KairosException)
            {
                // A lost log line does not fail the command; the lease heartbeat reports real trouble.
            }
            batch.Clear();
        }
    }
}
