using System.Net.Sockets;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Npgsql;

namespace Kairos.Storage.Postgres;

public sealed record PostgresStoreOptions
{
    /// <summary>
    /// An Npgsql connection string (<c>Host=...;Port=...;Username=...;Password=...;Database=...</c>). With
    /// <c>Search Path=schema</c> the store lives in that schema, created when missing.
    /// </summary>
    public required string ConnectionString { get; init; }
    public RetryPolicy RetryPolicy { get; init; } = RetryPolicy.Default;
}

/// <summary>
/// The store for several server nodes on one PostgreSQL database. Every call runs on a pooled connection of an
/// <see cref="NpgsqlDataSource"/>; listening and leadership hold dedicated connections of their own (see
/// <see cref="PostgresCluster"/>). Time comes from the injected <see cref="TimeProvider"/>, never from the database's
/// clock, so every node and every test agrees on "now" the same way the SQLite store does.
/// </summary>
public sealed class PostgresStore : IKairosStore
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(5);

    private readonly PostgresStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly PostgresCluster _cluster;
    private NpgsqlDataSource? _pooled;
    private NpgsqlDataSource? _dedicated;
    private string? _schema;
    private int _disposed;

    public PostgresStore(PostgresStoreOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        Jobs = new PostgresJobStore(this);
        Queues = new PostgresQueueStore(this);
        Workers = new PostgresWorkerStore(this);
        ApiKeys = new PostgresApiKeyStore(this);
        Identity = new PostgresIdentityStore(this);
        Schedules = new PostgresScheduleStore(this);
        Workflows = new PostgresWorkflowStore(this);
        WorkflowTemplates = new PostgresWorkflowTemplateStore(this);
        Monitors = new PostgresMonitorStore(this);
        Metrics = new PostgresMetricsStore(this);
        Manifests = new PostgresManifestStore(this);
        Audit = new PostgresAuditStore(this);
        Alerts = new PostgresAlertStore(this);
        Webhooks = new PostgresWebhookStore(this);
        KeyRing = new PostgresKeyRingStore(this);
        _cluster = new PostgresCluster(this);
    }

    public string Driver => "postgres";

    public StoreCapabilities Capabilities { get; } = new(
        NotifiesAcrossNodes: true,
        Durability: "postgresql: a commit is as durable as the server's synchronous_commit and fsync settings make it (by default it survives crashes and power loss)");

    public IJobStore Jobs { get; }
    public IQueueStore Queues { get; }
    public IWorkerStore Workers { get; }
    public IApiKeyStore ApiKeys { get; }
    public IIdentityStore Identity { get; }
    public IScheduleStore Schedules { get; }
    public IWorkflowStore Workflows { get; }
    public IWorkflowTemplateStore WorkflowTemplates { get; }
    public IMonitorStore Monitors { get; }
    public IMetricsStore Metrics { get; }
    public IManifestStore Manifests { get; }
    public IAuditStore Audit { get; }
    public IAlertStore Alerts { get; }
    public IWebhookStore Webhooks { get; }
    public IKeyRingStore KeyRing { get; }
    public IStoreCluster? Cluster => _cluster;

    internal TimeProvider Time => _time;
    internal RetryPolicy RetryPolicy => _options.RetryPolicy;

    /// <summary>The pooled data source of ordinary calls.</summary>
    internal NpgsqlDataSource DataSource => _pooled ?? throw new InvalidOperationException("The store is not open: call MigrateAsync first.");

    /// <summary>Unpooled connections for LISTEN and the leader's advisory lock, which hold session state.</summary>
    internal NpgsqlDataSource Dedicated => _dedicated ?? throw new InvalidOperationException("The store is not open: call MigrateAsync first.");

    /// <summary>The schema the tables live in; names the NOTIFY channel and the advisory lock keys.</summary>
    internal string Schema => _schema ?? throw new InvalidOperationException("The store is not open: call MigrateAsync first.");

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new InvalidOperationException($"Invalid PostgreSQL connection string: {OneLine(ex.Message)}", ex);
        }
        var schema = FirstSchema(builder.SearchPath);
        // Defaults unless the connection string says otherwise: pooling is on (Npgsql's own default, up to 100
        // connections), and statements used twice are prepared on their connection, which halves the latency of the
        // larger statements here (planning the lease statement costs about as much as running it).
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "kairos";
        if (!Names(_options.ConnectionString, "maxautoprepare")) builder.MaxAutoPrepare = 64;
        var where = Where(builder);
        try
        {
            _pooled = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
            var dedicated = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false };
            _dedicated = new NpgsqlDataSourceBuilder(dedicated.ConnectionString).Build();
            await using var connection = await _pooled.OpenConnectionAsync(cancellationToken);
            _schema = await Migrations.ApplyAsync(connection, schema, Rows.Ms(_time.GetUtcNow()), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Cannot open the PostgreSQL store at {where}: {Reason(ex)}", ex);
        }
        _cluster.Start();
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (_pooled is not { } dataSource || _schema is null || Volatile.Read(ref _disposed) != 0) return false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            await using var cmd = dataSource.CreateCommand("SELECT max(version) FROM schema_migrations");
            cmd.CommandTimeout = (int)ReadyTimeout.TotalSeconds;
            return await cmd.ExecuteScalarAsync(timeout.Token) is int version && version >= Migrations.Latest;
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or IOException
                                       || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Idle pooled connections died with the server: drop them so that the next call opens fresh ones.
            dataSource.Clear();
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _cluster.DisposeAsync();
        if (_dedicated is { } dedicated) await dedicated.DisposeAsync();
        if (_pooled is { } pooled) await pooled.DisposeAsync();
    }

    /// <summary>Whether the connection string itself sets <paramref name="key"/> (compared without case and spaces).</summary>
    private static bool Names(string connectionString, string key) =>
        new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Any(k => string.Equals(k.Replace(" ", "", StringComparison.Ordinal), key, StringComparison.OrdinalIgnoreCase));

    /// <summary>The first schema of a search path (<c>"a", b</c> → <c>a</c>), or null when none is named.</summary>
    private static string? FirstSchema(string? searchPath)
    {
        if (string.IsNullOrWhiteSpace(searchPath)) return null;
        var first = searchPath.Split(',')[0].Trim();
        if (first.Length >= 2 && first[0] == '"' && first[^1] == '"')
        {
            return first[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal);
        }
        // Unquoted identifiers fold to lower case; "$user" is resolved by the server.
        return first.Length == 0 || first == "$user" ? null : first.ToLowerInvariant();
    }

    /// <summary>Host, port, database and user of a connection string: never the password.</summary>
    private static string Where(NpgsqlConnectionStringBuilder b) =>
        $"{b.Host ?? "localhost"}:{b.Port} (database \"{b.Database ?? b.Username}\", user \"{b.Username}\")";

    /// <summary>What went wrong, in one line: the server's message, or the network's.</summary>
    internal static string Reason(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    return OneLine($"{pg.MessageText} ({pg.SqlState})");
                case SocketException socket:
                    return OneLine(socket.Message);
                case TimeoutException:
                    return "timed out";
            }
        }
        var innermost = ex;
        while (innermost.InnerException is not null) innermost = innermost.InnerException;
        return OneLine(innermost.Message);
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
}
