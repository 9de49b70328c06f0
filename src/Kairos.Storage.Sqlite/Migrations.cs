using System.Reflection;
using Microsoft.Data.Sqlite;

namespace Kairos.Storage.Sqlite;

/// <summary>Numbered SQL files embedded in the assembly (<c>NNN_name.sql</c>), applied in order at start and recorded in schema_migrations.</summary>
internal static class Migrations
{
    private static readonly IReadOnlyList<(int Version, string Name, string Sql)> All = Load();

    public static int Latest => All[^1].Version;

    private static List<(int, string, string)> Load()
    {
        var asm = typeof(Migrations).Assembly;
        var list = new List<(int, string, string)>();
        foreach (var resource in asm.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var file = resource.Split('.')[^2]; // Kairos.Storage.Sqlite.Migrations.001_initial.sql
            var version = int.Parse(file.AsSpan(0, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
            using var stream = asm.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add((version, file, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    public static void Apply(SqliteConnection connection, TimeProvider time)
    {
        Exec(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        foreach (var (version, name, sql) in All)
        {
            // BEGIN IMMEDIATE takes the write lock, so two processes starting on one file do not both migrate.
            Exec(connection, "BEGIN IMMEDIATE");
            try
            {
                using var check = connection.CreateCommand();
                check.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE version = $v";
                check.Parameters.AddWithValue("$v", version);
                if ((long)check.ExecuteScalar()! == 0)
                {
                    Exec(connection, sql);
                    using var record = connection.CreateCommand();
                    record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t)";
                    record.Parameters.AddWithValue("$v", version);
                    record.Parameters.AddWithValue("$n", name);
                    record.Parameters.AddWithValue("$t", time.GetUtcNow().ToUnixTimeMilliseconds());
                    record.ExecuteNonQuery();
                }
                Exec(connection, "COMMIT");
            }
            catch
            {
                Exec(connection, "ROLLBACK");
                throw;
            }
        }
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
