using System.CommandLine;
using Kairos.Cli;

var root = new RootCommand("Kairos: a self-hosted job platform.");
root.Subcommands.Add(ServerCommand.Create());
return await root.Parse(args).InvokeAsync(new InvocationConfiguration
{
    // The server handles SIGINT/SIGTERM itself and drains in-flight requests; no forced exit after a timeout.
    ProcessTerminationTimeout = null,
});
