using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// The single writer of the database file. Callers hand it work and await their own completion; it runs whatever
/// has piled up in ONE transaction (group commit) and completes everyone's tasks only after the commit. If one piece
/// of work fails, the batch is rolled back and run again with each piece in its own savepoint, so that one failing
/// does not spoil the others. Work must therefore be repeatable: it decides from what it reads inside the transaction.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatch = 1024;

    private readonly Channel<WriteOp> _ops = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WriteContext _context;
    private readonly Task _loop;

    public SqliteWriter(SqliteConnection connection, TimeProvider time)
    {
        _context = new WriteContext(connection, time);
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public Task<T> Run<T>(Func<WriteContext, T> work, CancellationToken cancellationToken = default)
    {
        var op = new WriteOp<T>(work);
        if (!_ops.Writer.TryWrite(op))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "The store is closed.");
        }
        // Once queued, the work runs even if the caller stops waiting: it may already be committed.
        return cancellationToken.CanBeCanceled ? op.Task.WaitAsync(cancellationToken) : op.Task;
    }

    private async Task RunAsync()
    {
        var reader = _ops.Reader;
        var batch = new List<WriteOp>(MaxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var op)) batch.Add(op);

            // Fast path: the whole batch in one transaction without savepoints. Work rarely fails (requests are
            // validated before they get here), so the cost of isolating each op is paid only when one does.
            Exception? failure = null;
            var failed = -1;
            try
            {
                _context.Exec("BEGIN IMMEDIATE");
                for (var i = 0; i < batch.Count; i++)
                {
                    try
                    {
                        batch[i].Execute(_context);
                    }
                    catch
                    {
                        failed = i;
                        throw;
                    }
                }
                _context.Exec("COMMIT");
            }
            catch (Exception ex)
            {
                failure = ex;
                Rollback();
            }
            if (failure is null)
            {
                foreach (var op in batch) op.Complete();
                continue;
            }
            if (failed < 0)
            {
                // The transaction itself failed (disk full, I/O error): nothing of this batch was committed.
                foreach (var op in batch) op.Fail(failure);
                continue;
            }
            batch[failed].Fail(failure);
            batch.RemoveAt(failed);
            RunIsolated(batch);
        }
    }

    /// <summary>Slow path after a failure: each op in its own savepoint, so one failing does not spoil the others.</summary>
    private void RunIsolated(List<WriteOp> batch)
    {
        var done = new List<WriteOp>(batch.Count);
        try
        {
            _context.Exec("BEGIN IMMEDIATE");
            foreach (var op in batch)
            {
                _context.Exec("SAVEPOINT op");
                try
                {
                    op.Execute(_context);
                }
                catch (Exception ex)
                {
                    _context.Exec("ROLLBACK TO op");
                    _context.Exec("RELEASE op");
                    _context.Invalidate();
                    op.Fail(ex);
                    continue;
                }
                _context.Exec("RELEASE op");
                done.Add(op);
            }
            _context.Exec("COMMIT");
        }
        catch (Exception ex)
        {
            Rollback();
            foreach (var op in done) op.Fail(ex);
            foreach (var op in batch) op.Fail(ex); // no-op for those already failed
            return;
        }
        foreach (var op in done) op.Complete();
    }

    private void Rollback()
    {
        try { _context.Exec("ROLLBACK"); } catch (SqliteException) { /* no transaction left to roll back */ }
        _context.Invalidate();
    }

    public async ValueTask DisposeAsync()
    {
        _ops.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _context.Dispose();
    }

    private abstract class WriteOp
    {
        public abstract void Execute(WriteContext context);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    private sealed class WriteOp<T>(Func<WriteContext, T> work) : WriteOp
    {
        private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _tcs.Task;
        public override void Execute(WriteContext context) => _result = work(context);
        public override void Complete() => _tcs.TrySetResult(_result!);
        // Fail and Complete are TrySet: an op failed once stays failed even if its batch is retried.
        public override void Fail(Exception ex) => _tcs.TrySetException(ex);
    }
}

/// <summary>What a piece of write work sees: the writer's connection with its prepared statements, the clock, and caches.</summary>
internal sealed class WriteContext(SqliteConnection connection, TimeProvider time) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteConnection Connection => connection;
    public TimeProvider Time => time;
    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Queue settings, read once per queue and kept in step by the writer (the only one that changes them).</summary>
    public Dictionary<(string Org, string Name), QueueRow?> Queues { get; } = [];

    /// <summary>
    /// When each worker's fetch last wrote its sign of life, and the state it read: a worker that fetches many times a
    /// second writes last_heartbeat_at at most once a second. Worker writes that change state drop their entry.
    /// </summary>
    public Dictionary<string, (string Org, string State, long TouchedAt)> WorkerTouches { get; } = new(StringComparer.Ordinal);

    /// <summary>A prepared command for this SQL text, reused across calls; set its parameters with <see cref="SqliteCommandExtensions.Set"/>.</summary>
    public SqliteCommand Cmd(string sql)
    {
        if (!_commands.TryGetValue(sql, out var cmd))
        {
            cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            _commands[sql] = cmd;
        }
        return cmd;
    }

    public void Exec(string sql) => Cmd(sql).ExecuteNonQuery();

    /// <summary>After a rollback, cached state may no longer match the file.</summary>
    public void Invalidate()
    {
        Queues.Clear();
        WorkerTouches.Clear();
    }

    public void Dispose()
    {
        foreach (var cmd in _commands.Values) cmd.Dispose();
        _commands.Clear();
        // Closing the writer (and then the pooled readers) lets SQLite checkpoint the WAL into the file and remove it.
        connection.Dispose();
    }
}

internal sealed record QueueRow(
    string Name,
    bool Paused,
    string? PauseReason,
    int? ConcurrencyLimit,
    int? RateLimit,
    int? RatePeriodMs,
    int? DefaultMaxAttempts,
    int? DefaultTimeoutMs,
    long CreatedAt);

internal static class SqliteCommandExtensions
{
    public static SqliteCommand Set(this SqliteCommand cmd, string name, object? value)
    {
        var idx = cmd.Parameters.IndexOf(name);
        if (idx >= 0)
        {
            cmd.Parameters[idx].Value = value ?? DBNull.Value;
        }
        else
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return cmd;
    }
}
