using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos alerts rules|channels|incidents|maintenance ...</c>.</summary>
internal static class AlertsCommand
{
    private static readonly Argument<string> NameArgument = new("name") { Description = "The rule or channel (by name)" };
    private static readonly Argument<string> IdArgument = new("id") { Description = "The id (from the list)" };

    public static Command Create()
    {
        var alerts = Cli.WithCommon(new Command("alerts", "Alert rules, channels (with a test send), incidents and maintenance windows."));
        alerts.Subcommands.Add(Rules());
        alerts.Subcommands.Add(Channels());
        alerts.Subcommands.Add(Incidents());
        alerts.Subcommands.Add(Maintenance());
        return alerts;
    }

    private static string Name(Cli cli) => cli.Parse.GetValue(NameArgument)!;

    private static string Ms(long? ms) => ms is { } v ? Cli.Span(TimeSpan.FromMilliseconds(v)) : "-";

    private static int? DurationMs(Cli cli, Option<string?> option) =>
        cli.Parse.GetValue(option) is { } text ? (int)Math.Min(int.MaxValue, Cli.Duration(text, option.Name).TotalMilliseconds) : null;

    /// <summary>A whole (small) list: JSON, or a table with one row per item, or <paramref name="empty"/>.</summary>
    private static int WriteAll<T>(Cli cli, List<T> all, string empty, string[] columns, Func<T, string[]> row)
    {
        if (cli.Json)
        {
            Cli.WriteJson(all);
            return 0;
        }
        if (all.Count == 0)
        {
            cli.Line(empty);
            return 0;
        }
        var table = Cli.NewTable(columns);
        foreach (var item in all) table.AddRow(row(item));
        cli.Out.Write(table);
        return 0;
    }

    private static Command Delete(string description, string what, Func<KairosClient, string, CancellationToken, Task> call)
    {
        var delete = new Command("delete", description) { NameArgument };
        Cli.Action(delete, async (cli, ct) =>
        {
            await call(cli.Client, Name(cli), ct);
            if (cli.Json) Cli.WriteJson(new { name = Name(cli), deleted = true });
            else cli.Line($"{what} [bold]{Cli.Esc(Name(cli))}[/] deleted");
            return 0;
        });
        return delete;
    }

    /// <summary>What a rule watches, in a line.</summary>
    public static string Watches(AlertRule r)
    {
        var scope = (r.Queue is { } q ? $" in queue {q}" : "") + (r.Type is { } t ? $" of type {t}" : "");
        return r.Kind switch
        {
            "job_failed" => (r.Threshold is > 1 ? $"{r.Threshold} jobs failed" : "a job failed") + scope + $" within {Ms(r.WindowMs)}",
            "failure_rate" => $"more than {r.RatePercent?.ToString(CultureInfo.InvariantCulture)}% failed{scope} over {Ms(r.WindowMs)} (from {r.MinJobs} jobs)",
            "queue_backlog" => $"backlog{scope}: " + string.Join(" or ", new[] { r.Threshold is { } n ? $"more than {n} ready" : null, r.MaxAgeMs is { } a ? $"oldest older than {Ms(a)}" : null }.OfType<string>()),
            "worker_lost" => "a worker is lost",
            "monitor" => $"monitor {r.Monitor ?? "(any)"} is {string.Join(" or ", r.MonitorStates)}",
            "schedule_misfire" => $"schedule {r.Schedule ?? "(any)"} misfires",
            _ => r.Kind,
        };
    }

    // ------------------------------------------------------------------ rules

    private static Command Rules()
    {
        var rules = new Command("rules", "Alert rules: list, get, create, delete.");
        var list = new Command("list", "List the alert rules.");
        Cli.Action(list, async (cli, ct) => WriteAll(cli, await Cli.ReadAllAsync((cursor, c) => cli.Client.ListAlertRulesAsync(500, cursor, c), ct),
            "No alert rules.", ["NAME", "KIND", "WATCHES", "CHANNELS", "COOL-DOWN", "ENABLED"],
            r => [Cli.Esc(r.Name), Cli.Esc(r.Kind), Cli.Esc(Watches(r)), Cli.Esc(string.Join(",", r.Channels)), Ms(r.CooldownMs), r.Enabled ? "yes" : "no"]));
        rules.Subcommands.Add(list);

        var get = new Command("get", "Show an alert rule.") { NameArgument };
        Cli.Action(get, async (cli, ct) => ShowRule(cli, await cli.Client.GetAlertRuleAsync(Name(cli), ct), null));
        rules.Subcommands.Add(get);

        var kind = new Option<string>("--kind")
        {
            Description = "job_failed, failure_rate, queue_backlog, worker_lost, monitor or schedule_misfire",
            Required = true,
        };
        var channels = new Option<string[]>("--channel") { Description = "A channel to notify (repeat for several)", Required = true };
        var queue = new Option<string?>("--queue") { Description = "Only this queue (job_failed, failure_rate, queue_backlog)" };
        var type = new Option<string?>("--type") { Description = "Only this job type (job_failed, failure_rate)" };
        var threshold = new Option<long?>("--threshold") { Description = "job_failed: failures within the window; queue_backlog: ready jobs above which it fires" };
        var window = new Option<string?>("--window") { Description = "The window looked at, e.g. 5m (job_failed, failure_rate, schedule_misfire)" };
        var rate = new Option<double?>("--rate") { Description = "failure_rate: fires above this percentage" };
        var minJobs = new Option<int?>("--min-jobs") { Description = "failure_rate: finished jobs needed before the rate counts" };
        var maxAge = new Option<string?>("--max-age") { Description = "queue_backlog: fires when the oldest ready job waits longer, e.g. 10m" };
        var states = new Option<string[]>("--monitor-state") { Description = "monitor: late, down, late_start (repeat; default down)" };
        var monitor = new Option<string?>("--monitor") { Description = "monitor: only this monitor (its slug)" };
        var schedule = new Option<string?>("--schedule") { Description = "schedule_misfire: only this schedule" };
        var cooldown = new Option<string?>("--cooldown") { Description = "No repeat notification for an alert key within this, e.g. 15m" };
        var create = new Command("create", "Create an alert rule.") { NameArgument, kind, channels, queue, type, threshold, window, rate, minJobs, maxAge, states, monitor, schedule, cooldown };
        Cli.Action(create, async (cli, ct) =>
        {
            var p = cli.Parse;
            var monitorStates = p.GetValue(states);
            var rule = await cli.Client.CreateAlertRuleAsync(new AlertRuleDefinition
            {
                Name = Name(cli),
                Kind = p.GetValue(kind)!,
                Channels = p.GetValue(channels) ?? [],
                Queue = p.GetValue(queue),
                Type = p.GetValue(type),
                Threshold = p.GetValue(threshold),
                WindowMs = DurationMs(cli, window),
                RatePercent = p.GetValue(rate),
                MinJobs = p.GetValue(minJobs),
                MaxAgeMs = DurationMs(cli, maxAge),
                MonitorStates = monitorStates is { Length: > 0 } ? monitorStates : null,
                Monitor = p.GetValue(monitor),
                Schedule = p.GetValue(schedule),
                CooldownMs = DurationMs(cli, cooldown),
            }, ct);
            return ShowRule(cli, rule, "created");
        });
        rules.Subcommands.Add(create);

        rules.Subcommands.Add(Delete("Delete an alert rule (its incidents stay in the history).", "Alert rule", (c, n, ct) => c.DeleteAlertRuleAsync(n, ct)));
        return rules;
    }

    private static int ShowRule(Cli cli, AlertRule r, string? verb)
    {
        if (cli.Json)
        {
            Cli.WriteJson(r);
            return 0;
        }
        if (verb is not null) cli.Line($"Alert rule [bold]{Cli.Esc(r.Name)}[/] {verb}");
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Name[/]", Cli.Esc(r.Name));
        grid.AddRow("[bold]Kind[/]", Cli.Esc(r.Kind));
        grid.AddRow("[bold]Watches[/]", Cli.Esc(Watches(r)));
        grid.AddRow("[bold]Channels[/]", Cli.Esc(string.Join(", ", r.Channels)));
        grid.AddRow("[bold]Cool-down[/]", Ms(r.CooldownMs));
        grid.AddRow("[bold]Enabled[/]", r.Enabled ? "yes" : "no");
        cli.Out.Write(grid);
        return 0;
    }

    // ------------------------------------------------------------------ channels

    private static Command Channels()
    {
        var channels = new Command("channels", "Alert channels (Slack, webhook, email, PagerDuty): list, get, create, delete, test.");
        var list = new Command("list", "List the channels (secrets masked).");
        Cli.Action(list, async (cli, ct) => WriteAll(cli, await Cli.ReadAllAsync((cursor, c) => cli.Client.ListAlertChannelsAsync(500, cursor, c), ct),
            "No alert channels.", ["NAME", "KIND", "TARGET", "UPDATED"], c => [Cli.Esc(c.Name), Cli.Esc(c.Kind), Cli.Esc(Target(c)), Cli.Ago(c.UpdatedAt)]));
        channels.Subcommands.Add(list);

        var get = new Command("get", "Show a channel (secrets masked).") { NameArgument };
        Cli.Action(get, async (cli, ct) =>
        {
            var c = await cli.Client.GetAlertChannelAsync(Name(cli), ct);
            if (cli.Json) Cli.WriteJson(c);
            else cli.Line($"[bold]{Cli.Esc(c.Name)}[/] ({Cli.Esc(c.Kind)}): {Cli.Esc(Target(c))}");
            return 0;
        });
        channels.Subcommands.Add(get);

        var kind = new Option<string>("--kind") { Description = "slack, webhook, email or pagerduty", Required = true };
        var url = new Option<string?>("--url") { Description = "slack: the incoming webhook URL; webhook: where to POST" };
        var config = new Option<string?>("--config")
        {
            Description = "The settings as JSON, e.g. '{\"routing_key\":\"...\"}' (email: host, port, tls, username, password, from, to)",
        };
        var create = new Command("create", "Create a channel; its secrets are stored encrypted and never shown again.") { NameArgument, kind, url, config };
        Cli.Action(create, async (cli, ct) =>
        {
            var settings = Config(cli.Parse.GetValue(config), cli.Parse.GetValue(url));
            var c = await cli.Client.CreateAlertChannelAsync(Name(cli), cli.Parse.GetValue(kind)!, settings, ct);
            if (cli.Json) Cli.WriteJson(c);
            else cli.Line($"Channel [bold]{Cli.Esc(c.Name)}[/] created ({Cli.Esc(c.Kind)}: {Cli.Esc(Target(c))})");
            return 0;
        });
        channels.Subcommands.Add(create);

        var test = new Command("test", "Send a test notice through the channel.") { NameArgument };
        Cli.Action(test, async (cli, ct) =>
        {
            var result = await cli.Client.TestAlertChannelAsync(Name(cli), ct);
            if (cli.Json) Cli.WriteJson(result);
            else if (result.Delivered) cli.Line($"Channel [bold]{Cli.Esc(Name(cli))}[/] took the test notice");
            else await Console.Error.WriteLineAsync($"kairos: channel {Name(cli)} did not take the test notice: {result.Error}");
            return result.Delivered ? 0 : 1;
        });
        channels.Subcommands.Add(test);

        channels.Subcommands.Add(Delete("Delete a channel (refused while a rule names it).", "Channel", (c, n, ct) => c.DeleteAlertChannelAsync(n, ct)));
        return channels;
    }

    private static AlertChannelConfig Config(string? json, string? url)
    {
        AlertChannelConfig settings;
        try
        {
            settings = json is null ? new AlertChannelConfig() : JsonSerializer.Deserialize<AlertChannelConfig>(json, Cli.JsonOut) ?? new AlertChannelConfig();
        }
        catch (JsonException ex)
        {
            throw new UsageException($"--config is not JSON settings: {ex.Message}");
        }
        return url is null ? settings : new AlertChannelConfig
        {
            Url = url, Headers = settings.Headers, Secret = settings.Secret, Host = settings.Host, Port = settings.Port, Tls = settings.Tls,
            Username = settings.Username, Password = settings.Password, From = settings.From, To = settings.To, RoutingKey = settings.RoutingKey,
            Severity = settings.Severity, EventsUrl = settings.EventsUrl,
        };
    }

    private static string Target(AlertChannel c) => c.Kind switch
    {
        "email" => $"{string.Join(", ", c.Config.To ?? [])} via {c.Config.Host}:{c.Config.Port?.ToString(CultureInfo.InvariantCulture) ?? "587"}",
        "pagerduty" => $"routing key {c.Config.RoutingKey}, {c.Config.Severity ?? "warning"}",
        _ => c.Config.Url ?? "-",
    };

    // ------------------------------------------------------------------ incidents

    private static Command Incidents()
    {
        var incidents = new Command("incidents", "Incidents: list (open, resolved), get with the history, resolve by hand.");
        var state = new Option<string?>("--state") { Description = "open or resolved" };
        var rule = new Option<string?>("--rule") { Description = "Only this rule's" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page (printed under a full page)" };
        var list = new Command("list", "Incidents, newest first.") { state, rule, cursor };
        Cli.Action(list, async (cli, ct) =>
        {
            var page = await cli.Client.ListIncidentsAsync(cli.Parse.GetValue(state), cli.Parse.GetValue(rule), 50, cli.Parse.GetValue(cursor), ct);
            return cli.WritePage(page, "No incidents.", ["ID", "STATE", "RULE", "KEY", "TITLE", "FIRED", "OPENED"],
                i => [Cli.Esc(i.Id.ToString()), i.State == "open" ? "[red]open[/]" : "[green]resolved[/]", Cli.Esc(i.Rule), Cli.Esc(i.Key), Cli.Esc(i.Title),
                    i.FireCount.ToString(CultureInfo.InvariantCulture), Cli.Ago(i.OpenedAt)],
                "kairos alerts incidents list");
        });
        incidents.Subcommands.Add(list);

        var get = new Command("get", "An incident and its history (opened, notified, suppressed, resolved).") { IdArgument };
        Cli.Action(get, async (cli, ct) => ShowIncident(cli, await cli.Client.GetIncidentAsync(Cli.Id(cli.Parse.GetValue(IdArgument), "incident id"), ct), null));
        incidents.Subcommands.Add(get);

        var resolve = new Command("resolve", "Resolve an open incident by hand (a resolve notice goes to the channels that were notified).") { IdArgument };
        Cli.Action(resolve, async (cli, ct) =>
            ShowIncident(cli, await cli.Client.ResolveIncidentAsync(Cli.Id(cli.Parse.GetValue(IdArgument), "incident id"), ct), "resolved"));
        incidents.Subcommands.Add(resolve);
        return incidents;
    }

    private static int ShowIncident(Cli cli, Incident i, string? verb)
    {
        if (cli.Json)
        {
            Cli.WriteJson(i);
            return 0;
        }
        if (verb is not null) cli.Line($"Incident {Cli.Esc(i.Id.ToString())} {verb}");
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Title[/]", Cli.Esc(i.Title));
        grid.AddRow("[bold]State[/]", Cli.Esc(i.State) + (i.ResolvedAt is { } r ? Cli.Esc($" at {Cli.Time(r)}") : ""));
        grid.AddRow("[bold]Rule[/]", Cli.Esc($"{i.Rule} ({i.Key})"));
        grid.AddRow("[bold]Fired[/]", Cli.Esc($"{i.FireCount} times, first {Cli.Time(i.OpenedAt)}, last {Cli.Time(i.LastFiredAt)}"));
        if (i.Summary is { Length: > 0 } s) grid.AddRow("[bold]Summary[/]", Cli.Esc(s));
        cli.Out.Write(grid);
        if (i.Events is { Count: > 0 } events)
        {
            var table = Cli.NewTable("AT", "WHAT", "DETAIL");
            foreach (var e in events) table.AddRow(Cli.Esc(Cli.Time(e.At)), Cli.Esc(e.Kind), Cli.Esc(e.Message));
            cli.Out.Write(table);
        }
        return 0;
    }

    // ------------------------------------------------------------------ maintenance windows

    private static Command Maintenance()
    {
        var maintenance = new Command("maintenance", "Maintenance windows that silence a rule (or every rule): list, start (now or later), end.");
        var all = new Option<bool>("--all") { Description = "Past windows too" };
        var list = new Command("list", "The maintenance windows not yet ended.") { all };
        Cli.Action(list, async (cli, ct) =>
        {
            var page = await cli.Client.ListMaintenanceWindowsAsync(cli.Parse.GetValue(all), ct);
            return cli.WritePage(page, "No maintenance windows.", ["ID", "RULE", "FROM", "UNTIL", "ACTIVE", "REASON"],
                w => [Cli.Esc(w.Id.ToString()), Cli.Esc(w.Rule ?? "(every rule)"), Cli.Esc(Cli.Time(w.StartsAt)), Cli.Esc(Cli.Time(w.EndsAt)),
                    w.Active ? "yes" : "no", Cli.Esc(w.Reason ?? "")],
                "kairos alerts maintenance list");
        });
        maintenance.Subcommands.Add(list);

        var rule = new Option<string?>("--rule") { Description = "The rule to silence (default: every rule)" };
        var duration = new Option<string?>("--for") { Description = "How long, e.g. 2h" };
        var until = new Option<string?>("--until") { Description = "Until this time (ISO 8601, e.g. 2026-12-04T06:00:00Z)" };
        var at = new Option<string?>("--at") { Description = "Start at this time instead of now (ISO 8601)" };
        var reason = new Option<string?>("--reason") { Description = "Why (shown with the window)" };
        var start = new Command("start", "Silence a rule (or every rule) from now or --at, for --for or until --until.") { rule, duration, until, at, reason };
        Cli.Action(start, async (cli, ct) =>
        {
            var p = cli.Parse;
            if ((p.GetValue(duration) is null) == (p.GetValue(until) is null)) throw new UsageException("give one of --for and --until");
            var w = await cli.Client.StartMaintenanceAsync(new MaintenanceWindowDefinition
            {
                Rule = p.GetValue(rule),
                StartsAt = Time(p.GetValue(at), "--at"),
                EndsAt = Time(p.GetValue(until), "--until"),
                DurationMs = p.GetValue(duration) is { } d ? (long)Cli.Duration(d, "--for").TotalMilliseconds : null,
                Reason = p.GetValue(reason),
            }, ct);
            if (cli.Json) Cli.WriteJson(w);
            else cli.Line($"Maintenance window {Cli.Esc(w.Id.ToString())}: {Cli.Esc(w.Rule ?? "every rule")} silent from {Cli.Esc(Cli.Time(w.StartsAt))} until {Cli.Esc(Cli.Time(w.EndsAt))}");
            return 0;
        });
        maintenance.Subcommands.Add(start);

        var end = new Command("end", "End a maintenance window now (or drop one not yet begun).") { IdArgument };
        Cli.Action(end, async (cli, ct) =>
        {
            var id = Cli.Id(cli.Parse.GetValue(IdArgument), "maintenance window id");
            await cli.Client.EndMaintenanceAsync(id, ct);
            if (cli.Json) Cli.WriteJson(new { id, ended = true });
            else cli.Line($"Maintenance window {Cli.Esc(id.ToString())} ended");
            return 0;
        });
        maintenance.Subcommands.Add(end);
        return maintenance;
    }

    private static DateTimeOffset? Time(string? text, string option) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw new UsageException($"{option}: '{text}' is not a time (ISO 8601, e.g. 2026-12-04T06:00:00Z)");
}
