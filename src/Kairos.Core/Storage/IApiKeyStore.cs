using Kairos.Core.Auth;

namespace Kairos.Core.Storage;

public interface IApiKeyStore
{
    Task<ApiKey> CreateAsync(CreateApiKeyParams p, CancellationToken cancellationToken);
    /// <summary>The key with this hash, revoked or not; null when none.</summary>
    Task<ApiKey?> FindByHashAsync(string hash, CancellationToken cancellationToken);
    Task<IReadOnlyList<ApiKey>> ListAsync(Guid organizationId, CancellationToken cancellationToken);
    /// <summary>False when the key does not exist in the organization.</summary>
    Task<bool> RevokeAsync(ApiKeyParams p, CancellationToken cancellationToken);
    Task TouchAsync(ApiKeyParams p, CancellationToken cancellationToken);
}

/// <param name="Hash">The key's hash (<see cref="ApiKeySecrets.Hash"/>); the key itself is never stored.</param>
public sealed record CreateApiKeyParams(Guid OrganizationId, string Name, string Prefix, string Hash, ApiKeyScopes Scopes, DateTimeOffset? ExpiresAt);
public sealed record ApiKeyParams(Guid OrganizationId, Guid KeyId);
