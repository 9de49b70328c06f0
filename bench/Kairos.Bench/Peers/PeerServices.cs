using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Kairos.Bench.Infrastructure;

namespace Kairos.Bench.Peers;

public static class Ports
{
    public static int Free()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

public static class Which
{
    /// <summary>The full path of an executable on the PATH (or among <paramref name="extra"/>), or null.</summary>
    public static string? Find(string name, params string[] extra)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(extra);
        foreach (var d in dirs)
        {
            var p = Path.Combine(d, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}

/// <summary>Debian's <c>redis-server</c> on a free loopback port with its own temporary folder, AOF fsync every second.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string _dir;

    private RedisServer(ChildProcess process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public const string Settings = "redis-server --appendonly yes --appendfsync everysec --save '' (its own temp dir, loopback)";

    public static async Task<RedisServer> StartAsync(string redisServer)
    {
        var port = Ports.Free();
        var dir = Path.Combine(Path.GetTempPath(), "kairos-bench", "redis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var start = new ProcessStartInfo(redisServer) { WorkingDirectory = dir };
        foreach (var a in new[]
                 {
                     "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes",
                     "--appendfsync", "everysec", "--save", "", "--daemonize", "no", "--protected-mode", "no", "--logfile", "",
                 })
        {
            start.ArgumentList.Add(a);
        }
        var p = new ChildProcess(start, "redis-server");
        try
        {
            await p.WaitForLineAsync(l => l.Contains("Ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        }
        catch
        {
            await p.DisposeAsync();
            throw;
        }
        return new RedisServer(p, dir, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A throwaway PostgreSQL cluster (<c>initdb</c> + <c>pg_ctl</c>) in a temporary folder on a free loopback port, run as
/// the <c>postgres</c> user when the harness runs as root.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;
    private readonly bool _asPostgres;

    private PostgresServer(string bin, string dir, int port, bool asPostgres)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
        _asPostgres = asPostgres;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Maximum Pool Size=250;Timeout=30";

    public const string Settings = "PostgreSQL (Debian) initdb in a temp dir, -c synchronous_commit=off -c max_connections=300, loopback";

    /// <summary>The server's version, e.g. "15.14" (from <c>pg_ctl --version</c>), or "?".</summary>
    public string Version { get; private set; } = "?";

    /// <summary>
    /// The connection string Kairos gets with <c>--store postgres</c>: its own schema (created by the server when
    /// missing) and Npgsql's defaults otherwise, so the server's own pooling and statement preparation apply.
    /// </summary>
    public string KairosConnectionString(string schema) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Search Path={schema}";

    /// <summary>Drops a schema and everything in it (a Kairos scenario's tables once its server has exited).</summary>
    public async Task DropSchemaAsync(string schema)
    {
        try
        {
            await using var c = new Npgsql.NpgsqlConnection(ConnectionString);
            await c.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\" CASCADE", c);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Npgsql.NpgsqlException ex)
        {
            // Best effort: the cluster is thrown away at the end of the run anyway.
            Console.Error.WriteLine($"Kairos.Bench: could not drop schema {schema}: {ex.Message}");
        }
    }

    /// <summary>CPU seconds used so far by the whole cluster (the postmaster and every backend), or null off Linux.</summary>
    public double? CpuSeconds()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(_dir, "data", "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? ProcStats.TreeCpuSeconds(pid) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The folder holding initdb and pg_ctl, or null when PostgreSQL is not installed.</summary>
    public static string? FindBin()
    {
        if (Which.Find("initdb") is { } initdb && Which.Find("pg_ctl") is not null) return Path.GetDirectoryName(initdb);
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root).OrderByDescending(d => d, StringComparer.Ordinal)
            .Select(d => Path.Combine(d, "bin")).FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")));
    }

    public static async Task<PostgresServer> StartAsync(string bin)
    {
        var asPostgres = Environment.UserName == "root";
        var port = Ports.Free();
        var dir = Path.Combine(Path.GetTempPath(), "kairos-bench", "pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        if (asPostgres) await RunAsync("chown", false, "-R", "postgres:postgres", dir);
        var pg = new PostgresServer(bin, dir, port, asPostgres);
        await pg.Tool("initdb", "-D", Path.Combine(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        await pg.Tool("pg_ctl", "-D", Path.Combine(dir, "data"), "-l", Path.Combine(dir, "log"), "-w", "-t", "60", "-o",
            $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=300", "start");
        try
        {
            var version = await RunAsync(Path.Combine(bin, "pg_ctl"), false, "--version");
            // "pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
            var m = System.Text.RegularExpressions.Regex.Match(version, @"\d+(\.\d+)+");
            if (m.Success) pg.Version = m.Value;
        }
        catch (InvalidOperationException)
        {
        }
        return pg;
    }

    private Task<string> Tool(string name, params string[] args) => RunAsync(Path.Combine(_bin, name), _asPostgres, args);

    private static async Task<string> RunAsync(string file, bool asPostgres, params string[] args)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file }) start.ArgumentList.Add(a);
        }
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await output}{await errors}");
        return await output;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Tool("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
