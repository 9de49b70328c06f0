using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Kairos.Storage.Sqlite;

/// <summary>How commits survive failures.</summary>
public enum SqliteDurability
{
    /// <summary>WAL with synchronous=NORMAL: a commit survives a crash or kill -9 of the process; a power loss may lose the last commits.</summary>
    Normal,
    /// <summary>WAL with synchronous=FULL: every commit is fsynced, surviving power loss too, at a cost in throughput.</summary>
    Full,
}

public sealed record SqliteStoreOptions
{
    /// <summary>The database file; created with its folder when missing.</summary>
    public required string Path { get; init; }
    public SqliteDurability Durability { get; init; } = SqliteDurability.Normal;
    public RetryPolicy RetryPolicy { get; init; } = RetryPolicy.Default;
}

/// <summary>
/// The default store: one SQLite file in WAL mode. All writes go through one <see cref="SqliteWriter"/> that group-commits
/// them; reads use pooled connections of their own, which WAL lets run beside the writer.
/// </summary>
public sealed class SqliteStore : IKairosStore
{
    private readonly SqliteStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly string _connectionString;
    private SqliteWriter? _writer;

    public SqliteStore(SqliteStoreOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        Jobs = new SqliteJobStore(this);
        Queues = new SqliteQueueStore(this);
        Workers = new SqliteWorkerStore(this);
        ApiKeys = new SqliteApiKeyStore(this);
        Identity = new SqliteIdentityStore(this);
        Audit = new SqliteAuditStore(this);
        Schedules = new SqliteScheduleStore(this);
        Alerts = new SqliteAlertStore(this);
        Webhooks = new SqliteWebhookStore(this);
        KeyRing = new SqliteKeyRingStore(this);
        Workflows = new SqliteWorkflowStore(this);
        WorkflowTemplates = new SqliteWorkflowTemplateStore(this);
        Monitors = new SqliteMonitorStore(this);
        Metrics = new SqliteMetricsStore(this);
        Manifests = new SqliteManifestStore(this);
    }

    public string Driver => "sqlite";

    public StoreCapabilities Capabilities => new(
        NotifiesAcrossNodes: false,
        Durability: _options.Durability == SqliteDurability.Full
            ? "sqlite wal, synchronous=full: commits survive process crash and power loss"
            : "sqlite wal, synchronous=normal: commits survive process crash (kill -9); power loss may lose the last commits");

    public IJobStore Jobs { get; }
    public IManifestStore Manifests { get; }
    public IQueueStore Queues { get; }
    public IWorkerStore Workers { get; }
    public IApiKeyStore ApiKeys { get; }
    public IIdentityStore Identity { get; }
    public IAuditStore Audit { get; }
    public IScheduleStore Schedules { get; }
    public IAlertStore Alerts { get; }
    public IWebhookStore Webhooks { get; }
    public IKeyRingStore KeyRing { get; }
    public IWorkflowStore Workflows { get; }
    public IWorkflowTemplateStore WorkflowTemplates { get; }
    public IMonitorStore Monitors { get; }
    public IMetricsStore Metrics { get; }

    /// <summary>One process owns the file: there are no other nodes.</summary>
    public IStoreCluster? Cluster => null;

    internal TimeProvider Time => _time;
    internal RetryPolicy RetryPolicy => _options.RetryPolicy;

    internal SqliteWriter Writer => _writer ?? throw new InvalidOperationException("The store is not open: call MigrateAsync first.");

    public Task MigrateAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null) return Task.CompletedTask; // already open
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_options.Path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);

        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Pragma(connection, "PRAGMA journal_mode=WAL");
        Pragma(connection, _options.Durability == SqliteDurability.Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        Pragma(connection, "PRAGMA busy_timeout=30000");
        Pragma(connection, "PRAGMA temp_store=MEMORY");
        Pragma(connection, "PRAGMA cache_size=-16384");
        Migrations.Apply(connection, _time);
        _writer = new SqliteWriter(connection, _time);
        return Task.CompletedTask;
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (_writer is null) return false;
        try
        {
            return await ReadAsync(c =>
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = "SELECT MAX(version) FROM schema_migrations";
                return cmd.ExecuteScalar() is long v && v >= Migrations.Latest;
            }, cancellationToken);
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <summary>Runs a read on a pooled connection of its own.</summary>
    internal async Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return read(connection);
    }

    internal Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) =>
        Writer.Run(work, cancellationToken);

    private static void Pragma(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        if (_writer is { } writer)
        {
            _writer = null;
            await writer.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
    }
}
