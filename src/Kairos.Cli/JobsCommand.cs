using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos jobs list|get|enqueue|retry|cancel|delete|logs</c>.</summary>
internal static class JobsCommand
{
    public static Command Create()
    {
        var jobs = Cli.WithCommon(new Command("jobs", "List, inspect, enqueue, retry, cancel and delete jobs; read their logs."));
        jobs.Subcommands.Add(List());
        jobs.Subcommands.Add(Get());
        jobs.Subcommands.Add(Enqueue());
        jobs.Subcommands.Add(Change("retry", "Queue a failed or cancelled job again.", (c, id, ct) => c.RetryJobAsync(id, ct)));
        jobs.Subcommands.Add(Change("cancel", "Cancel a job; a running one is asked to stop through its worker.", (c, id, ct) => c.CancelJobAsync(id, ct)));
        jobs.Subcommands.Add(Delete());
        jobs.Subcommands.Add(Logs());
        jobs.Subcommands.Add(Bulk("bulk-retry", "Retry many failed or cancelled jobs: the ids given, or every job the filters match.", (c, s, ct) => c.BulkRetryJobsAsync(s, ct)));
        jobs.Subcommands.Add(Bulk("bulk-cancel", "Cancel many jobs: the ids given, or every job the filters match.", (c, s, ct) => c.BulkCancelJobsAsync(s, ct)));
        jobs.Subcommands.Add(Bulk("bulk-delete", "Delete many jobs that are not running: the ids given, or every job the filters match.", (c, s, ct) => c.BulkDeleteJobsAsync(s, ct)));
        return jobs;
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The job id" };

    private static Command List()
    {
        var state = new Option<string?>("--state") { Description = "pending, scheduled, queued, running, retrying, succeeded, failed or cancelled" };
        var queue = new Option<string?>("--queue") { Description = "Only this queue" };
        var type = new Option<string?>("--type") { Description = "Only this job type" };
        var tag = new Option<string?>("--tag") { Description = "Only jobs with this tag" };
        var limit = new Option<int?>("--limit") { Description = "Jobs per page, 1 to 500 (default 20)" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page, as the previous page said" };
        var sort = new Option<string?>("--sort")
        {
            Description = "Order by created_at, run_at, finished_at, priority or attempt; - before it for descending (default -created_at, newest first)",
        };
        var search = SearchOption();
        var command = new Command("list", "List jobs, newest first unless --sort says otherwise.") { state, queue, type, tag, search, sort, limit, cursor };
        Cli.Action(command, async (cli, ct) =>
        {
            var page = await cli.Client.ListJobsAsync(new JobQuery
            {
                State = cli.Parse.GetValue(state),
                Queue = cli.Parse.GetValue(queue),
                Type = cli.Parse.GetValue(type),
                Tag = cli.Parse.GetValue(tag),
                Search = cli.Parse.GetValue(search),
                Limit = cli.Parse.GetValue(limit) ?? 20,
                Cursor = cli.Parse.GetValue(cursor),
                Sort = cli.Parse.GetValue(sort),
            }, ct);
            if (cli.Json)
            {
                Cli.WriteJson(new { page.Items, page.NextCursor });
                return 0;
            }
            if (page.Items.Count == 0)
            {
                cli.Line("No jobs.");
                return 0;
            }
            var table = Cli.NewTable("ID", "QUEUE", "TYPE", "STATE", "ATTEMPT", "CREATED", "ERROR");
            foreach (var j in page.Items)
            {
                table.AddRow(j.Id.ToString(), Cli.Esc(j.Queue), Cli.Esc(j.Type), Cli.StateMarkup(j.State), $"{j.Attempt}/{j.MaxAttempts}",
                    Cli.Esc(Cli.Ago(j.CreatedAt)), Cli.Esc(Truncate(j.LastError?.Message, 60)));
            }
            cli.Out.Write(table);
            if (page.NextCursor is not null)
            {
                var sorted = cli.Parse.GetValue(sort) is { } s ? $" --sort={s}" : "";
                cli.Line($"More: kairos jobs list{Cli.Esc(sorted)} --cursor {Cli.Esc(page.NextCursor)}");
            }
            return 0;
        });
        return command;
    }

    private static Command Get()
    {
        var id = IdArgument();
        var command = new Command("get", "Show a job: payload, state, attempts, errors, result.") { id };
        Cli.Action(command, async (cli, ct) =>
        {
            var job = await cli.Client.GetJobAsync(Cli.Id(cli.Parse.GetValue(id)), ct);
            if (cli.Json)
            {
                Cli.WriteJson(job);
                return 0;
            }
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            grid.AddRow("[bold]Id[/]", job.Id.ToString());
            grid.AddRow("[bold]Type[/]", Cli.Esc(job.Type));
            grid.AddRow("[bold]Queue[/]", Cli.Esc(job.Queue));
            grid.AddRow("[bold]State[/]", Cli.StateMarkup(job.State) + (job.CancelRequested && job.State == JobStates.Running ? " (cancel requested)" : ""));
            grid.AddRow("[bold]Attempt[/]", $"{job.Attempt} of {job.MaxAttempts}");
            grid.AddRow("[bold]Priority[/]", job.Priority.ToString(CultureInfo.InvariantCulture));
            grid.AddRow("[bold]Created[/]", Cli.Esc($"{Cli.Time(job.CreatedAt)} ({Cli.Ago(job.CreatedAt)})"));
            grid.AddRow("[bold]Run at[/]", Cli.Esc(Cli.Time(job.RunAt)));
            if (job.StartedAt is not null) grid.AddRow("[bold]Started[/]", Cli.Esc(Cli.Time(job.StartedAt)));
            if (job.FinishedAt is not null) grid.AddRow("[bold]Finished[/]", Cli.Esc(Cli.Time(job.FinishedAt)));
            if (job.Tags.Count > 0) grid.AddRow("[bold]Tags[/]", Cli.Esc(string.Join(", ", job.Tags)));
            if (job.UniqueKey is not null) grid.AddRow("[bold]Unique key[/]", Cli.Esc(job.UniqueKey));
            if (job.TimeoutMs is { } t) grid.AddRow("[bold]Timeout[/]", Cli.Esc(Cli.Span(TimeSpan.FromMilliseconds(t))));
            if (job.WorkerId is { } w) grid.AddRow("[bold]Worker[/]", w.ToString());
            if (job.Progress is { } p) grid.AddRow("[bold]Progress[/]", Cli.Esc($"{p.Percent}% {p.Message}"));
            grid.AddRow("[bold]Payload[/]", Cli.Esc(job.Payload.GetRawText()));
            if (job.Result is { } r) grid.AddRow("[bold]Result[/]", Cli.Esc(r.GetRawText()));
            if (job.LastError is { } e) grid.AddRow("[bold]Last error[/]", Cli.Esc($"{e.Type}: {e.Message}"));
            cli.Out.Write(grid);
            if (job.Attempts is { Count: > 0 } attempts)
            {
                var table = Cli.NewTable("ATTEMPT", "STARTED", "FINISHED", "OUTCOME", "ERROR");
                foreach (var a in attempts)
                {
                    table.AddRow(a.Number.ToString(CultureInfo.InvariantCulture), Cli.Esc(Cli.Time(a.StartedAt)), Cli.Esc(Cli.Time(a.FinishedAt)),
                        Cli.Esc(a.Outcome ?? "-"), Cli.Esc(a.Error is { } ae ? $"{ae.Type}: {Truncate(ae.Message, 80)}" : ""));
                }
                cli.Out.Write(table);
            }
            return 0;
        });
        return command;
    }

    private static Command Enqueue()
    {
        var type = new Argument<string>("type") { Description = "The job type, e.g. email.send" };
        var payload = new Option<string?>("--payload", "-p") { Description = "The payload as JSON (default null); @file reads a file, @- stdin" };
        var queue = new Option<string?>("--queue", "-q") { Description = "The queue (default: default)" };
        var priority = new Option<int?>("--priority") { Description = "Higher runs first" };
        var delay = new Option<string?>("--delay") { Description = "Run after this long, e.g. 30s, 5m" };
        var runAt = new Option<DateTimeOffset?>("--run-at") { Description = "Run at this time (RFC 3339)" };
        var maxAttempts = new Option<int?>("--max-attempts") { Description = "Attempts before it fails for good" };
        var timeout = new Option<string?>("--timeout") { Description = "How long one attempt may run, e.g. 10m" };
        var unique = new Option<string?>("--unique-key") { Description = "While a job with this key is unfinished, return it instead" };
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeatable)", AllowMultipleArgumentsPerToken = false };
        var command = new Command("enqueue", "Enqueue a job.") { type, payload, queue, priority, delay, runAt, maxAttempts, timeout, unique, tags };
        Cli.Action(command, async (cli, ct) =>
        {
            var text = cli.Parse.GetValue(payload) ?? "null";
            if (text == "@-") text = await Console.In.ReadToEndAsync(ct);
            else if (text.StartsWith('@'))
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
            var json = ManageCommands.ParseJson(text, "--payload");
            var options = new EnqueueOptions
            {
                Queue = cli.Parse.GetValue(queue),
                Priority = cli.Parse.GetValue(priority),
                Delay = cli.Parse.GetValue(delay) is { } d ? Cli.Duration(d, "--delay") : null,
                RunAt = cli.Parse.GetValue(runAt),
                MaxAttempts = cli.Parse.GetValue(maxAttempts),
                Timeout = cli.Parse.GetValue(timeout) is { } t ? Cli.Duration(t, "--timeout") : null,
                UniqueKey = cli.Parse.GetValue(unique),
                Tags = cli.Parse.GetValue(tags) is { Length: > 0 } tg ? tg : null,
            };
            var job = await cli.Client.EnqueueAsync(cli.Parse.GetValue(type)!, json, options, ct);
            if (cli.Json) Cli.WriteJson(job);
            else cli.Line($"{(job.Deduplicated == true ? "Found existing" : "Enqueued")} job [bold]{job.Id}[/] ({Cli.StateMarkup(job.State)}) on queue {Cli.Esc(job.Queue)}");
            return 0;
        });
        return command;
    }

    private static Command Change(string name, string description, Func<KairosClient, Guid, CancellationToken, Task<Job>> change)
    {
        var id = IdArgument();
        var command = new Command(name, description) { id };
        Cli.Action(command, async (cli, ct) =>
        {
            var job = await change(cli.Client, Cli.Id(cli.Parse.GetValue(id)), ct);
            if (cli.Json) Cli.WriteJson(job);
            else cli.Line($"Job {job.Id}: {Cli.StateMarkup(job.State)}{(job.CancelRequested && job.State == JobStates.Running ? " (cancel requested; its worker stops it)" : "")}");
            return 0;
        });
        return command;
    }

    private static Option<string?> SearchOption() =>
        new("--search", "-s") { Description = "Only jobs with all these words (of the id, type, tags, payload or error); word* matches the words it begins" };

    private static Command Bulk(string name, string description, Func<KairosClient, JobSelection, CancellationToken, Task<BulkResult>> act)
    {
        var ids = new Argument<string[]>("id") { Description = "Job ids (or use the filters)", Arity = ArgumentArity.ZeroOrMore };
        var state = new Option<string?>("--state") { Description = "Only jobs in this state" };
        var queue = new Option<string?>("--queue") { Description = "Only this queue" };
        var type = new Option<string?>("--type") { Description = "Only this job type" };
        var tag = new Option<string?>("--tag") { Description = "Only jobs with this tag" };
        var search = SearchOption();
        var all = new Option<bool>("--all") { Description = "Every job of the organization (needed when neither ids nor filters are given)" };
        var command = new Command(name, description) { ids, state, queue, type, tag, search, all };
        Cli.Action(command, async (cli, ct) =>
        {
            var given = cli.Parse.GetValue(ids) ?? [];
            var filter = new JobQuery
            {
                State = cli.Parse.GetValue(state),
                Queue = cli.Parse.GetValue(queue),
                Type = cli.Parse.GetValue(type),
                Tag = cli.Parse.GetValue(tag),
                Search = cli.Parse.GetValue(search),
            };
            var filtered = filter.State is not null || filter.Queue is not null || filter.Type is not null || filter.Tag is not null || filter.Search is not null;
            if (given.Length > 0 && (filtered || cli.Parse.GetValue(all)))
            {
                throw new UsageException("give job ids or filters (--state, --queue, --type, --tag, --search, --all), not both");
            }
            if (given.Length == 0 && !filtered && !cli.Parse.GetValue(all))
            {
                throw new UsageException("name the jobs: ids, filters (--state, --queue, --type, --tag, --search), or --all for every job");
            }
            var selection = given.Length > 0 ? JobSelection.ByIds(System.Linq.Enumerable.Select(given, t => Cli.Id(t))) : JobSelection.Matching(filter);
            var result = await act(cli.Client, selection, ct);
            if (cli.Json) Cli.WriteJson(result);
            else cli.Line($"{result.Count} job(s) changed{(result.Skipped > 0 ? $", {result.Skipped} skipped (their state does not allow it)" : "")}" +
                          $"{(result.NotFound > 0 ? $", {result.NotFound} not found" : "")}");
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var id = IdArgument();
        var command = new Command("delete", "Delete a job that is not running.") { id };
        Cli.Action(command, async (cli, ct) =>
        {
            var jobId = Cli.Id(cli.Parse.GetValue(id));
            await cli.Client.DeleteJobAsync(jobId, ct);
            if (cli.Json) Cli.WriteJson(new { id = jobId, deleted = true });
            else cli.Line($"Job {jobId} deleted");
            return 0;
        });
        return command;
    }

    private static Command Logs()
    {
        var id = IdArgument();
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the job finishes" };
        var interval = new Option<string?>("--interval") { Description = "How often --follow looks for new lines (default 500ms)" };
        var command = new Command("logs", "Print a job's log lines.") { id, follow, interval };
        Cli.Action(command, async (cli, ct) =>
        {
            var jobId = Cli.Id(cli.Parse.GetValue(id));
            var every = cli.Parse.GetValue(interval) is { } i ? Cli.Duration(i, "--interval") : TimeSpan.FromMilliseconds(500);
            long after = 0;
            while (true)
            {
                // Only the lines after the last one printed; the state comes with them, read before them, so once it
                // is finished every line is in.
                var page = await cli.Client.GetJobLogsAsync(jobId, after, 500, ct);
                foreach (var l in page.Items)
                {
                    if (cli.Json) Cli.WriteJsonLine(new { id = l.Id, attempt = l.Attempt, at = l.At, line = l.Line });
                    else Console.Out.WriteLine($"{l.At.ToLocalTime():HH:mm:ss.fff} {l.Line}");
                    after = l.Id;
                }
                await Console.Out.FlushAsync(ct);
                if (page.NextCursor is not null) continue;
                if (!cli.Parse.GetValue(follow) || JobStates.IsFinished(page.JobState)) break;
                await Task.Delay(every, ct);
            }
            return 0;
        });
        return command;
    }

    private static string Truncate(string? text, int max) =>
        text is null ? "" : (text = text.ReplaceLineEndings(" ")).Length <= max ? text : text[..(max - 1)] + "…";

    internal static JsonElement Null { get; } = JsonDocument.Parse("null").RootElement.Clone();
}
