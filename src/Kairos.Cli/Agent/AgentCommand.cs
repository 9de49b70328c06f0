using System.CommandLine;
using Kairos.Client;
using Kairos.Client.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kairos.Cli.Agent;

/// <summary><c>kairos agent</c>: a worker that runs <c>shell</c> jobs on this host, within an allowlist.</summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var queues = new Option<string?>("--queues") { Description = "Comma-separated queues to take shell jobs from (default: shell)" };
        var allow = new Option<string[]>("--allow")
        {
            Description = "A command line the agent may run, with * and ? wildcards, e.g. 'rsync *' or '/usr/local/bin/*' (repeatable). " +
                "Jobs with shell: true need a pattern for 'sh -c ...'.",
        };
        var concurrency = new Option<int?>("--concurrency") { Description = "Jobs run at once per queue (default 1)" };
        var name = new Option<string?>("--name") { Description = "How the worker shows in lists (default agent@HOST)" };
        var grace = new Option<string?>("--grace") { Description = "After SIGTERM, how long a cancelled command gets before SIGKILL (default 10s)" };
        var command = Cli.WithCommon(new Command("agent", "Run shell jobs on this host: register as a worker and run jobs of type 'shell' its allowlist permits."));
        command.Options.Add(queues);
        command.Options.Add(allow);
        command.Options.Add(concurrency);
        command.Options.Add(name);
        command.Options.Add(grace);
        Cli.Action(command, async (cli, ct) =>
        {
            var patterns = cli.Parse.GetValue(allow) ?? [];
            if (patterns.Length == 0) throw new UsageException("the agent needs at least one --allow pattern: it runs nothing else");
            var queueNames = (cli.Parse.GetValue(queues) ?? "shell").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (queueNames.Length == 0) throw new UsageException("--queues names no queue");
            var slots = cli.Parse.GetValue(concurrency) ?? 1;
            if (slots < 1) throw new UsageException("--concurrency must be at least 1");
            var agent = new AgentOptions
            {
                Allow = patterns,
                KillGracePeriod = cli.Parse.GetValue(grace) is { } g ? Cli.Duration(g, "--grace") : TimeSpan.FromSeconds(10),
            };
            var url = Cli.ParseUrl(cli.Url);
            // Fail fast with one line on a wrong URL or key rather than retrying registration forever.
            using (var probe = new KairosClient(url, cli.ApiKey))
            {
                var registered = await probe.RegisterWorkerAsync(new WorkerRegistration { Name = "kairos-agent-probe", Queues = queueNames }, ct);
                await probe.DeregisterWorkerAsync(registered.Id, ct);
            }

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
            builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = agent.KillGracePeriod + TimeSpan.FromSeconds(30));
            builder.Services.AddSingleton(agent);
            builder.Services.AddKairosClient(o =>
            {
                o.BaseAddress = url;
                o.ApiKey = cli.ApiKey;
            });
            builder.Services.AddKairosWorker(o =>
            {
                o.Name = cli.Parse.GetValue(name) ?? $"agent@{Environment.MachineName}";
                o.Labels["kind"] = "agent";
                foreach (var q in queueNames) o.AddQueue(q, slots);
                o.FetchBatchSize = slots;
                // Only what can start at once: a shell job waiting in a buffer would have its timeout running.
                o.Prefetch = 0;
                o.CancellationGracePeriod = agent.KillGracePeriod + TimeSpan.FromSeconds(5);
            }).AddHandler<ShellHandler, ShellPayload, ShellResult>("shell");
            using var host = builder.Build();
            await host.StartAsync(ct);
            var worker = host.Services.GetRequiredService<KairosWorker>();
            await Task.WhenAny(worker.Started, host.WaitForShutdownAsync(ct));
            if (worker.Started.IsCompleted)
            {
                Console.Out.WriteLine($"Kairos agent {worker.WorkerId} running shell jobs from {string.Join(", ", queueNames)}; allowed: {string.Join(", ", patterns.Select(p => $"'{p}'"))}");
                await Console.Out.FlushAsync(CancellationToken.None);
            }
            await host.WaitForShutdownAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }
}
