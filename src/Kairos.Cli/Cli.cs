using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kairos.Client;
using Spectre.Console;

namespace Kairos.Cli;

/// <summary>A mistake in how the command was called: one line on stderr, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// What the management commands share: <c>--url</c>, <c>--api-key</c> and <c>--json</c>, the saved profile, the client,
/// human output (Spectre.Console tables) and JSON output, and the exit codes: 0 success, 1 a failure the server reported
/// (or no server), 2 a usage error, each failure with one line on stderr.
/// </summary>
internal sealed class Cli
{
    public static readonly Option<string?> UrlOption = new("--url")
    {
        Description = "The Kairos server (env KAIROS_URL, else the saved profile, else http://localhost:7700)",
        Recursive = true,
    };

    public static readonly Option<string?> ApiKeyOption = new("--api-key")
    {
        Description = "The API key (env KAIROS_API_KEY, else the saved profile)",
        Recursive = true,
    };

    public static readonly Option<bool> JsonOption = new("--json") { Description = "Write JSON for scripts instead of tables", Recursive = true };

    public static readonly JsonSerializerOptions JsonOut = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly JsonSerializerOptions JsonLine = new(JsonOut) { WriteIndented = false };

    private KairosClient? _client;

    private Cli(ParseResult parse)
    {
        Parse = parse;
        Json = parse.GetValue(JsonOption);
        var profile = Profile.Load();
        (Url, UrlSource) = parse.GetValue(UrlOption) is { Length: > 0 } flag ? (flag, "--url")
            : Environment.GetEnvironmentVariable("KAIROS_URL") is { Length: > 0 } env ? (env, "KAIROS_URL")
            : profile?.Url is { Length: > 0 } saved ? (saved, "profile")
            : ("http://localhost:7700", "default");
        ApiKey = parse.GetValue(ApiKeyOption) is { Length: > 0 } key ? key
            : Environment.GetEnvironmentVariable("KAIROS_API_KEY") is { Length: > 0 } envKey ? envKey
            : profile?.ApiKey;
        Out = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected) Out.Profile.Width = 240;
    }

    public ParseResult Parse { get; }
    public bool Json { get; }
    public string Url { get; }
    public string UrlSource { get; }
    public string? ApiKey { get; }
    public IAnsiConsole Out { get; }

    public KairosClient Client => _client ??= new KairosClient(ParseUrl(Url), ApiKey);

    /// <summary>Adds the shared options to a command (and, being recursive, to its subcommands).</summary>
    public static T WithCommon<T>(T command) where T : Command
    {
        command.Options.Add(UrlOption);
        command.Options.Add(ApiKeyOption);
        command.Options.Add(JsonOption);
        return command;
    }

    /// <summary>Sets the command's action, with the exit codes and one-line errors.</summary>
    public static void Action(Command command, Func<Cli, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            Cli? cli = null;
            try
            {
                cli = new Cli(parse);
                return await action(cli, cancellationToken);
            }
            catch (UsageException ex)
            {
                await Console.Error.WriteLineAsync($"kairos: {ex.Message}");
                return 2;
            }
            catch (KairosException ex)
            {
                await Console.Error.WriteLineAsync($"kairos: {Describe(ex)}");
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 130;
            }
            finally
            {
                cli?._client?.Dispose();
            }
        });

    public static string Describe(KairosException ex)
    {
        var text = ex.Detail ?? ex.Title ?? ex.Message;
        if (ex.StatusCode is { } status) text += $" ({(int)status}{(ex.Title is { } t && ex.Detail is not null ? " " + t : "")})";
        return text;
    }

    public static Uri ParseUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new UsageException($"'{url}' is not an http(s) URL, e.g. http://localhost:7700");

    /// <summary>Walks every page of a list (queues, workers: small lists) into one.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(Func<string?, CancellationToken, Task<Kairos.Client.Page<T>>> page, CancellationToken cancellationToken)
    {
        var all = new List<T>();
        string? cursor = null;
        do
        {
            var p = await page(cursor, cancellationToken);
            all.AddRange(p.Items);
            cursor = p.NextCursor;
        }
        while (cursor is not null);
        return all;
    }

    /// <summary>
    /// One page of a history (runs): JSON with its next cursor, or a table with one row per item and the command that
    /// shows the next page; <paramref name="empty"/> when there is nothing.
    /// </summary>
    public int WritePage<T>(Kairos.Client.Page<T> page, string empty, string[] columns, Func<T, string[]> row, string nextCommand)
    {
        if (Json)
        {
            WriteJson(new { page.Items, page.NextCursor });
            return 0;
        }
        if (page.Items.Count == 0)
        {
            Line(empty);
            return 0;
        }
        var table = NewTable(columns);
        foreach (var item in page.Items) table.AddRow(row(item));
        Out.Write(table);
        if (page.NextCursor is not null) Line($"More: {Esc(nextCommand)} --cursor {Esc(page.NextCursor)}");
        return 0;
    }

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOut));

    /// <summary>One JSON document on one line (streams: events, log lines).</summary>
    public static void WriteJsonLine<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonLine));

    public void Line(string markup) => Out.MarkupLine(markup);

    public static string Esc(string? text) => Markup.Escape(text ?? "");

    public static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var c in columns) table.AddColumn(new TableColumn(c).NoWrap());
        return table;
    }

    public static string Ago(DateTimeOffset? at)
    {
        if (at is not { } t) return "-";
        var d = DateTimeOffset.UtcNow - t;
        if (d < TimeSpan.Zero) return "in " + Span(-d);
        return Span(d) + " ago";
    }

    public static string Span(TimeSpan d) =>
        d.TotalSeconds < 1 ? $"{d.TotalMilliseconds:0}ms"
        : d.TotalMinutes < 1 ? $"{d.TotalSeconds:0}s"
        : d.TotalHours < 1 ? $"{(int)d.TotalMinutes}m{d.Seconds:00}s"
        : d.TotalDays < 1 ? $"{(int)d.TotalHours}h{d.Minutes:00}m"
        : $"{(int)d.TotalDays}d{d.Hours:00}h";

    public static string Time(DateTimeOffset? at) =>
        at is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";

    public static string StateMarkup(string state) => state switch
    {
        JobStates.Succeeded => "[green]succeeded[/]",
        JobStates.Failed => "[red]failed[/]",
        JobStates.Cancelled => "[grey]cancelled[/]",
        JobStates.Running => "[blue]running[/]",
        JobStates.Retrying => "[yellow]retrying[/]",
        _ => Esc(state),
    };

    /// <summary>A GUID argument, or a usage error.</summary>
    public static Guid Id(string? text, string what = "job id") =>
        Guid.TryParse(text, out var id) ? id : throw new UsageException($"'{text}' is not a {what} (a UUID like 0193a1c2-...)");

    /// <summary><c>250ms</c>, <c>10s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>; a bare number is seconds.</summary>
    public static TimeSpan Duration(string text, string option)
    {
        var t = text.Trim();
        (string number, double scale) = t.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (t[..^2], 1.0)
            : t.EndsWith('s') ? (t[..^1], 1000.0)
            : t.EndsWith('m') ? (t[..^1], 60_000.0)
            : t.EndsWith('h') ? (t[..^1], 3_600_000.0)
            : t.EndsWith('d') ? (t[..^1], 86_400_000.0)
            : (t, 1000.0);
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? TimeSpan.FromMilliseconds(n * scale)
            : throw new UsageException($"{option}: '{text}' is not a duration (e.g. 500ms, 10s, 5m, 2h)");
    }
}

/// <summary>The saved login: <c>~/.config/kairos/config.json</c> (or <c>KAIROS_CONFIG</c>), readable by its owner only.</summary>
internal sealed class Profile
{
    public string? Url { get; set; }
    public string? ApiKey { get; set; }

    public static string FilePath =>
        Environment.GetEnvironmentVariable("KAIROS_CONFIG") is { Length: > 0 } path ? path
        : Path.Combine(ConfigFolder(), "kairos", "config.json");

    private static string ConfigFolder()
    {
        if (Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg) return xdg;
        var appData = Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData);
        return appData.Length > 0 ? appData : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
    }

    public static Profile? Load()
    {
        try
        {
            return File.Exists(FilePath) ? JsonSerializer.Deserialize<Profile>(File.ReadAllText(FilePath), Cli.JsonOut) : null;
        }
        catch (JsonException ex)
        {
            throw new UsageException($"the profile {FilePath} is not valid JSON ({ex.Message}); run kairos login again");
        }
    }

    public void Save()
    {
        var path = FilePath;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        if (!OperatingSystem.IsWindows())
        {
            // Created with mode 0600 before the key is written into it.
            using var create = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            using var writer = new StreamWriter(create);
            writer.Write(JsonSerializer.Serialize(this, Cli.JsonOut));
        }
        else
        {
            File.WriteAllText(temp, JsonSerializer.Serialize(this, Cli.JsonOut));
        }
        File.Move(temp, path, overwrite: true);
    }
}
