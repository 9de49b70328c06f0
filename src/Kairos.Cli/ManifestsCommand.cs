using System.CommandLine;
using Kairos.Client;
using Kairos.Core.Manifests;
using Kairos.Server;
using Kairos.Server.Manifests;

namespace Kairos.Cli;

/// <summary>
/// <c>kairos validate -f PATH</c> (offline: the JSON Schema, cron and time zones, names declared twice, each error with
/// <c>file:line:column</c>), <c>kairos apply -f PATH [--dry-run] [--prune]</c> (validates, then applies through the
/// server in one transaction and prints the diff) and <c>kairos unmanage KIND NAME</c>.
/// </summary>
internal static class ManifestsCommand
{
    private static Option<string> FileOption() => new("--file", "-f")
    {
        Description = "A manifest file (YAML, several documents separated by ---) or a folder (every *.yaml and *.yml in it, recursively)",
        Required = true,
    };

    public static Command Validate()
    {
        var file = FileOption();
        var validate = Cli.WithCommon(new Command("validate", "Check manifests offline: schema, cron expressions, time zones, names declared twice (exit 1 on errors).") { file });
        Cli.Action(validate, (cli, _) =>
        {
            var (files, documents, set) = Load(cli.Parse.GetValue(file)!);
            if (cli.Json)
            {
                Cli.WriteJson(new
                {
                    valid = set.Ok,
                    objects = set.Objects.Select(o => new { kind = o.Kind.ToWire(), name = o.Name, location = o.Document.Locate("metadata.name") }),
                    errors = set.Errors.Select(e => new { location = e.Location, field = e.Field, message = e.Message }),
                });
                return Task.FromResult(set.Ok ? 0 : 1);
            }
            if (!set.Ok) return Task.FromResult(WriteErrors(set.Errors, "."));
            cli.Line($"{set.Objects.Count} object(s) in {documents.Count} document(s) of {files} file(s): valid.");
            return Task.FromResult(0);
        });
        return validate;
    }

    public static Command Apply()
    {
        var file = FileOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would change; change nothing" };
        var prune = new Option<bool>("--prune") { Description = "Also delete the managed objects the manifests no longer declare" };
        var apply = Cli.WithCommon(new Command("apply", "Validate manifests, then apply them in one transaction and print the diff (create, update with the changed fields, unchanged, delete).")
        {
            file, dryRun, prune,
        });
        Cli.Action(apply, async (cli, ct) =>
        {
            var (_, documents, set) = Load(cli.Parse.GetValue(file)!);
            if (!set.Ok) return WriteErrors(set.Errors, "; nothing was applied.");
            ManifestApplyResult result;
            try
            {
                result = await cli.Client.ApplyManifestsAsync([.. documents.Select(d => d.Root)], cli.Parse.GetValue(dryRun), cli.Parse.GetValue(prune), ct);
            }
            catch (KairosException ex) when (ex.Errors.Count > 0)
            {
                // The server's checks (an alert rule's channels, a schedule's workflow template) name manifests[i].field: placed back in the files.
                return WriteErrors([.. ex.Errors.SelectMany(e => e.Value.Select(m => Place(documents, e.Key, m)))], "; nothing was applied.");
            }
            if (cli.Json)
            {
                Cli.WriteJson(result);
                return 0;
            }
            foreach (var c in result.Changes)
            {
                var line = c.Action switch
                {
                    "create" => $"[green]+ create[/]    {Cli.Esc(c.Kind)} {Cli.Esc(c.Name)}",
                    "update" => $"[yellow]~ update[/]    {Cli.Esc(c.Kind)} {Cli.Esc(c.Name)} ({Cli.Esc(string.Join(", ", c.Fields))})",
                    "delete" => $"[red]- delete[/]    {Cli.Esc(c.Kind)} {Cli.Esc(c.Name)}",
                    _ => $"[grey]= unchanged[/] {Cli.Esc(c.Kind)} {Cli.Esc(c.Name)}",
                };
                cli.Line(line);
            }
            int Count(string action) => result.Changes.Count(c => c.Action == action);
            var summary = $"{Count("create")} to create, {Count("update")} to update, {Count("delete")} to delete, {Count("unchanged")} unchanged";
            cli.Line(result.DryRun ? $"Dry run: {summary}; nothing changed." : result.Applied ? $"Applied: {summary}." : $"Nothing to do: {summary}.");
            return 0;
        });
        return apply;
    }

    public static Command Unmanage()
    {
        var kind = new Argument<string>("kind") { Description = "Queue, Schedule, Monitor, AlertRule or Workflow" };
        var name = new Argument<string>("name") { Description = "The object's name" };
        var unmanage = Cli.WithCommon(new Command("unmanage", "Unmark an object a manifest manages, so that the API and the console may change it again.") { kind, name });
        Cli.Action(unmanage, async (cli, ct) =>
        {
            var result = await cli.Client.UnmanageAsync(cli.Parse.GetValue(kind)!, cli.Parse.GetValue(name)!, ct);
            if (cli.Json) Cli.WriteJson(result);
            else cli.Line($"{Cli.Esc(result.Kind)} {Cli.Esc(result.Name)} is managed by hand now (the next kairos apply that declares it takes it back).");
            return 0;
        });
        return unmanage;
    }

    /// <summary>Reads and checks every manifest of the path, offline, with the server's own rules.</summary>
    private static (int Files, List<ManifestDocument> Documents, ManifestSet Set) Load(string path)
    {
        IReadOnlyList<string> files;
        try
        {
            files = ManifestParser.Files(path);
        }
        catch (FileNotFoundException ex)
        {
            throw new UsageException(ex.Message);
        }
        if (files.Count == 0) throw new UsageException($"No *.yaml or *.yml file in '{path}'.");
        var (documents, parseErrors) = ManifestParser.Load(path);
        var set = ManifestValidator.Check(documents, TimeProvider.System, new ServerOptions().MaxPayloadBytes);
        return (files.Count, documents, new ManifestSet(set.Objects, [.. parseErrors, .. set.Errors]));
    }

    /// <summary>Each error on its own line on stderr, <c>file:line:column: field: message</c>; exit code 1.</summary>
    private static int WriteErrors(IEnumerable<ManifestError> errors, string end)
    {
        var n = 0;
        foreach (var e in errors)
        {
            Console.Error.WriteLine(e.ToString());
            n++;
        }
        Console.Error.WriteLine($"kairos: {n} error(s){end}");
        return 1;
    }

    /// <summary>A server error keyed <c>manifests[i].spec.x</c>, placed at its file, line and column.</summary>
    private static ManifestError Place(List<ManifestDocument> documents, string key, string message)
    {
        var close = key.IndexOf(']', StringComparison.Ordinal);
        if (key.StartsWith("manifests[", StringComparison.Ordinal) && close > 0 &&
            int.TryParse(key.AsSpan(10, close - 10), System.Globalization.CultureInfo.InvariantCulture, out var i) && i >= 0 && i < documents.Count)
        {
            var path = key[(close + 1)..].TrimStart('.');
            return new ManifestError(documents[i].Locate(path), path, message);
        }
        return new ManifestError("server", key, message);
    }
}
