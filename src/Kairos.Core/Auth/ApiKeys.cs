namespace Kairos.Core.Auth;

/// <summary>What an API key may do.</summary>
[Flags]
public enum ApiKeyScopes
{
    None = 0,
    /// <summary>GET requests only.</summary>
    Read = 1,
    /// <summary>The worker protocol only.</summary>
    Worker = 2,
    /// <summary>Everything within its organization.</summary>
    Admin = 4,
}

public static class Scopes
{
    public static bool TryParse(IEnumerable<string> names, out ApiKeyScopes scopes, out string? bad)
    {
        scopes = ApiKeyScopes.None;
        bad = null;
        foreach (var name in names)
        {
            var s = name switch
            {
                "read" => ApiKeyScopes.Read,
                "worker" => ApiKeyScopes.Worker,
                "admin" => ApiKeyScopes.Admin,
                _ => ApiKeyScopes.None,
            };
            if (s == ApiKeyScopes.None)
            {
                bad = name;
                return false;
            }
            scopes |= s;
        }
        return scopes != ApiKeyScopes.None;
    }

    public static IReadOnlyList<string> ToNames(ApiKeyScopes scopes)
    {
        var names = new List<string>(3);
        if (scopes.HasFlag(ApiKeyScopes.Admin)) names.Add("admin");
        if (scopes.HasFlag(ApiKeyScopes.Worker)) names.Add("worker");
        if (scopes.HasFlag(ApiKeyScopes.Read)) names.Add("read");
        return names;
    }
}

/// <summary>An API key as stored: never the key itself, only its hash and a short prefix to recognise it by.</summary>
public sealed record ApiKey
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required string Prefix { get; init; }
    public required string Hash { get; init; }
    public required ApiKeyScopes Scopes { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
}

/// <summary>Makes and hashes API keys. Keys carry 256 random bits, so one SHA-256 is the right hash (no stretching needed).</summary>
public static class ApiKeySecrets
{
    public const string KeyPrefix = "kx_";

    public static string Generate() => KeyPrefix + Tokens.New();

    public static string Hash(string key) => Tokens.Hash(key);

    /// <summary>The part shown in listings: <c>kx_</c> and the first 8 characters.</summary>
    public static string VisiblePrefix(string key) => key.Length <= 11 ? key : key[..11];
}

public static class Organizations
{
    /// <summary>The organization that exists from the first start.</summary>
    public static readonly Guid Default = new("00000000-0000-7000-8000-000000000001");
}
