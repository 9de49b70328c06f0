using Microsoft.Data.Sqlite;

namespace Kairos.Storage.Sqlite;

/// <summary>Small read helpers: many rows on a pooled reader connection, or one row inside the writer's work.</summary>
internal static class SqliteQueries
{
    public static Task<List<T>> ManyAsync<T>(this SqliteStore store, string sql, Action<SqliteCommand> set, Func<SqliteDataReader, T> read,
        CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            set(cmd);
            var items = new List<T>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) items.Add(read(r));
            return items;
        }, cancellationToken);

    public static T? One<T>(this WriteContext ctx, string sql, Action<SqliteCommand> set, Func<SqliteDataReader, T> read) where T : class
    {
        var cmd = ctx.Cmd(sql);
        set(cmd);
        using var r = cmd.ExecuteReader();
        return r.Read() ? read(r) : null;
    }
}
