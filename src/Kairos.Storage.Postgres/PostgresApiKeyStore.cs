using Kairos.Core;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

internal sealed class PostgresApiKeyStore(PostgresStore store) : IApiKeyStore
{
    private const string Columns = "id, organization_id, name, prefix, hash, scopes, created_at, expires_at, last_used_at, revoked_at";

    private NpgsqlDataSource Db => store.DataSource;

    public async Task<ApiKey> CreateAsync(CreateApiKeyParams p, CancellationToken cancellationToken)
    {
        var key = new ApiKey
        {
            Id = Ids.New(store.Time),
            OrganizationId = p.OrganizationId,
            Name = p.Name,
            Prefix = p.Prefix,
            Hash = p.Hash,
            Scopes = p.Scopes,
            CreatedAt = store.Time.GetUtcNow(),
            ExpiresAt = p.ExpiresAt,
        };
        await using var cmd = Db.CreateCommand($"INSERT INTO api_keys ({Columns}) VALUES (@id, @org, @name, @prefix, @hash, @scopes, @created, @expires, NULL, NULL)");
        cmd.Parameters.Uuid("id", key.Id).Uuid("org", key.OrganizationId).Text("name", key.Name).Text("prefix", key.Prefix).Text("hash", key.Hash)
            .Int("scopes", (int)key.Scopes).Long("created", Ms(key.CreatedAt)).Long("expires", key.ExpiresAt is { } e ? Ms(e) : null);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        return key;
    }

    public async Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM api_keys WHERE hash = @hash");
        cmd.Parameters.Text("hash", hash);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? Read(r) : null;
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM api_keys WHERE organization_id = @org AND revoked_at IS NULL ORDER BY created_at DESC");
        cmd.Parameters.Uuid("org", organizationId);
        var list = new List<ApiKey>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) list.Add(Read(r));
        return list;
    }

    public async Task<bool> RevokeAsync(ApiKeyParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("UPDATE api_keys SET revoked_at = @now WHERE id = @id AND organization_id = @org AND revoked_at IS NULL");
        cmd.Parameters.Long("now", Ms(store.Time.GetUtcNow())).Uuid("id", p.KeyId).Uuid("org", p.OrganizationId);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task TouchAsync(ApiKeyParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("UPDATE api_keys SET last_used_at = @now WHERE id = @id AND organization_id = @org");
        cmd.Parameters.Long("now", Ms(store.Time.GetUtcNow())).Uuid("id", p.KeyId).Uuid("org", p.OrganizationId);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static ApiKey Read(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Name = r.GetString(2),
        Prefix = r.GetString(3),
        Hash = r.GetString(4),
        Scopes = (ApiKeyScopes)r.GetInt32(5),
        CreatedAt = Time(r.GetInt64(6)),
        ExpiresAt = TimeOrNull(r, 7),
        LastUsedAt = TimeOrNull(r, 8),
        RevokedAt = TimeOrNull(r, 9),
    };
}
