using System.CommandLine;
using System.Text.Json;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos login</c>, <c>kairos status</c> and <c>kairos events</c>.</summary>
internal static class ManageCommands
{
    public static Command Login()
    {
        var command = new Command("login", "Save the server URL and API key as your profile (file mode 0600).");
        Cli.WithCommon(command);
        Cli.Action(command, async (cli, ct) =>
        {
            if (cli.Parse.GetValue(Cli.ApiKeyOption) is not { Length: > 0 } key) throw new UsageException("login needs --api-key KEY");
            var url = cli.Parse.GetValue(Cli.UrlOption) ?? cli.Url;
            using var client = new KairosClient(Cli.ParseUrl(url), key);
            string note;
            try
            {
                var stats = await client.GetStatsAsync(ct);
                note = $"Kairos {stats.System.Version}";
            }
            catch (KairosException ex) when (ex.StatusCode == System.Net.HttpStatusCode.Forbidden)
            {
                note = "the key may not read (a worker key)";
            }
            catch (KairosException ex) when (ex.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                throw new KairosException($"{url} refused this API key (unknown, revoked or expired); nothing was saved", ex);
            }
            new Profile { Url = url, ApiKey = key }.Save();
            if (cli.Json) Cli.WriteJson(new { url, profile = Profile.FilePath });
            else cli.Line($"Logged in to [bold]{Cli.Esc(url)}[/] ({Cli.Esc(note)}); profile saved to {Cli.Esc(Profile.FilePath)}");
            return 0;
        });
        return command;
    }

    public static Command Status()
    {
        var command = Cli.WithCommon(new Command("status", "Server version, store, uptime and job counts."));
        Cli.Action(command, async (cli, ct) =>
        {
            var stats = await cli.Client.GetStatsAsync(ct);
            if (cli.Json)
            {
                Cli.WriteJson(new { url = cli.Url, stats.System, stats.Counts, stats.Queues, stats.ThroughputLastMinute });
                return 0;
            }
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            grid.AddRow("[bold]Server[/]", Cli.Esc(cli.Url));
            grid.AddRow("[bold]Version[/]", Cli.Esc(stats.System.Version));
            grid.AddRow("[bold]Store[/]", Cli.Esc($"{stats.System.Storage} (durability {stats.System.Durability})"));
            grid.AddRow("[bold]Uptime[/]", Cli.Esc(Cli.Span(TimeSpan.FromMilliseconds(stats.System.UptimeMs))));
            grid.AddRow("[bold]Jobs[/]", Cli.Esc(string.Join("  ", stats.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}")) is { Length: > 0 } s ? s : "none"));
            grid.AddRow("[bold]Throughput[/]", $"{stats.ThroughputLastMinute} jobs finished in the last minute");
            cli.Out.Write(grid);
            if (stats.Queues.Count > 0)
            {
                var table = Cli.NewTable("QUEUE", "QUEUED", "RUNNING", "SCHEDULED", "RETRYING", "FAILED", "SUCCEEDED");
                foreach (var (name, counts) in stats.Queues.OrderBy(q => q.Key, StringComparer.Ordinal))
                {
                    table.AddRow(Cli.Esc(name), N(counts, JobStates.Queued), N(counts, JobStates.Running), N(counts, JobStates.Scheduled),
                        N(counts, JobStates.Retrying), N(counts, JobStates.Failed), N(counts, JobStates.Succeeded));
                }
                cli.Out.Write(table);
            }
            return 0;
        });
        return command;
    }

    internal static string N(IReadOnlyDictionary<string, long> counts, string state) =>
        counts.TryGetValue(state, out var n) ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0";

    public static Command Events()
    {
        var since = new Option<long?>("--since") { Description = "Resume after this event id (what the server still buffers)" };
        var type = new Option<string?>("--type") { Description = "Only events whose type starts with this, e.g. job. or job.failed" };
        var count = new Option<int?>("--count") { Description = "Exit after this many events" };
        var command = Cli.WithCommon(new Command("events", "Tail the live event stream (Server-Sent Events); Ctrl-C to stop."));
        command.Options.Add(since);
        command.Options.Add(type);
        command.Options.Add(count);
        Cli.Action(command, async (cli, ct) =>
        {
            var prefix = cli.Parse.GetValue(type);
            var left = cli.Parse.GetValue(count);
            if (left is < 1) throw new UsageException("--count must be at least 1");
            // Fail fast on a wrong URL or key: the stream itself would keep reconnecting.
            await cli.Client.GetStatsAsync(ct);
            await foreach (var e in cli.Client.StreamEventsAsync(cli.Parse.GetValue(since), cancellationToken: ct))
            {
                if (prefix is not null && !e.Type.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (cli.Json) Console.Out.WriteLine(e.Json);
                else Console.Out.WriteLine($"{e.Id,8} {e.Time.ToLocalTime():HH:mm:ss.fff} {e.Type,-22} {e.Data.GetRawText()}");
                await Console.Out.FlushAsync(ct);
                if (left is not null && --left == 0) break;
            }
            return 0;
        });
        return command;
    }

    /// <summary>Reads a JSON argument, or a usage error naming the option.</summary>
    public static JsonElement ParseJson(string text, string option)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{option} is not valid JSON: {ex.Message}");
        }
    }
}
