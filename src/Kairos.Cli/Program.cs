using System.CommandLine;
using Kairos.Cli;

var root = new RootCommand("Kairos: a self-hosted job platform.");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(ManageCommands.Login());
root.Subcommands.Add(ManageCommands.Status());
root.Subcommands.Add(JobsCommand.Create());
root.Subcommands.Add(QueuesCommand.Create());
root.Subcommands.Add(WorkersCommand.Create());
root.Subcommands.Add(SchedulesCommand.Create());
root.Subcommands.Add(WorkflowsCommand.Create());
root.Subcommands.Add(MonitorsCommand.Create());
root.Subcommands.Add(CheckInCommands.Ping());
root.Subcommands.Add(CheckInCommands.Exec());
root.Subcommands.Add(ManageCommands.Events());
root.Subcommands.Add(AccessCommands.WhoAmI());
root.Subcommands.Add(AccessCommands.Keys());
root.Subcommands.Add(AccessCommands.Audit());
root.Subcommands.Add(WebhooksCommand.Create());
root.Subcommands.Add(AlertsCommand.Create());
root.Subcommands.Add(ManifestsCommand.Validate());
root.Subcommands.Add(ManifestsCommand.Apply());
root.Subcommands.Add(ManifestsCommand.Unmanage());
root.Subcommands.Add(Kairos.Cli.Agent.AgentCommand.Create());
// No response files: an argument that starts with @ is itself (cron macros such as @daily, --payload @file).
var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parse.Errors.Count > 0)
{
    // Usage errors: one line, exit code 2.
    var command = string.Join(' ', parse.CommandResult.Command.Name == root.Name ? [] : ParentNames(parse.CommandResult));
    var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
    await Console.Error.WriteLineAsync($"kairos: {error.Message} (see: kairos {command}{(command.Length > 0 ? " " : "")}--help)");
    return 2;
}
return await parse.InvokeAsync(new InvocationConfiguration
{
    // The server handles SIGINT/SIGTERM itself and drains in-flight requests; no forced exit after a timeout.
    ProcessTerminationTimeout = null,
});

static IEnumerable<string> ParentNames(System.CommandLine.Parsing.CommandResult result)
{
    var names = new List<string>();
    for (var r = result; r is not null && r.Parent is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult) names.Insert(0, r.Command.Name);
    return names;
}
