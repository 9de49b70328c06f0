using System.CommandLine;
using System.Globalization;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary><c>kairos whoami</c>, <c>kairos keys list|create|revoke</c> and <c>kairos audit</c>.</summary>
internal static class AccessCommands
{
    public static Command WhoAmI()
    {
        var command = Cli.WithCommon(new Command("whoami", "Who the API key (or session) is: organization, scopes or role, permissions."));
        Cli.Action(command, async (cli, ct) =>
        {
            var me = await cli.Client.GetMeAsync(ct);
            if (cli.Json)
            {
                Cli.WriteJson(me);
                return 0;
            }
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            grid.AddRow("[bold]Server[/]", Cli.Esc(cli.Url));
            if (me.ApiKey is { } key)
            {
                grid.AddRow("[bold]API key[/]", Cli.Esc($"{key.Name} ({key.Prefix}..., id {key.Id})"));
                grid.AddRow("[bold]Scopes[/]", Cli.Esc(string.Join(", ", key.Scopes)));
            }
            if (me.User is { } user) grid.AddRow("[bold]User[/]", Cli.Esc($"{user.Name} <{user.Email}>"));
            grid.AddRow("[bold]Organization[/]", me.CurrentOrganization is { } org
                ? Cli.Esc($"{org.Name} ({org.Id}){(org.Role is { } role ? ", " + role : "")}")
                : "none");
            grid.AddRow("[bold]Permissions[/]", Cli.Esc(me.Permissions.Count == 0 ? "none" : string.Join(", ", me.Permissions)));
            cli.Out.Write(grid);
            return 0;
        });
        return command;
    }

    public static Command Keys()
    {
        var keys = Cli.WithCommon(new Command("keys", "API keys of the organization: list, create (the key is shown once), revoke."));

        var list = new Command("list", "List the API keys (prefix, scopes, last use; never the keys).");
        Cli.Action(list, async (cli, ct) =>
        {
            var all = await Cli.ReadAllAsync((cursor, c) => cli.Client.ListApiKeysAsync(500, cursor, c), ct);
            return Print(cli, all, "No API keys.", ["ID", "NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED", "EXPIRES"], k =>
                [Cli.Esc(k.Id.ToString()), Cli.Esc(k.Name), Cli.Esc(k.Prefix), Cli.Esc(string.Join(",", k.Scopes)), Cli.Ago(k.CreatedAt),
                    Cli.Ago(k.LastUsedAt), k.ExpiresAt is { } e ? Cli.Time(e) : "never"]);
        });
        keys.Subcommands.Add(list);

        var name = new Argument<string>("name") { Description = "What the key is for, e.g. ci-deploy" };
        var scope = new Option<string[]>("--scope")
        {
            Description = "admin, worker or read (repeat for several)",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var expiresIn = new Option<string?>("--expires-in") { Description = "Expire after this long, e.g. 30d, 12h (default: never)" };
        var create = new Command("create", "Create an API key; the key is printed this once.") { name, scope, expiresIn };
        Cli.Action(create, async (cli, ct) =>
        {
            var scopes = cli.Parse.GetValue(scope) ?? [];
            DateTimeOffset? expires = cli.Parse.GetValue(expiresIn) is { } after ? DateTimeOffset.UtcNow + Cli.Duration(after, "--expires-in") : null;
            var created = await cli.Client.CreateApiKeyAsync(cli.Parse.GetValue(name)!, scopes, expires, ct);
            if (cli.Json)
            {
                Cli.WriteJson(created);
                return 0;
            }
            cli.Line($"Created API key [bold]{Cli.Esc(created.Name)}[/] ({Cli.Esc(created.Id.ToString())}), scopes {Cli.Esc(string.Join(", ", created.Scopes))}" +
                     (created.ExpiresAt is { } e ? $", expires {Cli.Esc(Cli.Time(e))}" : ""));
            cli.Line("The key, shown this once (store it now):");
            Console.Out.WriteLine(created.Key);
            return 0;
        });
        keys.Subcommands.Add(create);

        var id = new Argument<string>("id") { Description = "The key's id (kairos keys list)" };
        var revoke = new Command("revoke", "Revoke an API key: refused from now on.") { id };
        Cli.Action(revoke, async (cli, ct) =>
        {
            var keyId = Cli.Id(cli.Parse.GetValue(id), "key id");
            await cli.Client.RevokeApiKeyAsync(keyId, ct);
            if (cli.Json) Cli.WriteJson(new { id = keyId, revoked = true });
            else cli.Line($"Revoked API key {Cli.Esc(keyId.ToString())}");
            return 0;
        });
        keys.Subcommands.Add(revoke);
        return keys;
    }

    public static Command Audit()
    {
        var action = new Option<string?>("--action") { Description = "Only this action (queue.pause) or kind of action (queue.*)" };
        var since = new Option<string?>("--since") { Description = "Only entries since a time (2026-11-23T05:00:00Z) or for a while back (1h, 7d)" };
        var until = new Option<string?>("--until") { Description = "Only entries before a time, or before a while back" };
        var actor = new Option<string?>("--actor") { Description = "Only what this user or API key (its id) did" };
        var targetType = new Option<string?>("--target-type") { Description = "Only entries about this kind of object (queue, job, api_key, member, ...)" };
        var target = new Option<string?>("--target") { Description = "Only entries about this object (a job id, a queue name, ...)" };
        var limit = new Option<int?>("--limit") { Description = "At most this many entries, newest first (default 50)" };
        var command = Cli.WithCommon(new Command("audit", "The organization's audit log, newest first: who did what to what, when, from where.")
        {
            action, since, until, actor, targetType, target, limit,
        });
        Cli.Action(command, async (cli, ct) =>
        {
            var max = cli.Parse.GetValue(limit) ?? 50;
            if (max < 1) throw new UsageException("--limit must be at least 1");
            var query = new AuditQuery
            {
                Action = cli.Parse.GetValue(action),
                Since = cli.Parse.GetValue(since) is { } s ? When(s, "--since") : null,
                Until = cli.Parse.GetValue(until) is { } u ? When(u, "--until") : null,
                ActorId = cli.Parse.GetValue(actor) is { } a ? Cli.Id(a, "user or API key id") : null,
                TargetType = cli.Parse.GetValue(targetType),
                TargetId = cli.Parse.GetValue(target),
            };
            var entries = new List<AuditEntry>();
            string? cursor = null;
            do
            {
                query.Limit = Math.Min(500, max - entries.Count);
                query.Cursor = cursor;
                var page = await cli.Client.ListAuditAsync(query, ct);
                entries.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null && entries.Count < max);
            return Print(cli, entries, "No audit entries.", ["TIME", "ACTOR", "ACTION", "TARGET", "STATUS", "FROM", "REQUEST"], e =>
            {
                var status = e.Status.ToString(CultureInfo.InvariantCulture);
                return [Cli.Time(e.Time), Cli.Esc(e.ActorName ?? e.ActorId?.ToString() ?? "-"), Cli.Esc(e.Action),
                    Cli.Esc(e.TargetType is null ? "-" : $"{e.TargetType} {e.TargetId}"), e.Status >= 400 ? $"[red]{status}[/]" : status,
                    Cli.Esc(e.Ip ?? "-"), Cli.Esc(e.RequestId ?? "-")];
            });
        });
        return command;
    }

    /// <summary>The items as JSON (<c>--json</c>), or a table of the cells <paramref name="row"/> makes (markup), or the line for none.</summary>
    private static int Print<T>(Cli cli, IReadOnlyList<T> items, string none, string[] columns, Func<T, string[]> row)
    {
        if (cli.Json)
        {
            Cli.WriteJson(items);
            return 0;
        }
        if (items.Count == 0)
        {
            cli.Line(none);
            return 0;
        }
        var table = Cli.NewTable(columns);
        foreach (var item in items) table.AddRow(row(item));
        cli.Out.Write(table);
        return 0;
    }

    /// <summary>A time (RFC 3339) or a while back from now (<c>1h</c>, <c>7d</c>).</summary>
    private static DateTimeOffset When(string text, string option) =>
        text.Contains('-', StringComparison.Ordinal) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUniversalTime()
            : DateTimeOffset.UtcNow - Cli.Duration(text, option);
}
