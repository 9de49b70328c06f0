using Kairos.Core.Auth;

namespace Kairos.Core.Storage;

/// <summary>
/// Users, organizations, memberships, invites and console sessions. Emails are normalised by the store
/// (<see cref="Emails.Normalize"/>). The rules that must hold under concurrency are checked inside the store, atomically:
/// the first owner is created only while no user exists, and an organization never loses its last owner.
/// </summary>
public interface IIdentityStore
{
    /// <summary>Whether any user exists (first-run setup is needed while none does).</summary>
    Task<bool> AnyUserAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates the first user as owner of the organization (created, or renamed when it exists), only if no user
    /// exists yet; null when one does. Of two concurrent calls exactly one succeeds.
    /// </summary>
    Task<FirstOwner?> CreateFirstOwnerAsync(CreateFirstOwnerParams p, CancellationToken cancellationToken);

    Task<User?> GetUserAsync(UserParams p, CancellationToken cancellationToken);
    Task<User?> FindUserByEmailAsync(FindUserParams p, CancellationToken cancellationToken);
    /// <summary>The user with the new display name; null when the user does not exist.</summary>
    Task<User?> RenameUserAsync(RenameUserParams p, CancellationToken cancellationToken);
    /// <summary>
    /// Atomically: sets the new password hash only while the stored one is still <see cref="ChangePasswordParams.ExpectedHash"/>
    /// (the one the caller checked the current password against), and ends every session of the user but
    /// <see cref="ChangePasswordParams.KeepSessionId"/>. Of two concurrent changes from the same old hash one wins.
    /// </summary>
    Task<PasswordChange> ChangePasswordAsync(ChangePasswordParams p, CancellationToken cancellationToken);

    /// <summary>A new organization whose creator is its owner.</summary>
    Task<Organization> CreateOrganizationAsync(CreateOrganizationParams p, CancellationToken cancellationToken);
    Task<Organization?> GetOrganizationAsync(OrganizationParams p, CancellationToken cancellationToken);
    /// <summary>The renamed organization; null when it does not exist.</summary>
    Task<Organization?> RenameOrganizationAsync(RenameOrganizationParams p, CancellationToken cancellationToken);
    /// <summary>
    /// Removes the organization and every row of it in every table (jobs, queues, workers, keys, members, invites, ...);
    /// sessions whose current organization it was keep going without one. False when it does not exist.
    /// </summary>
    Task<bool> DeleteOrganizationAsync(OrganizationParams p, CancellationToken cancellationToken);
    /// <summary>The user's organizations with the user's role, oldest membership first.</summary>
    Task<IReadOnlyList<OrganizationMembership>> ListOrganizationsAsync(UserParams p, CancellationToken cancellationToken);

    /// <summary>The organization's members, oldest first.</summary>
    Task<IReadOnlyList<Member>> ListMembersAsync(OrganizationParams p, CancellationToken cancellationToken);
    /// <summary>The user's role in the organization; null when not a member.</summary>
    Task<Role?> GetRoleAsync(MembershipParams p, CancellationToken cancellationToken);
    Task<MemberChange> ChangeRoleAsync(ChangeRoleParams p, CancellationToken cancellationToken);
    Task<MemberChange> RemoveMemberAsync(RemoveMemberParams p, CancellationToken cancellationToken);

    /// <summary>A new invite; earlier pending invites of the same email to the same organization are withdrawn.</summary>
    Task<Invite> CreateInviteAsync(CreateInviteParams p, CancellationToken cancellationToken);
    /// <summary>Invites not accepted yet (expired ones too), newest first.</summary>
    Task<IReadOnlyList<Invite>> ListInvitesAsync(OrganizationParams p, CancellationToken cancellationToken);
    Task<bool> DeleteInviteAsync(InviteParams p, CancellationToken cancellationToken);
    /// <summary>The invite with this token hash, accepted or expired or not; null when none.</summary>
    Task<Invite?> FindInviteAsync(FindInviteParams p, CancellationToken cancellationToken);
    /// <summary>
    /// Atomically: checks the invite is pending and unexpired, creates the user when <see cref="AcceptInviteParams.NewUser"/>
    /// is given, adds the membership (an existing member keeps the role it has) and marks the invite accepted.
    /// </summary>
    Task<AcceptInviteResult> AcceptInviteAsync(AcceptInviteParams p, CancellationToken cancellationToken);

    /// <summary>A new session; the user's expired sessions are removed on the way.</summary>
    Task<Session> CreateSessionAsync(CreateSessionParams p, CancellationToken cancellationToken);
    /// <summary>The session with this token hash, expired or not, with its user and the user's role in the session's organization.</summary>
    Task<SessionLookup?> FindSessionAsync(FindSessionParams p, CancellationToken cancellationToken);
    /// <summary>Makes the organization the session's current one; false unless the session's user is a member of it.</summary>
    Task<bool> SwitchOrganizationAsync(SwitchOrganizationParams p, CancellationToken cancellationToken);
    /// <summary>Records that the session was used now.</summary>
    Task TouchSessionAsync(SessionParams p, CancellationToken cancellationToken);
    /// <summary>Signs out: the session is gone, its cookie refused from now on. False when it did not exist.</summary>
    Task<bool> DeleteSessionAsync(SessionParams p, CancellationToken cancellationToken);
}

public sealed record CreateFirstOwnerParams(string Email, string Name, string PasswordHash, Guid OrganizationId, string OrganizationName);
public sealed record FirstOwner(User User, Organization Organization);
public sealed record UserParams(Guid UserId);
public sealed record FindUserParams(string Email);
public sealed record RenameUserParams(Guid UserId, string Name);
/// <param name="KeepSessionId">The session that asked (it stays signed in); null ends them all.</param>
public sealed record ChangePasswordParams(Guid UserId, string ExpectedHash, string NewHash, Guid? KeepSessionId);
/// <param name="Changed">False when the user does not exist or its hash is no longer the expected one (nothing changed).</param>
/// <param name="SessionsEnded">How many other sessions of the user were ended.</param>
public sealed record PasswordChange(bool Changed, int SessionsEnded);

public sealed record CreateOrganizationParams(string Name, Guid OwnerUserId);
public sealed record OrganizationParams(Guid OrganizationId);
public sealed record RenameOrganizationParams(Guid OrganizationId, string Name);

public sealed record MembershipParams(Guid OrganizationId, Guid UserId);
/// <param name="MayManageOwners">Whether the one asking may grant or take away the owner role (only owners may).</param>
public sealed record ChangeRoleParams(Guid OrganizationId, Guid UserId, Role Role, bool MayManageOwners);
/// <param name="MayManageOwners">Whether the one asking may remove an owner (only owners may).</param>
public sealed record RemoveMemberParams(Guid OrganizationId, Guid UserId, bool MayManageOwners);

public enum MemberChange
{
    Applied,
    /// <summary>The user is not a member of the organization.</summary>
    NotFound,
    /// <summary>The change touches the owner role and the one asking may not manage owners.</summary>
    OwnersOnly,
    /// <summary>The change would leave the organization without an owner.</summary>
    LastOwner,
}

/// <param name="InvitedBy">The inviting user; null when an API key invited.</param>
public sealed record CreateInviteParams(Guid OrganizationId, string Email, Role Role, string TokenHash, Guid? InvitedBy, DateTimeOffset ExpiresAt);
public sealed record InviteParams(Guid OrganizationId, Guid InviteId);
public sealed record FindInviteParams(string TokenHash);
/// <summary>Exactly one of <paramref name="UserId"/> (an existing user) and <paramref name="NewUser"/> is set.</summary>
public sealed record AcceptInviteParams(string TokenHash, Guid? UserId, NewUser? NewUser);
/// <summary>The account to create for an invite's email.</summary>
public sealed record NewUser(string Name, string PasswordHash);

public enum AcceptInviteStatus
{
    Accepted,
    NotFound,
    Expired,
    AlreadyAccepted,
    /// <summary>A new user was asked for but the invite's email already has an account.</summary>
    EmailTaken,
    /// <summary>The existing user's email is not the invite's.</summary>
    WrongUser,
}

public sealed record AcceptInviteResult(AcceptInviteStatus Status, User? User = null, Invite? Invite = null);

public sealed record CreateSessionParams(Guid UserId, Guid? OrganizationId, string TokenHash, string CsrfToken, DateTimeOffset ExpiresAt);
public sealed record FindSessionParams(string TokenHash);
public sealed record SessionParams(Guid SessionId);
public sealed record SwitchOrganizationParams(Guid SessionId, Guid OrganizationId);

/// <param name="Role">The user's role in the session's organization; null when there is none or the user is no member of it.</param>
public sealed record SessionLookup(Session Session, User User, Role? Role);
