using Kairos.Core.Storage;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>The data-protection key ring in the database, shared by every node (synchronous, as ASP.NET Core's key repository asks).</summary>
internal sealed class PostgresKeyRingStore(PostgresStore store) : IKeyRingStore
{
    public IReadOnlyList<string> ReadAll() =>
        store.DataSource.ManyAsync("SELECT xml FROM data_protection_keys ORDER BY created_at, name", _ => { }, r => r.GetString(0), CancellationToken.None)
            .GetAwaiter().GetResult();

    public void Store(string name, string xml) =>
        store.DataSource.ExecAsync("INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @now) ON CONFLICT (name) DO NOTHING",
            ps => ps.Text("name", name).Text("xml", xml).Long("now", Ms(store.Time.GetUtcNow())), CancellationToken.None).GetAwaiter().GetResult();
}
