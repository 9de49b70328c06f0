using Kairos.Core.Alerts;

namespace Kairos.Server.Alerts;

/// <summary>
/// The secret fields of a channel's config (<see cref="AlertChannelConfig.SecretFields"/>): encrypted before they are
/// stored, decrypted only to send, masked in every answer. A field sent back as it was shown (masked) or left out of a
/// replacement keeps its stored value, so a console can save a channel without knowing its secrets.
/// </summary>
public sealed class ChannelSecrets(SecretBox box)
{
    private static string? Get(AlertChannelConfig c, string field) => field switch
    {
        "url" => c.Url,
        "secret" => c.Secret,
        "password" => c.Password,
        "routing_key" => c.RoutingKey,
        _ => null,
    };

    private static AlertChannelConfig Set(AlertChannelConfig c, string field, string? value) => field switch
    {
        "url" => c with { Url = value },
        "secret" => c with { Secret = value },
        "password" => c with { Password = value },
        "routing_key" => c with { RoutingKey = value },
        _ => c,
    };

    private static AlertChannelConfig Map(AlertChannelKind kind, AlertChannelConfig c, Func<string, string> f)
    {
        foreach (var field in AlertChannelConfig.SecretFields(kind))
        {
            if (Get(c, field) is { } value) c = Set(c, field, f(value));
        }
        return c;
    }

    /// <summary>The config as stored: secrets encrypted. Secret fields that are null or masked take <paramref name="stored"/>'s value (same kind only).</summary>
    public AlertChannelConfig Protect(AlertChannelKind kind, AlertChannelConfig incoming, AlertChannel? stored)
    {
        var previous = stored is not null && stored.Kind == kind ? AlertChannelConfig.FromJson(stored.ConfigJson) : null;
        foreach (var field in AlertChannelConfig.SecretFields(kind))
        {
            var value = Get(incoming, field);
            if (previous is not null && (value is null || value.StartsWith("••••", StringComparison.Ordinal) || Masked(kind, field, previous, box) == value))
            {
                incoming = Set(incoming, field, Get(previous, field));
            }
            else if (value is not null && !SecretBox.IsProtected(value))
            {
                incoming = Set(incoming, field, box.Protect(value));
            }
        }
        return incoming;
    }

    /// <summary>The stored config with secrets filled back in from the existing channel (to validate a replacement that kept them).</summary>
    public AlertChannelConfig Reveal(AlertChannelKind kind, AlertChannelConfig stored) => Map(kind, stored, box.Unprotect);

    /// <summary>What the API shows: every secret masked.</summary>
    public AlertChannelConfig Mask(AlertChannelKind kind, AlertChannelConfig stored) =>
        Map(kind, stored, v => MaskOne(kind, box.Unprotect(v)));

    private static string? Masked(AlertChannelKind kind, string field, AlertChannelConfig previous, SecretBox box) =>
        Get(previous, field) is { } v ? MaskOne(kind, box.Unprotect(v)) : null;

    /// <summary>A URL shows its scheme and host (a Slack URL's path is its token); anything else its last four characters at most.</summary>
    private static string MaskOne(AlertChannelKind kind, string secret) =>
        kind == AlertChannelKind.Slack && Uri.TryCreate(secret, UriKind.Absolute, out var uri)
            ? $"{uri.Scheme}://{uri.Host}/••••"
            : SecretBox.Mask(secret);
}
