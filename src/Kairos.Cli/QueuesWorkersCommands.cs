using System.CommandLine;
using System.Globalization;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos queues list|get|pause|resume|purge|set-limits</c>.</summary>
internal static class QueuesCommand
{
    public static Command Create()
    {
        var queues = Cli.WithCommon(new Command("queues", "List queues with their counts; pause, resume, purge, set limits."));
        queues.Subcommands.Add(List());
        queues.Subcommands.Add(Simple("get", "Show a queue with its settings and counts.", (c, n, ct) => c.GetQueueAsync(n, ct)));
        var reason = new Option<string?>("--reason") { Description = "Why (shown with the queue)" };
        var pause = new Command("pause", "Stop handing out the queue's jobs (running ones finish).") { NameArgument, reason };
        Cli.Action(pause, async (cli, ct) => Show(cli, await cli.Client.PauseQueueAsync(Name(cli), cli.Parse.GetValue(reason), ct), "paused"));
        queues.Subcommands.Add(pause);
        queues.Subcommands.Add(Simple("resume", "Hand out the queue's jobs again.", (c, n, ct) => c.ResumeQueueAsync(n, ct), "resumed"));
        queues.Subcommands.Add(Purge());
        queues.Subcommands.Add(SetLimits());
        return queues;
    }

    private static readonly Argument<string> NameArgument = new("name") { Description = "The queue" };

    private static string Name(Cli cli) => cli.Parse.GetValue(NameArgument)!;

    private static Command Simple(string name, string description, Func<KairosClient, string, CancellationToken, Task<Queue>> call, string? verb = null)
    {
        var command = new Command(name, description) { NameArgument };
        Cli.Action(command, async (cli, ct) => Show(cli, await call(cli.Client, Name(cli), ct), verb));
        return command;
    }

    private static int Show(Cli cli, Queue q, string? verb)
    {
        if (cli.Json)
        {
            Cli.WriteJson(q);
            return 0;
        }
        if (verb is not null) cli.Line($"Queue [bold]{Cli.Esc(q.Name)}[/] {verb}");
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Name[/]", Cli.Esc(q.Name));
        grid.AddRow("[bold]Paused[/]", q.Paused ? $"[yellow]yes[/]{(q.PauseReason is { } r ? " (" + Cli.Esc(r) + ")" : "")}" : "no");
        grid.AddRow("[bold]Concurrency[/]", q.ConcurrencyLimit?.ToString(CultureInfo.InvariantCulture) ?? "unlimited");
        grid.AddRow("[bold]Rate limit[/]", q.RateLimit is { Limit: { } l, PeriodMs: { } p } ? $"{l} per {Cli.Span(TimeSpan.FromMilliseconds(p))}" : "none");
        grid.AddRow("[bold]Default attempts[/]", q.DefaultMaxAttempts?.ToString(CultureInfo.InvariantCulture) ?? "-");
        grid.AddRow("[bold]Default timeout[/]", q.DefaultTimeoutMs is { } t ? Cli.Span(TimeSpan.FromMilliseconds(t)) : "-");
        grid.AddRow("[bold]Jobs[/]", Cli.Esc(string.Join("  ", q.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}")) is { Length: > 0 } s ? s : "none"));
        grid.AddRow("[bold]Oldest queued[/]", q.OldestQueuedAgeMs is { } age ? Cli.Span(TimeSpan.FromMilliseconds(age)) : "-");
        grid.AddRow("[bold]Throughput[/]", $"{q.ThroughputLastMinute}/min");
        cli.Out.Write(grid);
        return 0;
    }

    private static Command List()
    {
        var command = new Command("list", "List queues with their job counts.");
        Cli.Action(command, async (cli, ct) =>
        {
            var all = await Cli.ReadAllAsync((cursor, c) => cli.Client.ListQueuesAsync(500, cursor, c), ct);
            if (cli.Json)
            {
                Cli.WriteJson(all);
                return 0;
            }
            if (all.Count == 0)
            {
                cli.Line("No queues.");
                return 0;
            }
            var table = Cli.NewTable("QUEUE", "PAUSED", "QUEUED", "RUNNING", "SCHEDULED", "RETRYING", "FAILED", "SUCCEEDED", "CONCURRENCY", "PER MIN");
            foreach (var q in all)
            {
                table.AddRow(Cli.Esc(q.Name), q.Paused ? "[yellow]yes[/]" : "no", ManageCommands.N(q.Counts, JobStates.Queued),
                    ManageCommands.N(q.Counts, JobStates.Running), ManageCommands.N(q.Counts, JobStates.Scheduled), ManageCommands.N(q.Counts, JobStates.Retrying),
                    ManageCommands.N(q.Counts, JobStates.Failed), ManageCommands.N(q.Counts, JobStates.Succeeded),
                    q.ConcurrencyLimit?.ToString(CultureInfo.InvariantCulture) ?? "-", q.ThroughputLastMinute.ToString(CultureInfo.InvariantCulture));
            }
            cli.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Purge()
    {
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask" };
        var command = new Command("purge", "Delete the queue's waiting jobs (queued, scheduled, retrying).") { NameArgument, yes };
        Cli.Action(command, async (cli, ct) =>
        {
            var name = Name(cli);
            if (!cli.Parse.GetValue(yes))
            {
                if (Console.IsInputRedirected) throw new UsageException($"purge deletes the waiting jobs of '{name}': pass --yes to confirm");
                if (!await cli.Out.ConfirmAsync($"Delete the waiting jobs of queue [bold]{Cli.Esc(name)}[/]?", defaultValue: false, ct))
                {
                    cli.Line("Nothing purged.");
                    return 0;
                }
            }
            var purged = await cli.Client.PurgeQueueAsync(name, ct);
            if (cli.Json) Cli.WriteJson(new { queue = name, purged });
            else cli.Line($"Purged {purged} jobs from queue [bold]{Cli.Esc(name)}[/]");
            return 0;
        });
        return command;
    }

    private static Command SetLimits()
    {
        var concurrency = new Option<string?>("--concurrency") { Description = "Jobs of the queue running at once across all workers, or none" };
        var rate = new Option<string?>("--rate") { Description = "Job starts per period, e.g. 100/1m, or none" };
        var attempts = new Option<string?>("--default-max-attempts") { Description = "Attempts of a job that names none, or none" };
        var timeout = new Option<string?>("--default-timeout") { Description = "Timeout of a job that names none (e.g. 10m), or none" };
        var command = new Command("set-limits", "Change a queue's limits (creates the queue if needed); unnamed settings stay as they are.")
        {
            NameArgument, concurrency, rate, attempts, timeout,
        };
        Cli.Action(command, async (cli, ct) =>
        {
            // A PATCH: the server changes only what is named here, so settings changed meanwhile by others stay.
            var changes = new QueueChanges();
            if (cli.Parse.GetValue(concurrency) is { } c) changes.ConcurrencyLimit(NoneOr(c, "--concurrency", s => Int(s, "--concurrency")));
            if (cli.Parse.GetValue(attempts) is { } a) changes.DefaultMaxAttempts(NoneOr(a, "--default-max-attempts", s => Int(s, "--default-max-attempts")));
            if (cli.Parse.GetValue(timeout) is { } t)
            {
                changes.DefaultTimeout(t == "none" ? null : Cli.Duration(t, "--default-timeout"));
            }
            if (cli.Parse.GetValue(rate) is { } r)
            {
                if (r == "none") changes.RateLimit(null, null);
                else
                {
                    var parts = r.Split('/');
                    if (parts.Length != 2) throw new UsageException($"--rate: '{r}' is not LIMIT/PERIOD, e.g. 100/1m");
                    changes.RateLimit(Int(parts[0], "--rate"), Cli.Duration(parts[1], "--rate"));
                }
            }
            return Show(cli, await cli.Client.UpdateQueueAsync(Name(cli), changes, ct), "updated");
        });
        return command;
    }

    private static int? NoneOr(string text, string option, Func<string, int> parse) => text == "none" ? null : parse(text);

    private static int Int(string text, string option) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new UsageException($"{option}: '{text}' is not a whole number");
}

/// <summary><c>kairos workers list|get|quiet|stop|remove</c>.</summary>
internal static class WorkersCommand
{
    private static readonly Argument<string> IdArgument = new("id") { Description = "The worker id" };

    public static Command Create()
    {
        var workers = Cli.WithCommon(new Command("workers", "List and inspect workers; quiet, stop or remove them."));
        workers.Subcommands.Add(List());
        workers.Subcommands.Add(Change("get", "Show a worker with its running jobs.", (c, id, ct) => c.GetWorkerAsync(id, ct), null));
        workers.Subcommands.Add(Change("quiet", "Tell a worker to stop fetching; it finishes what it runs.", (c, id, ct) => c.QuietWorkerAsync(id, ct), "told to go quiet"));
        workers.Subcommands.Add(Change("stop", "Tell a worker to shut down.", (c, id, ct) => c.StopWorkerAsync(id, ct), "told to stop"));
        var remove = new Command("remove", "Deregister a worker; its running jobs go back to their queues.") { IdArgument };
        Cli.Action(remove, async (cli, ct) =>
        {
            var id = Cli.Id(cli.Parse.GetValue(IdArgument), "worker id");
            await cli.Client.RemoveWorkerAsync(id, ct);
            if (cli.Json) Cli.WriteJson(new { id, removed = true });
            else cli.Line($"Worker {id} removed");
            return 0;
        });
        workers.Subcommands.Add(remove);
        return workers;
    }

    private static Command List()
    {
        var command = new Command("list", "List workers, newest first.");
        Cli.Action(command, async (cli, ct) =>
        {
            var all = await Cli.ReadAllAsync((cursor, c) => cli.Client.ListWorkersAsync(500, cursor, c), ct);
            if (cli.Json)
            {
                Cli.WriteJson(all);
                return 0;
            }
            if (all.Count == 0)
            {
                cli.Line("No workers.");
                return 0;
            }
            var table = Cli.NewTable("ID", "NAME", "HOST", "PID", "QUEUES", "CAPACITY", "STATE", "HEARTBEAT");
            foreach (var w in all)
            {
                table.AddRow(w.Id.ToString(), Cli.Esc(w.Name), Cli.Esc(w.Host ?? "-"), w.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    Cli.Esc(string.Join(",", w.Queues)), w.Capacity.ToString(CultureInfo.InvariantCulture), Cli.Esc(w.State), Cli.Esc(Cli.Ago(w.LastHeartbeatAt)));
            }
            cli.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Change(string name, string description, Func<KairosClient, Guid, CancellationToken, Task<Worker>> call, string? verb)
    {
        var command = new Command(name, description) { IdArgument };
        Cli.Action(command, async (cli, ct) =>
        {
            var w = await call(cli.Client, Cli.Id(cli.Parse.GetValue(IdArgument), "worker id"), ct);
            if (cli.Json)
            {
                Cli.WriteJson(w);
                return 0;
            }
            if (verb is not null) cli.Line($"Worker [bold]{w.Id}[/] {verb}");
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            grid.AddRow("[bold]Id[/]", w.Id.ToString());
            grid.AddRow("[bold]Name[/]", Cli.Esc(w.Name));
            grid.AddRow("[bold]Host[/]", Cli.Esc($"{w.Host ?? "-"} (pid {w.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-"})"));
            grid.AddRow("[bold]Queues[/]", Cli.Esc(string.Join(", ", w.Queues)));
            grid.AddRow("[bold]State[/]", Cli.Esc(w.State));
            grid.AddRow("[bold]Version[/]", Cli.Esc(w.Version ?? "-"));
            grid.AddRow("[bold]Registered[/]", Cli.Esc(Cli.Ago(w.RegisteredAt)));
            grid.AddRow("[bold]Heartbeat[/]", Cli.Esc(Cli.Ago(w.LastHeartbeatAt)));
            grid.AddRow("[bold]Running[/]", w.RunningJobIds is { Count: > 0 } ids ? string.Join(", ", ids) : "none");
            cli.Out.Write(grid);
            return 0;
        });
        return command;
    }
}
