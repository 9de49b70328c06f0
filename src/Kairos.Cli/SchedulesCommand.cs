using System.CommandLine;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos schedules list|get|create|trigger|pause|resume|delete|runs|preview</c>.</summary>
internal static class SchedulesCommand
{
    private static readonly Argument<string> NameArgument = new("name") { Description = "The schedule" };

    public static Command Create()
    {
        var schedules = Cli.WithCommon(new Command("schedules", "Cron schedules: list, inspect, create, trigger, pause, resume, delete; their runs."));
        schedules.Subcommands.Add(List());
        schedules.Subcommands.Add(Simple("get", "Show a schedule: when it fires, what it runs, its last and next run.", (c, n, ct) => c.GetScheduleAsync(n, ct), null));
        schedules.Subcommands.Add(CreateCommand());
        schedules.Subcommands.Add(Trigger());
        var reason = new Option<string?>("--reason") { Description = "Why (shown with the schedule)" };
        var pause = new Command("pause", "Stop firing until resumed.") { NameArgument, reason };
        Cli.Action(pause, async (cli, ct) => Show(cli, await cli.Client.PauseScheduleAsync(Name(cli), cli.Parse.GetValue(reason), ct), "paused"));
        schedules.Subcommands.Add(pause);
        schedules.Subcommands.Add(Simple("resume", "Fire again, from the next fire time on (what was missed while paused does not run).",
            (c, n, ct) => c.ResumeScheduleAsync(n, ct), "resumed"));
        var delete = new Command("delete", "Delete a schedule and its run history (its jobs stay).") { NameArgument };
        Cli.Action(delete, async (cli, ct) =>
        {
            await cli.Client.DeleteScheduleAsync(Name(cli), ct);
            if (cli.Json) Cli.WriteJson(new { name = Name(cli), deleted = true });
            else cli.Line($"Schedule [bold]{Cli.Esc(Name(cli))}[/] deleted");
            return 0;
        });
        schedules.Subcommands.Add(delete);
        schedules.Subcommands.Add(Runs());
        schedules.Subcommands.Add(Preview());
        return schedules;
    }

    private static string Name(Cli cli) => cli.Parse.GetValue(NameArgument)!;

    private static Command Simple(string name, string description, Func<KairosClient, string, CancellationToken, Task<Schedule>> call, string? verb)
    {
        var command = new Command(name, description) { NameArgument };
        Cli.Action(command, async (cli, ct) => Show(cli, await call(cli.Client, Name(cli), ct), verb));
        return command;
    }

    private static string When(Schedule s) => s.Cron is { } cron ? $"{cron} ({s.Timezone})" : $"every {Cli.Span(TimeSpan.FromMilliseconds(s.EveryMs ?? 0))}";

    /// <summary>What a run starts: <c>queue/type</c>, or <c>workflow NAME</c>.</summary>
    private static string What(Schedule s) => s.Job is { } j ? $"{j.Queue}/{j.Type}" : $"workflow {s.Workflow}";

    private static int Show(Cli cli, Schedule s, string? verb)
    {
        if (cli.Json)
        {
            Cli.WriteJson(s);
            return 0;
        }
        if (verb is not null) cli.Line($"Schedule [bold]{Cli.Esc(s.Name)}[/] {verb}");
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Name[/]", Cli.Esc(s.Name));
        grid.AddRow("[bold]When[/]", Cli.Esc($"{s.Description} — {When(s)}"));
        if (s.Job is { } job) grid.AddRow("[bold]Job[/]", Cli.Esc($"{job.Type} on queue {job.Queue}" + (job.Payload is { } p ? $", payload {p.GetRawText()}" : "")));
        else grid.AddRow("[bold]Workflow[/]", Cli.Esc($"template {s.Workflow}" + (s.LastWorkflowId is { } w ? $", latest instance {w}" : "")));
        grid.AddRow("[bold]Overlap[/]", Cli.Esc(s.Overlap));
        grid.AddRow("[bold]Catch-up[/]", Cli.Esc(s.CatchUp == "all" ? $"all (at most {s.CatchUpLimit})" : s.CatchUp));
        if (s.JitterMs > 0) grid.AddRow("[bold]Jitter[/]", Cli.Esc("up to " + Cli.Span(TimeSpan.FromMilliseconds(s.JitterMs))));
        if (s.StartAt is not null || s.EndAt is not null) grid.AddRow("[bold]Active[/]", Cli.Esc($"{Cli.Time(s.StartAt)} to {Cli.Time(s.EndAt)}"));
        grid.AddRow("[bold]Paused[/]", s.Paused ? $"[yellow]yes[/]{(s.PauseReason is { } r ? " (" + Cli.Esc(r) + ")" : "")}" : "no");
        grid.AddRow("[bold]Next run[/]", Cli.Esc(s.NextFireAt is { } n ? $"{Cli.Time(n)} ({Cli.Ago(n)})" : "-"));
        grid.AddRow("[bold]Last run[/]", Cli.Esc(s.LastFireAt is { } l ? $"{Cli.Time(l)} ({Cli.Ago(l)})" : "-") + (s.LastJobId is { } j ? $" job {j}" : ""));
        cli.Out.Write(grid);
        return 0;
    }

    private static Command List()
    {
        var command = new Command("list", "List schedules by name with their next run.");
        Cli.Action(command, async (cli, ct) =>
        {
            var all = await Cli.ReadAllAsync((cursor, c) => cli.Client.ListSchedulesAsync(500, cursor, c), ct);
            if (cli.Json)
            {
                Cli.WriteJson(all);
                return 0;
            }
            if (all.Count == 0)
            {
                cli.Line("No schedules.");
                return 0;
            }
            var table = Cli.NewTable("NAME", "WHEN", "DESCRIPTION", "RUNS", "NEXT", "LAST", "PAUSED");
            foreach (var s in all)
            {
                table.AddRow(Cli.Esc(s.Name), Cli.Esc(When(s)), Cli.Esc(s.Description), Cli.Esc(What(s)),
                    Cli.Esc(s.NextFireAt is { } n ? Cli.Ago(n) : "-"), Cli.Esc(Cli.Ago(s.LastFireAt)), s.Paused ? "[yellow]yes[/]" : "no");
            }
            cli.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static Command CreateCommand()
    {
        var cron = new Option<string?>("--cron") { Description = "A cron expression: 5 fields (minute hour day month weekday), 6 with seconds first, or @daily, @hourly, ..." };
        var every = new Option<string?>("--every") { Description = "A fixed interval instead of --cron, e.g. 30s, 15m, 1h" };
        var zone = new Option<string?>("--timezone", "--tz") { Description = "The IANA time zone of the cron expression (default UTC), e.g. Europe/Berlin" };
        var type = new Option<string?>("--type") { Description = "The job type to enqueue, e.g. report.build (or --workflow)" };
        var workflow = new Option<string?>("--workflow") { Description = "Start an instance of this workflow template each time instead of a job (kairos workflows templates)" };
        var queue = new Option<string?>("--queue", "-q") { Description = "The queue (default: default)" };
        var payload = new Option<string?>("--payload", "-p") { Description = "The payload as JSON; @file reads a file" };
        var priority = new Option<int?>("--priority") { Description = "Higher runs first" };
        var maxAttempts = new Option<int?>("--max-attempts") { Description = "Attempts before a run fails for good" };
        var timeout = new Option<string?>("--timeout") { Description = "How long one attempt may run, e.g. 10m" };
        var tags = new Option<string[]>("--tag") { Description = "A tag of the jobs (repeatable)" };
        var overlap = new Option<string?>("--overlap") { Description = "While the previous run is unfinished: allow (default), skip or replace" };
        var catchUp = new Option<string?>("--catch-up") { Description = "After a downtime: skip, once (default) or all" };
        var catchUpLimit = new Option<int?>("--catch-up-limit") { Description = "With --catch-up all: at most this many missed runs (default 10)" };
        var jitter = new Option<string?>("--jitter") { Description = "Start each run up to this much later, e.g. 30s" };
        var startAt = new Option<DateTimeOffset?>("--start-at") { Description = "No run before this time (RFC 3339)" };
        var endAt = new Option<DateTimeOffset?>("--end-at") { Description = "No run after this time (RFC 3339)" };
        var paused = new Option<bool>("--paused") { Description = "Create it paused" };
        var replace = new Option<bool>("--replace") { Description = "Replace the schedule of this name if it exists" };
        var command = new Command("create", "Create a schedule that enqueues a job each time it fires.")
        {
            NameArgument, cron, every, zone, type, workflow, queue, payload, priority, maxAttempts, timeout, tags, overlap, catchUp, catchUpLimit, jitter, startAt, endAt,
            paused, replace,
        };
        Cli.Action(command, async (cli, ct) =>
        {
            if (cli.Parse.GetValue(cron) is null == (cli.Parse.GetValue(every) is null)) throw new UsageException("create needs --cron EXPR or --every DURATION (one of them)");
            var template = cli.Parse.GetValue(workflow);
            if (template is null == (cli.Parse.GetValue(type) is null)) throw new UsageException("create needs --type TYPE (a job) or --workflow TEMPLATE (one of them)");
            var text = cli.Parse.GetValue(payload);
            if (text is not null && text.StartsWith('@'))
            {
                try
                {
                    text = await File.ReadAllTextAsync(text[1..], ct);
                }
                catch (IOException ex)
                {
                    throw new UsageException($"--payload {text}: {ex.Message}");
                }
            }
            var definition = new ScheduleDefinition
            {
                Name = Name(cli),
                Cron = cli.Parse.GetValue(cron),
                EveryMs = cli.Parse.GetValue(every) is { } e ? (long)Cli.Duration(e, "--every").TotalMilliseconds : null,
                Timezone = cli.Parse.GetValue(zone),
                Workflow = template,
                Job = template is not null ? null : new ScheduleJobTemplate
                {
                    Queue = cli.Parse.GetValue(queue) ?? "default",
                    Type = cli.Parse.GetValue(type)!,
                    Payload = text is null ? null : ManageCommands.ParseJson(text, "--payload"),
                    Priority = cli.Parse.GetValue(priority),
                    MaxAttempts = cli.Parse.GetValue(maxAttempts),
                    TimeoutMs = cli.Parse.GetValue(timeout) is { } t ? (int)Cli.Duration(t, "--timeout").TotalMilliseconds : null,
                    Tags = cli.Parse.GetValue(tags) is { Length: > 0 } tg ? tg : null,
                },
                Overlap = cli.Parse.GetValue(overlap),
                CatchUp = cli.Parse.GetValue(catchUp),
                CatchUpLimit = cli.Parse.GetValue(catchUpLimit),
                JitterMs = cli.Parse.GetValue(jitter) is { } j ? (int)Cli.Duration(j, "--jitter").TotalMilliseconds : null,
                StartAt = cli.Parse.GetValue(startAt),
                EndAt = cli.Parse.GetValue(endAt),
                Paused = cli.Parse.GetValue(paused) ? true : null,
            };
            var s = cli.Parse.GetValue(replace)
                ? await cli.Client.PutScheduleAsync(Name(cli), definition, ct)
                : await cli.Client.CreateScheduleAsync(definition, ct);
            return Show(cli, s, cli.Parse.GetValue(replace) ? "saved" : "created");
        });
        return command;
    }

    private static Command Trigger()
    {
        var command = new Command("trigger", "Run the schedule's job now.") { NameArgument };
        Cli.Action(command, async (cli, ct) =>
        {
            var t = await cli.Client.TriggerScheduleAsync(Name(cli), ct);
            if (cli.Json) Cli.WriteJson(t);
            else if (t.Job is { } job) cli.Line($"Schedule [bold]{Cli.Esc(t.Schedule)}[/] triggered: job [bold]{job.Id}[/] ({Cli.StateMarkup(job.State)}) on queue {Cli.Esc(job.Queue)}");
            else cli.Line($"Schedule [bold]{Cli.Esc(t.Schedule)}[/] triggered: workflow [bold]{t.Workflow?.Id}[/] ({Cli.Esc(t.Workflow?.Name)}, {t.Workflow?.StepsTotal} steps)");
            return 0;
        });
        return command;
    }

    private static Command Runs()
    {
        var limit = new Option<int?>("--limit") { Description = "Runs per page, 1 to 500 (default 20)" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page, as the previous page said" };
        var command = new Command("runs", "A schedule's runs, newest first, with their job's outcome and duration.") { NameArgument, limit, cursor };
        Cli.Action(command, async (cli, ct) =>
        {
            var page = await cli.Client.ListScheduleRunsAsync(Name(cli), cli.Parse.GetValue(limit) ?? 20, cli.Parse.GetValue(cursor), ct);
            return cli.WritePage(page, "No runs yet.", ["FIRE TIME", "TRIGGER", "STATE", "DURATION", "JOB / WORKFLOW"], r =>
            [
                Cli.Esc(Cli.Time(r.FireTime)), Cli.Esc(r.Trigger),
                r.Skipped ? "[grey]skipped[/]" : r.Outcome == "deleted" ? "[grey]deleted[/]" : Cli.StateMarkup(r.State ?? "-"),
                Cli.Esc(r.DurationMs is { } d ? Cli.Span(TimeSpan.FromMilliseconds(d)) : "-"),
                r.JobId?.ToString() ?? (r.WorkflowId is { } w ? "workflow " + w : "-"),
            ], $"kairos schedules runs {Name(cli)}");
        });
        return command;
    }

    private static Command Preview()
    {
        var expression = new Argument<string>("cron") { Description = "A cron expression, e.g. \"0 9 * * 1-5\", or @daily" };
        var zone = new Option<string?>("--timezone", "--tz") { Description = "The IANA time zone (default UTC)" };
        var count = new Option<int?>("--count") { Description = "How many fire times (default 10)" };
        var command = new Command("preview", "Describe a cron expression and list its next fire times.") { expression, zone, count };
        Cli.Action(command, async (cli, ct) =>
        {
            var p = await cli.Client.PreviewScheduleAsync(cli.Parse.GetValue(expression), cli.Parse.GetValue(zone), count: cli.Parse.GetValue(count), cancellationToken: ct);
            if (cli.Json)
            {
                Cli.WriteJson(p);
                return 0;
            }
            cli.Line($"[bold]{Cli.Esc(p.Description)}[/] ({Cli.Esc(p.Timezone)})");
            foreach (var local in p.NextLocal) Console.Out.WriteLine("  " + local);
            return 0;
        });
        return command;
    }
}
