using Npgsql;

namespace Kairos.Storage.Postgres;

/// <summary>Small query helpers on a data source (a pooled connection each) or on one connection inside a transaction.</summary>
internal static class PostgresQueries
{
    public static async Task<List<T>> ManyAsync<T>(this NpgsqlDataSource db, string sql, Action<NpgsqlParameterCollection> set,
        Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(sql);
        return await ReadAllAsync(cmd, set, read, cancellationToken);
    }

    public static async Task<List<T>> ManyAsync<T>(this NpgsqlConnection c, string sql, Action<NpgsqlParameterCollection> set,
        Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        return await ReadAllAsync(cmd, set, read, cancellationToken);
    }

    public static async Task<T?> OneAsync<T>(this NpgsqlDataSource db, string sql, Action<NpgsqlParameterCollection> set,
        Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) where T : class =>
        (await db.ManyAsync(sql, set, read, cancellationToken)).FirstOrDefault();

    public static async Task<T?> OneAsync<T>(this NpgsqlConnection c, string sql, Action<NpgsqlParameterCollection> set,
        Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) where T : class =>
        (await c.ManyAsync(sql, set, read, cancellationToken)).FirstOrDefault();

    public static async Task<int> ExecAsync(this NpgsqlDataSource db, string sql, Action<NpgsqlParameterCollection> set, CancellationToken cancellationToken)
    {
        await using var cmd = db.CreateCommand(sql);
        set(cmd.Parameters);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<int> ExecAsync(this NpgsqlConnection c, string sql, Action<NpgsqlParameterCollection> set, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        set(cmd.Parameters);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction on one pooled connection, committed when it returns.</summary>
    public static async Task<T> InTransactionAsync<T>(this NpgsqlDataSource db, Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection);
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task<List<T>> ReadAllAsync<T>(NpgsqlCommand cmd, Action<NpgsqlParameterCollection> set, Func<NpgsqlDataReader, T> read,
        CancellationToken cancellationToken)
    {
        set(cmd.Parameters);
        var list = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) list.Add(read(r));
        return list;
    }
}
