using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Kairos.Server.Auth;

/// <summary>
/// <c>Authorization: Bearer kx_...</c>: the key is hashed and looked up; a known, unrevoked, unexpired key signs the
/// request in as its organization with its scopes. Lookups are cached briefly; revocation through this server drops
/// the cache entry at once.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyCache cache) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string OrganizationClaim = KairosClaims.Organization;
    public const string ScopeClaim = KairosClaims.Scope;
    public const string KeyIdClaim = KairosClaims.Key;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.Fail("not a bearer token");
        var key = header["Bearer ".Length..].Trim();
        var found = await cache.FindAsync(key, Context.RequestAborted);
        if (found is null || found.RevokedAt is not null || found.ExpiresAt <= TimeProvider.GetUtcNow())
        {
            return AuthenticateResult.Fail("unknown, revoked or expired API key");
        }
        var claims = new List<Claim> { new(KeyIdClaim, found.Id.ToString()) };
        claims.AddRange(KairosClaims.Access(found.OrganizationId, AccessPolicy.For(found.Scopes)));
        claims.AddRange(Scopes.ToNames(found.Scopes).Select(s => new Claim(ScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        Context.Items[typeof(ApiKey)] = found;
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return AuthProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "A valid API key is required: Authorization: Bearer kx_...");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        AuthProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, "This API key's scopes do not allow this request.");
}

/// <summary>Short-lived cache of key lookups by hash; misses are cached too, so a wrong key costs no store read.</summary>
public sealed class ApiKeyCache(IKairosStore store, TimeProvider time)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (ApiKey? Key, DateTimeOffset At)> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _touched = new();

    public async Task<ApiKey?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var hash = ApiKeySecrets.Hash(key);
        var now = time.GetUtcNow();
        if (!_entries.TryGetValue(hash, out var entry) || now - entry.At > Ttl)
        {
            if (_entries.Count > 10_000) _entries.Clear();
            entry = (await store.ApiKeys.FindByHashAsync(hash, cancellationToken), now);
            _entries[hash] = entry;
        }
        if (entry.Key is { } found && (!_touched.TryGetValue(found.Id, out var last) || now - last > TouchEvery))
        {
            _touched[found.Id] = now;
            _ = store.ApiKeys.TouchAsync(new ApiKeyParams(found.OrganizationId, found.Id), CancellationToken.None);
        }
        return entry.Key;
    }

    public void Forget(Guid keyId)
    {
        foreach (var (hash, entry) in _entries)
        {
            if (entry.Key?.Id == keyId) _entries.TryRemove(hash, out _);
        }
    }
}
