using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Kairos.Client;

namespace Kairos.Cli;

/// <summary>
/// <c>kairos ping NAME</c> and <c>kairos exec --monitor NAME -- cmd args</c>: check-ins of a monitored job. The monitor's
/// ping key comes from the API (a key that may change monitors sees it), or, with <c>--ping-key</c> or
/// <c>KAIROS_PING_KEY</c> (the organization's ping key of slug URLs), NAME is the monitor's slug and no API key is needed.
/// </summary>
internal static class CheckInCommands
{
    /// <summary>The tail of a command's output that <c>exec</c> sends as the run's log.</summary>
    public const int TailChars = 64 * 1024;

    /// <summary>
    /// The most a ping body keeps (the server's 100 KB): the tail is cut to this many UTF-8 bytes from its end, so that
    /// output in a wide script (3 bytes a character) keeps its last lines rather than having the server cut them off.
    /// </summary>
    public const int TailBytes = 100 * 1024;

    private static readonly Option<string?> PingKeyOption = new("--ping-key")
    {
        Description = "The organization's ping key of slug URLs (env KAIROS_PING_KEY); NAME is then the monitor's slug and no API key is needed",
    };

    public static Command Ping()
    {
        var name = new Argument<string>("name") { Description = "The monitor (its slug with --ping-key)" };
        var fail = new Option<bool>("--fail") { Description = "Report a failure" };
        var start = new Option<bool>("--start") { Description = "Report a start" };
        var exitCode = new Option<int?>("--exit-code") { Description = "Report an exit code: 0 a success, 1-255 a failure" };
        var rid = new Option<string?>("--rid") { Description = "A run id that pairs a start with its finish" };
        var message = new Option<string?>("--message", "-m") { Description = "Text kept as the run's log" };
        var command = Cli.WithCommon(new Command("ping", "Send a check-in of a monitor: success (default), --start, --fail or --exit-code N.")
        {
            name, fail, start, exitCode, rid, message, PingKeyOption,
        });
        Cli.Action(command, async (cli, ct) =>
        {
            var (isFail, isStart, code) = (cli.Parse.GetValue(fail), cli.Parse.GetValue(start), cli.Parse.GetValue(exitCode));
            if ((isFail ? 1 : 0) + (isStart ? 1 : 0) + (code is null ? 0 : 1) > 1) throw new UsageException("give at most one of --fail, --start, --exit-code");
            if (code is < 0 or > 255) throw new UsageException("--exit-code must be between 0 and 255");
            var target = await ResolveAsync(cli, cli.Parse.GetValue(name)!, ct);
            var checkIn = isStart ? CheckIn.Start : isFail ? CheckIn.Fail : CheckIn.Success;
            await cli.Client.PingAsync(target.Key, checkIn, code, target.Slug, cli.Parse.GetValue(rid), cli.Parse.GetValue(message), ct);
            var what = code is { } c ? $"exit code {c}" : checkIn.ToString().ToLowerInvariant();
            if (cli.Json) Cli.WriteJson(new { monitor = cli.Parse.GetValue(name), ping = what });
            else cli.Line($"Pinged [bold]{Cli.Esc(cli.Parse.GetValue(name))}[/]: {Cli.Esc(what)}");
            return 0;
        });
        return command;
    }

    public static Command Exec()
    {
        var monitor = new Option<string>("--monitor") { Description = "The monitor (its slug with --ping-key)", Required = true };
        var commandLine = new Argument<string[]>("command") { Description = "The command and its arguments, after --", Arity = ArgumentArity.OneOrMore };
        var command = Cli.WithCommon(new Command("exec",
            "Run a command as a monitored job: a start ping, the command (its output passes through), then a success or a failure with its exit " +
            "code and the tail of its output. Exits with the command's exit code.")
        {
            monitor, PingKeyOption, commandLine,
        });
        Cli.Action(command, async (cli, ct) =>
        {
            var name = cli.Parse.GetValue(monitor)!;
            var argv = cli.Parse.GetValue(commandLine)!;
            var target = await ResolveAsync(cli, name, ct);
            var rid = Guid.NewGuid().ToString("N");
            await TryPingAsync(cli, target, CheckIn.Start, null, rid, null, ct);

            var tail = new Tail(TailChars);
            int code;
            try
            {
                code = await RunAsync(argv, tail, ct);
            }
            catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
            {
                var error = $"kairos: cannot run '{argv[0]}': {ex.Message}";
                await Console.Error.WriteLineAsync(error);
                await TryPingAsync(cli, target, CheckIn.Fail, null, rid, error, CancellationToken.None);
                return 127;
            }
            // An exit code outside 0-255 (other systems) is a failure without one.
            await TryPingAsync(cli, target, code == 0 ? CheckIn.Success : CheckIn.Fail, code is >= 0 and <= 255 ? code : null, rid, tail.ToString(), CancellationToken.None);
            return code;
        });
        return command;
    }

    /// <summary>The ping key (and slug) of a monitor: the organization's key and the slug, or the monitor's key from the API.</summary>
    private static async Task<(string Key, string? Slug)> ResolveAsync(Cli cli, string name, CancellationToken cancellationToken)
    {
        var orgKey = cli.Parse.GetValue(PingKeyOption) is { Length: > 0 } flag ? flag : Environment.GetEnvironmentVariable("KAIROS_PING_KEY");
        if (orgKey is { Length: > 0 }) return (orgKey, name);
        var m = await cli.Client.GetMonitorAsync(name, cancellationToken);
        return m.PingKey is { } key
            ? (key, null)
            : throw new UsageException($"this API key may not see the ping key of monitor '{name}' (it needs monitors.write); give --ping-key (or KAIROS_PING_KEY) and the monitor's slug");
    }

    /// <summary>A ping that must not stop the job: a failure is one line on stderr.</summary>
    private static async Task TryPingAsync(Cli cli, (string Key, string? Slug) target, CheckIn checkIn, int? code, string rid, string? log, CancellationToken cancellationToken)
    {
        try
        {
            await cli.Client.PingAsync(target.Key, checkIn, code, target.Slug, rid, log, cancellationToken);
        }
        catch (KairosException ex)
        {
            await Console.Error.WriteLineAsync($"kairos: the {checkIn.ToString().ToLowerInvariant()} ping failed: {Cli.Describe(ex)}");
        }
    }

    /// <summary>Runs the command with this terminal's input, passing its output through and keeping its tail. Cancelled: the process tree is killed.</summary>
    private static async Task<int> RunAsync(string[] argv, Tail tail, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(argv[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1)) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("the process did not start");
        var output = PumpAsync(process.StandardOutput, Console.Out, tail);
        var errors = PumpAsync(process.StandardError, Console.Error, tail);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        await Task.WhenAll(output, errors);
        return process.ExitCode;
    }

    private static async Task PumpAsync(StreamReader from, TextWriter to, Tail tail)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await from.ReadAsync(buffer)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n));
            await to.FlushAsync();
            tail.Append(buffer.AsSpan(0, n));
        }
    }

    /// <summary>The last characters of both output streams, as they came.</summary>
    private sealed class Tail(int capacity)
    {
        private readonly Lock _gate = new();
        private readonly StringBuilder _text = new();

        public void Append(ReadOnlySpan<char> chars)
        {
            lock (_gate)
            {
                _text.Append(chars);
                if (_text.Length > 2 * capacity) _text.Remove(0, _text.Length - capacity);
            }
        }

        public override string ToString()
        {
            string text;
            lock (_gate) text = _text.Length > capacity ? _text.ToString(_text.Length - capacity, capacity) : _text.ToString();
            var bytes = Encoding.UTF8.GetByteCount(text);
            var start = 0;
            while (bytes > TailBytes)
            {
                // Whole characters off the front (a surrogate pair is one).
                var step = char.IsHighSurrogate(text[start]) && start + 1 < text.Length ? 2 : 1;
                bytes -= Encoding.UTF8.GetByteCount(text.AsSpan(start, step));
                start += step;
            }
            return text[start..];
        }
    }
}
