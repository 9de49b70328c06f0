using System.CommandLine;
using System.Text.Json;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary>
/// <c>kairos workflows list|get|create|cancel|retry</c>; a workflow is named by its id, or by its name for the newest run
/// of that name. <c>kairos workflows templates list|get|put|delete|run</c> for the stored workflow templates.
/// </summary>
internal static class WorkflowsCommand
{
    private static readonly Argument<string> WorkflowArgument = new("workflow") { Description = "The workflow's id, or a name for the newest workflow of that name" };

    public static Command Create()
    {
        var workflows = Cli.WithCommon(new Command("workflows", "Workflows (DAGs of jobs): list, show with their steps, create from a JSON file, cancel, retry from the failed steps."));
        workflows.Subcommands.Add(List());
        workflows.Subcommands.Add(Steer("get", "Show a workflow and its steps with their state.", null, null));
        workflows.Subcommands.Add(CreateCommand());
        workflows.Subcommands.Add(Steer("cancel", "Cancel every unfinished step (running ones are asked to stop through their workers).",
            (c, id, ct) => c.CancelWorkflowAsync(id, ct), "cancelled"));
        workflows.Subcommands.Add(Steer("retry", "Run the failed and cancelled steps of a finished workflow again (succeeded steps keep their results).",
            (c, id, ct) => c.RetryWorkflowAsync(id, ct), "retried"));
        workflows.Subcommands.Add(Templates());
        return workflows;
    }

    /// <summary>The workflow an argument names: an id as it is, a name as the newest workflow of that name.</summary>
    private static async Task<Guid> ResolveAsync(Cli cli, string text, CancellationToken ct)
    {
        if (Guid.TryParse(text, out var id)) return id;
        var page = await cli.Client.ListWorkflowsAsync(new WorkflowQuery { Name = text, Limit = 1 }, ct);
        return page.Items.Count > 0 ? page.Items[0].Id : throw new KairosException($"no workflow '{text}' (neither an id nor the name of one)");
    }

    private static Command Steer(string name, string description, Func<KairosClient, Guid, CancellationToken, Task<Workflow>>? call, string? verb)
    {
        var command = new Command(name, description) { WorkflowArgument };
        Cli.Action(command, async (cli, ct) =>
        {
            var id = await ResolveAsync(cli, cli.Parse.GetValue(WorkflowArgument)!, ct);
            return Show(cli, call is null ? await cli.Client.GetWorkflowAsync(id, ct) : await call(cli.Client, id, ct), verb);
        });
        return command;
    }

    public static string StateMarkup(string state) => state switch
    {
        WorkflowStates.Running => "[blue]running[/]",
        "deleted" => "[grey]deleted[/]",
        _ => Cli.StateMarkup(state),
    };

    private static string Duration(Workflow w) => w.DurationMs is { } d ? Cli.Span(TimeSpan.FromMilliseconds(d)) : "-";

    private static int Show(Cli cli, Workflow w, string? verb)
    {
        if (cli.Json)
        {
            Cli.WriteJson(w);
            return 0;
        }
        if (verb is not null) cli.Line($"Workflow [bold]{Cli.Esc(w.Name)}[/] {verb}");
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Id[/]", Cli.Esc(w.Id.ToString()));
        grid.AddRow("[bold]Name[/]", Cli.Esc(w.Name));
        grid.AddRow("[bold]State[/]", StateMarkup(w.State) + (w.CancelRequested && w.State == WorkflowStates.Running ? " (cancel requested)" : ""));
        grid.AddRow("[bold]Steps[/]", Cli.Esc($"{w.StepsTotal - w.UnfinishedSteps} of {w.StepsTotal} finished, {w.FailedSteps} failed, {w.CancelledSteps} cancelled"));
        if (w.ScheduleId is { } s) grid.AddRow("[bold]Schedule[/]", Cli.Esc(s.ToString()));
        grid.AddRow("[bold]Created[/]", Cli.Esc($"{Cli.Time(w.CreatedAt)} ({Cli.Ago(w.CreatedAt)})"));
        grid.AddRow("[bold]Finished[/]", Cli.Esc(w.FinishedAt is { } f ? $"{Cli.Time(f)} (took {Duration(w)})" : "-"));
        cli.Out.Write(grid);
        if (w.Steps is { Count: > 0 } steps)
        {
            var table = Cli.NewTable("STEP", "STATE", "DEPENDS ON", "TYPE", "ATTEMPT", "JOB", "ERROR");
            foreach (var step in steps)
            {
                table.AddRow(Cli.Esc(step.Id) + (step.ContinueOnFailure ? " [grey](continue on failure)[/]" : ""), StateMarkup(step.State),
                    Cli.Esc(step.DependsOn.Count == 0 ? "-" : string.Join(", ", step.DependsOn)), Cli.Esc(step.Type ?? "-"),
                    Cli.Esc(step.Attempt is { } a && a > 0 ? $"{a}/{step.MaxAttempts}" : "-"), Cli.Esc(step.JobId.ToString()),
                    Cli.Esc(step.LastError?.Message is { } m ? (m.Length > 60 ? m[..60] + "…" : m) : ""));
            }
            cli.Out.Write(table);
        }
        return 0;
    }

    private static Command List()
    {
        var state = new Option<string?>("--state") { Description = "Only workflows in this state: running, succeeded, failed, cancelled" };
        var name = new Option<string?>("--name") { Description = "Only workflows of this name" };
        var limit = new Option<int?>("--limit") { Description = "Workflows per page, 1 to 500 (default 50)" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page, as the previous page said" };
        var command = new Command("list", "List workflows, newest first, with their state and progress.") { state, name, limit, cursor };
        Cli.Action(command, async (cli, ct) =>
        {
            var query = new WorkflowQuery
            {
                State = cli.Parse.GetValue(state), Name = cli.Parse.GetValue(name), Limit = cli.Parse.GetValue(limit), Cursor = cli.Parse.GetValue(cursor),
            };
            var page = await cli.Client.ListWorkflowsAsync(query, ct);
            var next = "kairos workflows list" + (query.State is { } s ? " --state " + s : "") + (query.Name is { } n ? " --name " + n : "");
            return cli.WritePage(page, "No workflows.", ["ID", "NAME", "STATE", "STEPS", "FAILED", "CREATED", "DURATION"], w =>
            [
                Cli.Esc(w.Id.ToString()), Cli.Esc(w.Name), StateMarkup(w.State), Cli.Esc($"{w.StepsTotal - w.UnfinishedSteps}/{w.StepsTotal}"),
                Cli.Esc(w.FailedSteps.ToString(System.Globalization.CultureInfo.InvariantCulture)), Cli.Esc(Cli.Ago(w.CreatedAt)), Cli.Esc(Duration(w)),
            ], next);
        });
        return command;
    }

    /// <summary>A workflow definition read from a JSON file (<c>-</c>: standard input), as <c>POST /api/v1/workflows</c> takes it.</summary>
    public static async Task<T> ReadDefinitionAsync<T>(string path, CancellationToken ct)
    {
        string text;
        try
        {
            text = path == "-" ? await Console.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(path, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"-f {path}: {ex.Message}");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(text, Cli.JsonOut) ?? throw new UsageException($"-f {path}: the file holds null, not a workflow");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"-f {path}: not a workflow definition ({ex.Message})");
        }
    }

    private static Option<string> FileOption() => new("--file", "-f")
    {
        Description = "A JSON file: {\"steps\": [{\"id\", \"job\": {\"queue\", \"type\", \"payload\"}, \"depends_on\": [...], \"continue_on_failure\"}]} (- reads standard input)",
        Required = true,
    };

    private static Command Templates()
    {
        var templates = new Command("templates", "Workflow templates: stored workflows, run by hand or by a schedule (kairos schedules create --workflow NAME).");
        var name = new Argument<string>("name") { Description = "The template's name" };

        var list = new Command("list", "List the workflow templates by name.");
        Cli.Action(list, async (cli, ct) =>
        {
            var all = await Cli.ReadAllAsync((cursor, c) => cli.Client.ListWorkflowTemplatesAsync(500, cursor, c), ct);
            if (cli.Json)
            {
                Cli.WriteJson(all);
                return 0;
            }
            if (all.Count == 0)
            {
                cli.Line("No workflow templates.");
                return 0;
            }
            var table = Cli.NewTable("NAME", "STEPS", "ROOTS", "MANAGED BY", "UPDATED");
            foreach (var t in all)
            {
                table.AddRow(Cli.Esc(t.Name), Cli.Esc(t.Steps.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    Cli.Esc(string.Join(", ", t.Steps.Where(s => s.DependsOn.Count == 0).Select(s => s.Id))), Cli.Esc(t.ManagedBy ?? "-"), Cli.Esc(Cli.Ago(t.UpdatedAt)));
            }
            cli.Out.Write(table);
            return 0;
        });
        templates.Subcommands.Add(list);

        var get = new Command("get", "Show a workflow template and its steps.") { name };
        Cli.Action(get, async (cli, ct) => ShowTemplate(cli, await cli.Client.GetWorkflowTemplateAsync(cli.Parse.GetValue(name)!, ct), null));
        templates.Subcommands.Add(get);

        var file = FileOption();
        var put = new Command("put", "Create or replace a workflow template from a JSON file (instances already made keep their steps).") { name, file };
        Cli.Action(put, async (cli, ct) =>
        {
            var definition = await ReadDefinitionAsync<WorkflowDefinition>(cli.Parse.GetValue(file)!, ct);
            return ShowTemplate(cli, await cli.Client.PutWorkflowTemplateAsync(cli.Parse.GetValue(name)!, definition, ct), "saved");
        });
        templates.Subcommands.Add(put);

        var delete = new Command("delete", "Delete a workflow template (refused while a schedule starts it; its instances stay).") { name };
        Cli.Action(delete, async (cli, ct) =>
        {
            var n = cli.Parse.GetValue(name)!;
            await cli.Client.DeleteWorkflowTemplateAsync(n, ct);
            if (cli.Json) Cli.WriteJson(new { name = n, deleted = true });
            else cli.Line($"Workflow template [bold]{Cli.Esc(n)}[/] deleted");
            return 0;
        });
        templates.Subcommands.Add(delete);

        var run = new Command("run", "Start a workflow from the template as it is now.") { name };
        Cli.Action(run, async (cli, ct) => Show(cli, await cli.Client.RunWorkflowTemplateAsync(cli.Parse.GetValue(name)!, ct), "started"));
        templates.Subcommands.Add(run);
        return templates;
    }

    private static int ShowTemplate(Cli cli, WorkflowTemplate t, string? verb)
    {
        if (cli.Json)
        {
            Cli.WriteJson(t);
            return 0;
        }
        if (verb is not null) cli.Line($"Workflow template [bold]{Cli.Esc(t.Name)}[/] {verb}");
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]Name[/]", Cli.Esc(t.Name));
        grid.AddRow("[bold]Managed by[/]", Cli.Esc(t.ManagedBy ?? "-"));
        grid.AddRow("[bold]Updated[/]", Cli.Esc($"{Cli.Time(t.UpdatedAt)} ({Cli.Ago(t.UpdatedAt)})"));
        cli.Out.Write(grid);
        var table = Cli.NewTable("STEP", "TYPE", "QUEUE", "DEPENDS ON", "ON FAILURE");
        foreach (var s in t.Steps)
        {
            table.AddRow(Cli.Esc(s.Id), Cli.Esc(s.Job.Type), Cli.Esc(s.Job.Queue), Cli.Esc(s.DependsOn.Count == 0 ? "-" : string.Join(", ", s.DependsOn)),
                s.ContinueOnFailure ? "continue" : "stop");
        }
        cli.Out.Write(table);
        return 0;
    }

    private static Command CreateCommand()
    {
        var file = new Option<string>("--file", "-f")
        {
            Description = "A JSON file: {\"name\": ..., \"steps\": [{\"id\", \"job\": {\"queue\", \"type\", \"payload\"}, \"depends_on\": [...], \"continue_on_failure\"}]} (- reads standard input)",
            Required = true,
        };
        var command = new Command("create", "Create a workflow from a JSON file: all its jobs at once, roots queued, the others waiting for their parents.") { file };
        Cli.Action(command, async (cli, ct) =>
        {
            var definition = await ReadDefinitionAsync<WorkflowDefinition>(cli.Parse.GetValue(file)!, ct);
            return Show(cli, await cli.Client.CreateWorkflowAsync(definition, ct), "created");
        });
        return command;
    }
}
