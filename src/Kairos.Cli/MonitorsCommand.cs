using System.CommandLine;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos monitors list|get|create|pause|resume|delete|runs|ping-key</c>.</summary>
internal static class MonitorsCommand
{
    private static readonly Argument<string> NameArgument = new("name") { Description = "The monitor" };

    public static Command Create()
    {
        var monitors = Cli.WithCommon(new Command("monitors", "Check-in monitors of jobs that run elsewhere: list, inspect, create, pause, resume, delete; their runs."));
        monitors.Subcommands.Add(List());
        monitors.Subcommands.Add(Simple("get", "Show a monitor: its state, when pings are due, its ping URL.", (c, n, ct) => c.GetMonitorAsync(n, ct), null));
        monitors.Subcommands.Add(CreateCommand());
        var reason = new Option<string?>("--reason") { Description = "Why (shown with the monitor)" };
        var pause = new Command("pause", "Stop watching until resumed (pings are still recorded).") { NameArgument, reason };
        Cli.Action(pause, async (cli, ct) => Show(cli, await cli.Client.PauseMonitorAsync(Name(cli), cli.Parse.GetValue(reason), ct), "paused"));
        monitors.Subcommands.Add(pause);
        monitors.Subcommands.Add(Simple("resume", "Watch again; the next ping is due counting from now.", (c, n, ct) => c.ResumeMonitorAsync(n, ct), "resumed"));
        var delete = new Command("delete", "Delete a monitor and its runs (its ping URL stops working).") { NameArgument };
        Cli.Action(delete, async (cli, ct) =>
        {
            await cli.Client.DeleteMonitorAsync(Name(cli), ct);
            if (cli.Json) Cli.WriteJson(new { name = Name(cli), deleted = true });
            else cli.Line($"Monitor [bold]{Cli.Esc(Name(cli))}[/] deleted");
            return 0;
        });
        monitors.Subcommands.Add(delete);
        monitors.Subcommands.Add(Runs());
        monitors.Subcommands.Add(OrganizationPingKey());
        return monitors;
    }

    private static string Name(Cli cli) => cli.Parse.GetValue(NameArgument)!;

    private static Command Simple(string name, string description, Func<KairosClient, string, CancellationToken, Task<CheckInMonitor>> call, string? verb)
    {
        var command = new Command(name, description) { NameArgument };
        Cli.Action(command, async (cli, ct) => Show(cli, await call(cli.Client, Name(cli), ct), verb));
        return command;
    }

    private static string When(CheckInMonitor m) =>
        m.Cron is { } cron ? $"{cron} ({m.Timezone})" : $"every {Cli.Span(TimeSpan.FromSeconds(m.PeriodSeconds ?? 0))}";

    public static string StateMarkup(string state) => state switch
    {
        "up" => "[green]up[/]",
        "late" => "[yellow]late[/]",
        "down" => "[red]down[/]",
        "paused" => "[grey]paused[/]",
        _ => Cli.Esc(state),
    };

    private static int Show(Cli cli, CheckInMonitor m, string? verb)
    {
        if (cli.Json)
        {
            Cli.WriteJson(m);
            return 0;
        }
        if (verb is not null) cli.Line($"Monitor [bold]{Cli.Esc(m.Name)}[/] {verb}");
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Name[/]", Cli.Esc(m.Name));
        grid.AddRow("[bold]State[/]", StateMarkup(m.State) + (m.Reason is { } r ? $" ({Cli.Esc(r)})" : "") + (m.PauseReason is { } p ? $" — {Cli.Esc(p)}" : ""));
        grid.AddRow("[bold]Due[/]", Cli.Esc($"{m.Description} — {When(m)}, grace {Cli.Span(TimeSpan.FromSeconds(m.GraceSeconds))}"));
        if (m.MaxRuntimeSeconds is { } max) grid.AddRow("[bold]Max runtime[/]", Cli.Esc(Cli.Span(TimeSpan.FromSeconds(max))));
        if (m.StartGraceSeconds is { } sg) grid.AddRow("[bold]Start grace[/]", Cli.Esc(Cli.Span(TimeSpan.FromSeconds(sg))));
        if (m.FailureThreshold > 1) grid.AddRow("[bold]Down after[/]", Cli.Esc($"{m.FailureThreshold} failures in a row ({m.ConsecutiveFailures} now)"));
        grid.AddRow("[bold]Last ping[/]", Cli.Esc(m.LastPingAt is { } l ? $"{Cli.Time(l)} ({Cli.Ago(l)})" : "-"));
        grid.AddRow("[bold]Next due[/]", Cli.Esc(m.NextDueAt is { } n ? $"{Cli.Time(n)} ({Cli.Ago(n)})" : "-"));
        if (m.RunningSince is { } since) grid.AddRow("[bold]Running since[/]", Cli.Esc($"{Cli.Time(since)} ({Cli.Ago(since)})"));
        grid.AddRow("[bold]Slug[/]", Cli.Esc(m.Slug));
        if (m.Tags.Count > 0) grid.AddRow("[bold]Tags[/]", Cli.Esc(string.Join(", ", m.Tags)));
        grid.AddRow("[bold]Ping URL[/]", Cli.Esc(m.PingUrl ?? "(shown to members and admin keys)"));
        cli.Out.Write(grid);
        return 0;
    }

    private static Command List()
    {
        var state = new Option<string?>("--state") { Description = "Only monitors in this state: new, up, late, down, paused" };
        var command = new Command("list", "List monitors by name with their state.") { state };
        Cli.Action(command, async (cli, ct) =>
        {
            var all = await Cli.ReadAllAsync((cursor, c) => cli.Client.ListMonitorsAsync(500, cursor, cli.Parse.GetValue(state), c), ct);
            if (cli.Json)
            {
                Cli.WriteJson(all);
                return 0;
            }
            if (all.Count == 0)
            {
                cli.Line("No monitors.");
                return 0;
            }
            var table = Cli.NewTable("NAME", "STATE", "DUE", "LAST PING", "NEXT DUE", "SLUG");
            foreach (var m in all)
            {
                table.AddRow(Cli.Esc(m.Name), StateMarkup(m.State), Cli.Esc(When(m)), Cli.Esc(Cli.Ago(m.LastPingAt)), Cli.Esc(m.NextDueAt is { } n ? Cli.Ago(n) : "-"),
                    Cli.Esc(m.Slug));
            }
            cli.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static Command CreateCommand()
    {
        var every = new Option<string?>("--every") { Description = "A ping is due this long after the previous one, e.g. 1h, 15m, 1d" };
        var cron = new Option<string?>("--cron") { Description = "Instead of --every: a ping is due at each time of this cron expression, e.g. \"0 3 * * *\"" };
        var zone = new Option<string?>("--timezone", "--tz") { Description = "The IANA time zone of the cron expression (default UTC)" };
        var grace = new Option<string?>("--grace") { Description = "How late a ping may be before the monitor is down (default 5m)" };
        var maxRuntime = new Option<string?>("--max-runtime") { Description = "A started run that takes longer makes the monitor down, e.g. 30m" };
        var startGrace = new Option<string?>("--start-grace") { Description = "Cron monitors: a start ping is expected within this long of each cron time" };
        var threshold = new Option<int?>("--failure-threshold") { Description = "Down after this many failures in a row (default 1)" };
        var slug = new Option<string?>("--slug") { Description = "The name in slug ping URLs (default: made from the name)" };
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeatable)" };
        var paused = new Option<bool>("--paused") { Description = "Create it paused" };
        var command = new Command("create", "Create a monitor and print its ping URL.") { NameArgument, every, cron, zone, grace, maxRuntime, startGrace, threshold, slug, tags, paused };
        Cli.Action(command, async (cli, ct) =>
        {
            if (cli.Parse.GetValue(cron) is null == (cli.Parse.GetValue(every) is null)) throw new UsageException("create needs --every DURATION or --cron EXPR (one of them)");
            int? Seconds(Option<string?> option, string flag) => cli.Parse.GetValue(option) is { } text ? (int)Cli.Duration(text, flag).TotalSeconds : null;
            var m = await cli.Client.CreateMonitorAsync(new MonitorDefinition
            {
                Name = Name(cli),
                Slug = cli.Parse.GetValue(slug),
                PeriodSeconds = cli.Parse.GetValue(every) is { } e ? (long)Cli.Duration(e, "--every").TotalSeconds : null,
                Cron = cli.Parse.GetValue(cron),
                Timezone = cli.Parse.GetValue(zone),
                GraceSeconds = Seconds(grace, "--grace"),
                MaxRuntimeSeconds = Seconds(maxRuntime, "--max-runtime"),
                StartGraceSeconds = Seconds(startGrace, "--start-grace"),
                FailureThreshold = cli.Parse.GetValue(threshold),
                Tags = cli.Parse.GetValue(tags) is { Length: > 0 } t ? t : null,
                Paused = cli.Parse.GetValue(paused) ? true : null,
            }, ct);
            return Show(cli, m, "created");
        });
        return command;
    }

    private static Command OrganizationPingKey()
    {
        var renew = new Option<bool>("--new") { Description = "Make a new key (the old slug URLs stop working at once)" };
        var command = new Command("ping-key", "The organization's ping key of slug URLs: /ping/{key}/{slug}; for kairos ping/exec --ping-key or KAIROS_PING_KEY.") { renew };
        Cli.Action(command, async (cli, ct) =>
        {
            var key = cli.Parse.GetValue(renew) ? await cli.Client.RegenerateOrganizationPingKeyAsync(ct) : await cli.Client.GetOrganizationPingKeyAsync(ct);
            if (cli.Json) Cli.WriteJson(key);
            else if (key.PingKey is null) cli.Line("The organization has no ping key yet: kairos monitors ping-key --new");
            else cli.Line($"Ping key [bold]{Cli.Esc(key.PingKey)}[/]; slug URLs: {Cli.Esc(key.PingUrlPrefix)}/{{slug}}");
            return 0;
        });
        return command;
    }

    private static Command Runs()
    {
        var limit = new Option<int?>("--limit") { Description = "Runs per page, 1 to 500 (default 20)" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page, as the previous page said" };
        var command = new Command("runs", "A monitor's runs, newest first: outcome, duration, exit code, where from, the start of the log.") { NameArgument, limit, cursor };
        Cli.Action(command, async (cli, ct) =>
        {
            var page = await cli.Client.ListMonitorRunsAsync(Name(cli), cli.Parse.GetValue(limit) ?? 20, cli.Parse.GetValue(cursor), ct);
            return cli.WritePage(page, "No runs yet.", ["AT", "OUTCOME", "DURATION", "EXIT", "FROM", "LOG"], r =>
            {
                var log = r.Log?.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                return
                [
                    Cli.Esc(Cli.Time(r.FinishedAt ?? r.StartedAt ?? r.CreatedAt)),
                    r.Outcome switch { "success" => "[green]success[/]", "fail" => "[red]fail[/]", "timeout" => "[red]timeout[/]", _ => "[blue]running[/]" },
                    Cli.Esc(r.DurationMs is { } d ? Cli.Span(TimeSpan.FromMilliseconds(d)) : "-"),
                    Cli.Esc(r.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"), Cli.Esc(r.SourceIp ?? "-"),
                    Cli.Esc(log.Length > 60 ? log[..60] + "…" : log),
                ];
            }, $"kairos monitors runs {Name(cli)}");
        });
        return command;
    }
}
