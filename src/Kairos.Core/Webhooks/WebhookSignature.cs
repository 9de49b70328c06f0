using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Kairos.Core.Webhooks;

/// <summary>
/// The signature of a webhook request (Stripe's scheme): <c>Kairos-Signature: t=UNIX_SECONDS,v1=HEX</c> where HEX is
/// the lowercase hex HMAC-SHA256, keyed with the endpoint's secret (its UTF-8 bytes), of <c>"{t}.{body}"</c>.
/// Receivers recompute it over the raw body, compare in constant time, and refuse timestamps too far from now.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Kairos-Signature";

    /// <summary>A new secret: <c>whsec_</c> and 32 random bytes in base64url.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Sign(string secret, long timestamp, string body)
    {
        var payload = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "." + body);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload);
        return Convert.ToHexStringLower(mac);
    }

    public static string HeaderValue(string secret, long timestamp, string body) =>
        $"t={timestamp.ToString(CultureInfo.InvariantCulture)},v1={Sign(secret, timestamp, body)}";

    /// <summary>Whether a header value signs the body with the secret, at a timestamp within <paramref name="tolerance"/> of <paramref name="now"/>.</summary>
    public static bool Verify(string secret, string header, string body, DateTimeOffset now, TimeSpan tolerance)
    {
        long? t = null;
        var signatures = new List<string>();
        foreach (var part in header.Split(','))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2) continue;
            if (kv[0].Trim() == "t" && long.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ts)) t = ts;
            else if (kv[0].Trim() == "v1") signatures.Add(kv[1].Trim());
        }
        if (t is not { } stamp || Math.Abs(now.ToUnixTimeSeconds() - stamp) > tolerance.TotalSeconds) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(secret, stamp, body));
        return signatures.Any(s => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(s)));
    }
}
