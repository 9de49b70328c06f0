using Kairos.Core.Audit;

namespace Kairos.Core.Storage;

/// <summary>
/// The audit log. Entries are appended and read; there is no way to change or remove one, except that deleting an
/// organization removes its entries with the rest of its data.
/// </summary>
public interface IAuditStore
{
    /// <summary>Appends the entries, in their order, atomically.</summary>
    Task AppendAsync(AppendAuditParams p, CancellationToken cancellationToken);

    /// <summary>The organization's entries that match every filter given, newest (last appended) first.</summary>
    Task<Page<AuditEntry>> ListAsync(ListAuditParams p, CancellationToken cancellationToken);

    /// <summary>One entry of the organization; null when none has this id there.</summary>
    Task<AuditEntry?> GetAsync(AuditEntryParams p, CancellationToken cancellationToken);
}

public sealed record AppendAuditParams(IReadOnlyList<AuditEntry> Entries);

public sealed record AuditEntryParams(Guid OrganizationId, Guid EntryId);

public sealed record ListAuditParams(Guid OrganizationId)
{
    public AuditActorType? ActorType { get; init; }
    public Guid? ActorId { get; init; }
    /// <summary>An action, or a prefix ending in <c>.*</c> (see <see cref="AuditActions.ActionPrefix"/>).</summary>
    public string? Action { get; init; }
    public string? TargetType { get; init; }
    public string? TargetId { get; init; }
    /// <summary>Entries at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }
    /// <summary>Entries before this time.</summary>
    public DateTimeOffset? Until { get; init; }
    public int Limit { get; init; } = 50;
    /// <summary>From <see cref="Page{T}.NextCursor"/> of the page before.</summary>
    public string? Cursor { get; init; }
}
