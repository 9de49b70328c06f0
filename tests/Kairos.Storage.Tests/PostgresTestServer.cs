using Kairos.Core.Storage;
using Kairos.Storage.Postgres;
using Npgsql;

namespace Kairos.Storage.Tests;

/// <summary>
/// The PostgreSQL server of the tests, named by <c>KAIROS_TEST_POSTGRES</c> (a connection string, e.g.
/// <c>Host=127.0.0.1;Port=55432;Username=kairos;Password=kairos;Database=kairos_test</c>). Every store gets a schema
/// of its own, dropped after the test. Without the variable the PostgreSQL tests are skipped, in the open; with
/// <c>KAIROS_REQUIRE_POSTGRES=1</c> (CI) they fail instead.
/// </summary>
internal static class PostgresTestServer
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
                    throw new InvalidOperationException($"PostgreSQL required but {Variable} is not set");
                }
                Skip.If(true, $"{Variable} is not set: no PostgreSQL server to test against (e.g. {Variable}=\"Host=127.0.0.1;Port=55432;Username=kairos;Password=kairos;Database=kairos_test\")");
            }
            return value!;
        }
    }

    public static string NewSchema() => "kt_" + Guid.NewGuid().ToString("N");

    public static string InSchema(string schema) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = schema }.ConnectionString;

    /// <summary>A migrated store in <paramref name="schema"/> (created when missing).</summary>
    public static async Task<IKairosStore> OpenAsync(string schema, TimeProvider time)
    {
        var store = new PostgresStore(new PostgresStoreOptions { ConnectionString = InSchema(schema) }, time);
        try
        {
            await store.MigrateAsync(CancellationToken.None);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
        return store;
    }

    /// <summary>An unpooled admin connection to the server (not inside any test schema).</summary>
    public static async Task<NpgsqlConnection> ConnectAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task DropSchemasAsync(IEnumerable<string> schemas)
    {
        await using var connection = await ConnectAsync();
        foreach (var schema in schemas)
        {
            await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
