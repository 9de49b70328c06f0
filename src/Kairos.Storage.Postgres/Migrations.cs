using System.Globalization;
using System.Text;
using Npgsql;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Numbered SQL files embedded in the assembly (<c>NNN_name.sql</c>, the same numbers and names as SQLite's), applied
/// in order at start and recorded in schema_migrations. All of them run in one transaction that first takes
/// <c>pg_advisory_xact_lock</c> on a key derived from the schema name: two nodes starting together migrate one after
/// the other, while stores in different schemas (parallel tests) do not wait for each other.
/// </summary>
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
            var file = resource.Split('.')[^2]; // Kairos.Storage.Postgres.Migrations.001_initial.sql
            var version = int.Parse(file.AsSpan(0, 3), provider: CultureInfo.InvariantCulture);
            using var stream = asm.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            list.Add((version, file, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    /// <summary>
    /// Creates <paramref name="schema"/> when it is named and missing, then applies the pending migrations inside it.
    /// Returns the schema the tables live in (the connection's current_schema()).
    /// </summary>
    public static async Task<string> ApplyAsync(NpgsqlConnection connection, string? schema, long appliedAtMs, CancellationToken cancellationToken)
    {
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        if (schema is null)
        {
            schema = await ScalarAsync<string?>(connection, "SELECT current_schema()", cancellationToken)
                ?? throw new InvalidOperationException("the connection's search_path names no existing schema");
        }
        await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection))
        {
            cmd.Parameters.Long("key", Keys.Of("migrate", schema));
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        // Only when missing: CREATE SCHEMA checks the database's CREATE privilege even with IF NOT EXISTS.
        await using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @s)", connection))
        {
            exists.Parameters.Text("s", schema);
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                await ExecAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {QuoteIdentifier(schema)}", cancellationToken);
            }
        }
        await ExecAsync(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)", cancellationToken);
        var applied = new HashSet<int>();
        await using (var cmd = new NpgsqlCommand("SELECT version FROM schema_migrations", connection))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken)) applied.Add(r.GetInt32(0));
        }
        foreach (var (version, name, sql) in All)
        {
            if (applied.Contains(version)) continue;
            await ExecAsync(connection, sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)", connection);
            record.Parameters.Int("v", version).Text("n", name).Long("t", appliedAtMs);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return schema;
    }

    private static async Task ExecAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        var value = await cmd.ExecuteScalarAsync(cancellationToken);
        return value is DBNull or null ? default! : (T)value;
    }

    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

/// <summary>Stable 64-bit keys for advisory locks and names, derived from the schema so that schemas stay apart.</summary>
internal static class Keys
{
    /// <summary>FNV-1a over "kairos:{purpose}:{schema}" (UTF-8): stable across processes and .NET versions.</summary>
    public static long Of(string purpose, string schema)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offset;
        foreach (var b in Encoding.UTF8.GetBytes($"kairos:{purpose}:{schema}"))
        {
            hash ^= b;
            hash *= prime;
        }
        return unchecked((long)hash);
    }

    /// <summary>The LISTEN/NOTIFY channel of a schema; channel names are database-wide and at most 63 bytes.</summary>
    public static string Channel(string schema)
    {
        var name = "kairos_" + schema;
        return Encoding.UTF8.GetByteCount(name) <= 63
            ? name
            : "kairos_" + ((ulong)Of("channel", schema)).ToString("x16", CultureInfo.InvariantCulture);
    }
}
