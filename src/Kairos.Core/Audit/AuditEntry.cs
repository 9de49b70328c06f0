using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Kairos.Core.Audit;

/// <summary>Who did something recorded in the audit log.</summary>
public enum AuditActorType
{
    /// <summary>A person: signed in with a session, or trying to (a failed sign-in names the email it tried).</summary>
    User,
    /// <summary>An API key.</summary>
    ApiKey,
    /// <summary>The server itself.</summary>
    System,
}

public static class AuditActorTypes
{
    public static string Name(this AuditActorType type) => type switch
    {
        AuditActorType.User => "user",
        AuditActorType.ApiKey => "api_key",
        AuditActorType.System => "system",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static bool TryParse(string? name, out AuditActorType type)
    {
        switch (name)
        {
            case "user": type = AuditActorType.User; return true;
            case "api_key": type = AuditActorType.ApiKey; return true;
            case "system": type = AuditActorType.System; return true;
            default: type = default; return false;
        }
    }

    public static AuditActorType Parse(string name) => TryParse(name, out var t) ? t : throw new FormatException($"'{name}' is not an audit actor type");
}

/// <summary>
/// One entry of the audit log: who (<see cref="ActorType"/>, <see cref="ActorId"/>, <see cref="ActorName"/>: an email,
/// or an API key's name and visible prefix, never a secret) did what (<see cref="Action"/>, e.g. <c>queue.pause</c>) to
/// what (<see cref="TargetType"/>, <see cref="TargetId"/>), when, from where, in which request, and how it ended
/// (<see cref="Status"/>: the HTTP status of the answer). Entries are appended and never changed.
/// </summary>
public sealed record AuditEntry
{
    /// <summary>UUIDv7.</summary>
    public required Guid Id { get; init; }
    /// <summary>Null for a server-level entry that belongs to no organization (a failed sign-in with an unknown email).</summary>
    public required Guid? OrganizationId { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required AuditActorType ActorType { get; init; }
    /// <summary>The user's or the API key's id; null when unknown (a sign-in with an unknown email).</summary>
    public Guid? ActorId { get; init; }
    public string? ActorName { get; init; }
    public required string Action { get; init; }
    public string? TargetType { get; init; }
    public string? TargetId { get; init; }
    public string? Ip { get; init; }
    public string? RequestId { get; init; }
    public required int Status { get; init; }
    /// <summary>A small JSON object of facts about the action (a new role, a key's scopes); never a secret.</summary>
    public string? Details { get; init; }
}

/// <summary>The opaque cursor of audit lists: the position (the store's insertion sequence) of the last entry of a page.</summary>
public static class AuditCursor
{
    public static string Encode(long seq) => Convert.ToBase64String(Encoding.UTF8.GetBytes("a:" + seq.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The position of a cursor; null for none; <see cref="ArgumentException"/> (parameter <c>cursor</c>) for one this server did not give out.</summary>
    public static long? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (text.StartsWith("a:", StringComparison.Ordinal) && long.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                return seq;
            }
        }
        catch (FormatException)
        {
        }
        throw new ArgumentException("The cursor is not one this server gave out.", nameof(cursor));
    }
}

public static class AuditActions
{
    /// <summary>
    /// An action filter: <c>queue.pause</c> matches that action; <c>queue.*</c> (or <c>queue.</c>) every action of queues.
    /// Answers the prefix to match, or null for an exact match.
    /// </summary>
    public static string? ActionPrefix(string action) =>
        action.EndsWith(".*", StringComparison.Ordinal) ? action[..^1] : action.EndsWith('.') ? action : null;
}

/// <summary>
/// The audit_log columns every store selects, and the one reader of them: the stores' rows differ only in the
/// column types (TEXT or uuid ids, TEXT or jsonb details), which <see cref="DbDataReader"/> reads alike.
/// </summary>
public static class AuditRows
{
    public const string Columns =
        "seq, id, organization_id, time, actor_type, actor_id, actor_name, action, target_type, target_id, ip, request_id, status, details";

    /// <summary>The entry of a row selected with <see cref="Columns"/> (column 0, seq, is the cursor's position).</summary>
    public static AuditEntry Read(DbDataReader r) => new()
    {
        Id = r.GetGuid(1),
        OrganizationId = r.IsDBNull(2) ? null : r.GetGuid(2),
        Time = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
        ActorType = AuditActorTypes.Parse(r.GetString(4)),
        ActorId = r.IsDBNull(5) ? null : r.GetGuid(5),
        ActorName = Text(r, 6),
        Action = r.GetString(7),
        TargetType = Text(r, 8),
        TargetId = Text(r, 9),
        Ip = Text(r, 10),
        RequestId = Text(r, 11),
        Status = r.GetInt32(12),
        Details = Text(r, 13),
    };

    private static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
