using System.Security.Cryptography;
using Kairos.Core.Auth;
using Microsoft.AspNetCore.DataProtection;

namespace Kairos.Server.Auth;

/// <summary>
/// The secret keys of ping URLs. A monitor's key is 32 hex characters (<c>/ping/{key}</c>); an organization's key of
/// slug URLs starts with <see cref="OrganizationPrefix"/> (<c>/ping/{org key}/{slug}</c>), so a ping URL says which
/// it is. Stores keep a key as its SHA-256 hash (what pings look up) and sealed with ASP.NET Core Data Protection
/// (what members are shown again: the ping URL is a capability, like healthchecks.io's); never in clear.
/// </summary>
public sealed class PingKeys(IDataProtectionProvider protection)
{
    public const string OrganizationPrefix = "org_";

    private readonly IDataProtector _protector = protection.CreateProtector("Kairos.Monitors.PingKey.v1");

    /// <summary>A new monitor key, its hash and its sealed form.</summary>
    public (string Key, string Hash, string Sealed) NewMonitorKey() => Make(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    /// <summary>A new organization key of slug URLs, its hash and its sealed form.</summary>
    public (string Key, string Hash, string Sealed) NewOrganizationKey() => Make(OrganizationPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    public static string Hash(string key) => Tokens.Hash(key);

    /// <summary>The key in clear; null when it cannot be unsealed (the server's key ring changed: regenerate the key).</summary>
    public string? Unseal(string sealedKey)
    {
        try
        {
            return _protector.Unprotect(sealedKey);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Whether a path segment has the shape of a monitor key (before any lookup).</summary>
    public static bool IsMonitorKey(string text) => text.Length == 32 && text.All(char.IsAsciiHexDigitLower);

    /// <summary>Whether a path segment has the shape of an organization key.</summary>
    public static bool IsOrganizationKey(string text) =>
        text.Length == OrganizationPrefix.Length + 32 && text.StartsWith(OrganizationPrefix, StringComparison.Ordinal) &&
        text.AsSpan(OrganizationPrefix.Length).ContainsAnyExcept(LowerHex) is false;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private (string, string, string) Make(string key) => (key, Hash(key), _protector.Protect(key));
}
