using System.Security.Cryptography;
using System.Text;

namespace Kairos.Core.Auth;

/// <summary>A person who signs in to the console. Emails are stored normalised (<see cref="Emails.Normalize"/>) and unique.</summary>
public sealed record User
{
    public required Guid Id { get; init; }
    public required string Email { get; init; }
    public required string Name { get; init; }
    /// <summary>The password hash (ASP.NET Core Identity's format); never the password.</summary>
    public required string PasswordHash { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record Organization
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A user's role in one organization.</summary>
public sealed record Membership(Guid OrganizationId, Guid UserId, Role Role, DateTimeOffset CreatedAt);

/// <summary>A member as listed: the user and the role.</summary>
public sealed record Member(User User, Role Role, DateTimeOffset JoinedAt);

/// <summary>One of a user's organizations with the user's role in it.</summary>
public sealed record OrganizationMembership(Organization Organization, Role Role);

/// <summary>An invitation to join an organization; the link's token is stored only as its hash.</summary>
public sealed record Invite
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Email { get; init; }
    public required Role Role { get; init; }
    public required string TokenHash { get; init; }
    /// <summary>The user who invited, or null when an API key did.</summary>
    public Guid? InvitedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? AcceptedAt { get; init; }
}

/// <summary>
/// A console session, kept on the server: the cookie holds a random token, the store only its hash. The current
/// organization is the one requests act in (null when the user belongs to none, or left it).
/// </summary>
public sealed record Session
{
    public required Guid Id { get; init; }
    public required string TokenHash { get; init; }
    public required Guid UserId { get; init; }
    public Guid? OrganizationId { get; init; }
    /// <summary>Sent back in <c>X-CSRF-Token</c> with every unsafe request the cookie authenticates.</summary>
    public required string CsrfToken { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public required DateTimeOffset LastSeenAt { get; init; }
}

public static class Emails
{
    /// <summary>The one form an email is stored and compared in: trimmed, lower case.</summary>
    public static string Normalize(string email) => email.Trim().ToLowerInvariant();

    /// <summary>A plausible address: one @ with something on both sides, a dot in the domain, no spaces, at most 254 characters.</summary>
    public static bool LooksValid(string email)
    {
        var at = email.IndexOf('@', StringComparison.Ordinal);
        return email.Length <= 254 && at > 0 && at == email.LastIndexOf('@') && at < email.Length - 1
               && email.IndexOf('.', at) > at + 1 && !email.EndsWith('.') && !email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));
    }
}

/// <summary>Random secrets (256 bits) and their hash. A secret this long needs no stretching: one SHA-256 is the right hash.</summary>
public static class Tokens
{
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Compares two secrets in time that does not depend on where they differ.</summary>
    public static bool Same(string? a, string? b) =>
        a is not null && b is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
