using Kairos.Core;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

internal sealed class SqliteApiKeyStore(SqliteStore store) : IApiKeyStore
{
    private const string Columns = "id, organization_id, name, prefix, hash, scopes, created_at, expires_at, last_used_at, revoked_at";

    public Task<ApiKey> CreateAsync(CreateApiKeyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var key = new ApiKey
            {
                Id = Ids.New(ctx.Time),
                OrganizationId = p.OrganizationId,
                Name = p.Name,
                Prefix = p.Prefix,
                Hash = p.Hash,
                Scopes = p.Scopes,
                CreatedAt = ctx.Now,
                ExpiresAt = p.ExpiresAt,
            };
            ctx.Cmd($"INSERT INTO api_keys ({Columns}) VALUES ($id, $org, $name, $prefix, $hash, $scopes, $created, $expires, NULL, NULL)")
                .Set("$id", key.Id.ToString()).Set("$org", key.OrganizationId.ToString()).Set("$name", key.Name).Set("$prefix", key.Prefix)
                .Set("$hash", key.Hash).Set("$scopes", (int)key.Scopes).Set("$created", Ms(key.CreatedAt))
                .Set("$expires", key.ExpiresAt is { } e ? Ms(e) : null).ExecuteNonQuery();
            return key;
        }, cancellationToken);

    public Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM api_keys WHERE hash = $hash";
            cmd.Set("$hash", hash);
            using var r = cmd.ExecuteReader();
            return r.Read() ? Read(r) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<ApiKey>> ListAsync(Guid organizationId, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<ApiKey>>(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {Columns} FROM api_keys WHERE organization_id = $org AND revoked_at IS NULL ORDER BY created_at DESC";
            cmd.Set("$org", organizationId.ToString());
            var list = new List<ApiKey>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) list.Add(Read(r));
            return list;
        }, cancellationToken);

    public Task<bool> RevokeAsync(ApiKeyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
            ctx.Cmd("UPDATE api_keys SET revoked_at = $now WHERE id = $id AND organization_id = $org AND revoked_at IS NULL")
                .Set("$now", Ms(ctx.Now)).Set("$id", p.KeyId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteNonQuery() > 0,
            cancellationToken);

    public Task TouchAsync(ApiKeyParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
            ctx.Cmd("UPDATE api_keys SET last_used_at = $now WHERE id = $id AND organization_id = $org")
                .Set("$now", Ms(ctx.Now)).Set("$id", p.KeyId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteNonQuery(),
            cancellationToken);

    private static ApiKey Read(SqliteDataReader r) => new()
    {
        Id = Guid.Parse(r.GetString(0)),
        OrganizationId = Guid.Parse(r.GetString(1)),
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
