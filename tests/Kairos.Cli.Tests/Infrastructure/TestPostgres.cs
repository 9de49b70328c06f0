using Npgsql;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of the process tests, named by <c>KAIROS_TEST_POSTGRES</c> (a connection string, e.g.
/// <c>Host=127.0.0.1;Port=55432;Username=kairos;Password=kairos;Database=kairos_test</c>). Every test works in a schema
/// of its own, created before its servers start and dropped after they are killed. Without the variable the tests are
/// skipped, in the open; with <c>KAIROS_REQUIRE_POSTGRES=1</c> (CI) they fail instead.
/// </summary>
public static class TestPostgres
{
    public const string Variable = "KAIROS_TEST_POSTGRES";
    public const string RequireVariable = "KAIROS_REQUIRE_POSTGRES";

    /// <summary>The server's connection string; skips (or, when required, fails) the test when there is none.</summary>
    public static string ConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(Variable);
            if (string.IsNullOrWhiteSpace(value))
            {
                if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
                {
                    throw new InvalidOperationException($"PostgreSQL is required ({RequireVariable}=1) but {Variable} is not set");
                }
                Skip.If(true, $"{Variable} is not set: no PostgreSQL server to test against " +
                              $"(e.g. {Variable}=\"Host=127.0.0.1;Port=55432;Username=kairos;Password=kairos;Database=kairos_test\")");
            }
            return value!;
        }
    }

    /// <summary>Creates a fresh schema (<c>kc_</c> + a random id) and returns its name.</summary>
    public static async Task<string> CreateSchemaAsync()
    {
        var schema = "kc_" + Guid.NewGuid().ToString("N");
        await using var connection = await ConnectAsync();
        await using var cmd = new NpgsqlCommand($"CREATE SCHEMA \"{schema}\"", connection);
        await cmd.ExecuteNonQueryAsync();
        return schema;
    }

    /// <summary>The server's connection string with <c>Search Path</c> set to <paramref name="schema"/>; <paramref name="change"/> may adjust it further.</summary>
    public static string InSchema(string schema, Action<NpgsqlConnectionStringBuilder>? change = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = schema };
        change?.Invoke(builder);
        return builder.ConnectionString;
    }

    /// <summary>An unpooled connection, in <paramref name="schema"/> when one is named (for verification queries).</summary>
    public static async Task<NpgsqlConnection> ConnectAsync(string? schema = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false };
        if (schema is not null) builder.SearchPath = schema;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task DropSchemaAsync(string schema)
    {
        await using var connection = await ConnectAsync();
        await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
        await cmd.ExecuteNonQueryAsync();
    }
}
