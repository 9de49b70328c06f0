using System.Globalization;

namespace Kairos.Client;

/// <summary>Who am I, API keys and the audit log.</summary>
public sealed partial class KairosClient
{
    /// <summary>The caller: the API key (with its organization and permissions) or the signed-in user.</summary>
    public Task<Me> GetMeAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/auth/me", null, KairosAccessJson.Default.Me, idempotent: true, cancellationToken);

    /// <summary>The organization's API keys (never the keys themselves).</summary>
    public Task<Page<ApiKeyInfo>> ListApiKeysAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/api-keys" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosAccessJson.Default.PageApiKeyInfo, idempotent: true, cancellationToken);

    /// <summary>A new key with these scopes (<c>admin</c>, <c>worker</c>, <c>read</c>); the answer holds the key, this once.</summary>
    public Task<CreatedApiKey> CreateApiKeyAsync(string name, IReadOnlyList<string> scopes, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "api/v1/api-keys", Json(new CreateApiKeyBody { Name = name, Scopes = scopes, ExpiresAt = expiresAt }, KairosAccessJson.Default.CreateApiKeyBody),
            KairosAccessJson.Default.CreatedApiKey, idempotent: false, cancellationToken);

    /// <summary>Revokes a key: refused from now on.</summary>
    public Task RevokeApiKeyAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/api-keys/{id}", null, idempotent: false, cancellationToken);

    /// <summary>A page of the organization's audit log, newest first.</summary>
    public Task<Page<AuditEntry>> ListAuditAsync(AuditQuery? query = null, CancellationToken cancellationToken = default)
    {
        var q = query ?? new AuditQuery();
        var path = "api/v1/audit" + new Query()
            .Add("action", q.Action).Add("actor_type", q.ActorType).Add("actor_id", q.ActorId?.ToString())
            .Add("target_type", q.TargetType).Add("target_id", q.TargetId)
            .Add("since", q.Since?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))
            .Add("until", q.Until?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))
            .Add("limit", q.Limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", q.Cursor);
        return SendAsync(HttpMethod.Get, path, null, KairosAccessJson.Default.PageAuditEntry, idempotent: true, cancellationToken);
    }
}
