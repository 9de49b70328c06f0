using Kairos.Core.Storage;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>The data-protection key ring in the database file (synchronous, as ASP.NET Core's key repository asks).</summary>
internal sealed class SqliteKeyRingStore(SqliteStore store) : IKeyRingStore
{
    public IReadOnlyList<string> ReadAll() =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT xml FROM data_protection_keys ORDER BY created_at, name";
            var items = new List<string>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) items.Add(r.GetString(0));
            return items;
        }, CancellationToken.None).GetAwaiter().GetResult();

    public void Store(string name, string xml) =>
        store.WriteAsync(ctx => ctx.Cmd("INSERT INTO data_protection_keys (name, xml, created_at) VALUES ($name, $xml, $now) ON CONFLICT (name) DO NOTHING")
            .Set("$name", name).Set("$xml", xml).Set("$now", Ms(ctx.Now)).ExecuteNonQuery(), CancellationToken.None).GetAwaiter().GetResult();
}
