using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record MemberDto(Guid UserId, string Email, string Name, string Role, DateTimeOffset JoinedAt)
{
    public static MemberDto From(Member m) => new(m.User.Id, m.User.Email, m.User.Name, m.Role.Name(), m.JoinedAt);
}

public sealed record RoleRequest(string? Role);
public sealed record CreateInviteRequest(string? Email, string? Role);
public sealed record AcceptInviteRequest(string? Token, string? Name, string? Password);

public sealed record InviteDto(Guid Id, string Email, string Role, Guid? InvitedBy, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, bool Expired)
{
    public static InviteDto From(Invite i, DateTimeOffset now) => new(i.Id, i.Email, i.Role.Name(), i.InvitedBy, i.CreatedAt, i.ExpiresAt, i.ExpiresAt <= now);
}

/// <summary>The invite link appears in this answer only, once (its token is stored hashed).</summary>
public sealed record CreatedInviteDto(Guid Id, string Email, string Role, string InviteUrl, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Members of the current organization and invites to it. Only owners grant, change or remove the owner role; the
/// last owner cannot be demoted or removed (409).
/// </summary>
public static class MembersApi
{
    public static readonly TimeSpan InviteLifetime = TimeSpan.FromDays(7);

    public static RouteGroupBuilder MapMembersApi(this RouteGroupBuilder api)
    {
        var members = api.MapGroup("/members").WithTags("Members");
        members.MapGet("/", List).WithName("ListMembers").RequireAuthorization(Policies.Read);
        members.MapPatch("/{userId}", ChangeRole).WithName("ChangeMemberRole").RequireAuthorization(Policies.MembersManage).Audited("member.role_change");
        members.MapDelete("/{userId}", Remove).WithName("RemoveMember").RequireAuthorization(Policies.MembersManage).Audited("member.remove");

        var invites = api.MapGroup("/invites").WithTags("Members");
        invites.MapPost("/", Invite).WithName("CreateInvite").RequireAuthorization(Policies.MembersManage).Audited("invite.create");
        invites.MapGet("/", ListInvites).WithName("ListInvites").RequireAuthorization(Policies.MembersManage);
        invites.MapDelete("/{id}", DeleteInvite).WithName("DeleteInvite").RequireAuthorization(Policies.MembersManage).Audited("invite.delete");
        invites.MapPost("/accept", Accept).WithName("AcceptInvite").AllowAnonymous().RequireRateLimiting(AuthSetup.SignInLimit).Audited("invite.accept");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<MemberDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var (n, after) = Paging.Read(limit, cursor, v);
        if (!v.Ok) return Problems.Invalid(v);
        var members = await store.Identity.ListMembersAsync(new OrganizationParams(http.User.OrganizationId()), http.RequestAborted);
        var (items, next) = Paging.Page(members, m => m.User.Id.ToString(), descending: false, n, after);
        return TypedResults.Ok(new ListResponse<MemberDto>(items.Select(MemberDto.From).ToList(), next));
    }

    public static async Task<Results<Ok<MemberDto>, ValidationProblem, ProblemHttpResult>> ChangeRole(
        string userId, RoleRequest request, HttpContext http, IKairosStore store)
    {
        if (!Guid.TryParse(userId, out var user)) return NoMember(userId);
        if (!Roles.TryParse(request.Role, out var role)) return Problems.Invalid("role", "must be one of viewer, member, admin, owner");
        http.Audit().Detail("role", role.Name());
        var org = http.User.OrganizationId();
        var change = await store.Identity.ChangeRoleAsync(new ChangeRoleParams(org, user, role, MayManageOwners(http)), http.RequestAborted);
        if (Refused(change, userId) is { } refused) return refused;
        var members = await store.Identity.ListMembersAsync(new OrganizationParams(org), http.RequestAborted);
        return members.FirstOrDefault(m => m.User.Id == user) is { } member ? TypedResults.Ok(MemberDto.From(member)) : NoMember(userId);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Remove(string userId, HttpContext http, IKairosStore store)
    {
        if (!Guid.TryParse(userId, out var user)) return NoMember(userId);
        var change = await store.Identity.RemoveMemberAsync(new RemoveMemberParams(http.User.OrganizationId(), user, MayManageOwners(http)), http.RequestAborted);
        return Refused(change, userId) ?? (Results<NoContent, ProblemHttpResult>)TypedResults.NoContent();
    }

    public static async Task<Results<Created<CreatedInviteDto>, ValidationProblem, ProblemHttpResult>> Invite(
        CreateInviteRequest request, HttpContext http, IKairosStore store, TimeProvider time)
    {
        var v = new Validation();
        AuthApi.ValidateEmail(v, "email", request.Email);
        if (!Roles.TryParse(request.Role, out var role)) v.Add("role", "must be one of viewer, member, admin, owner");
        if (!v.Ok) return Problems.Invalid(v);
        http.Audit().Detail("email", Emails.Normalize(request.Email!)).Detail("role", role.Name());
        if (role == Role.Owner && !MayManageOwners(http)) return OwnersOnly();
        var org = http.User.OrganizationId();
        var email = Emails.Normalize(request.Email!);
        if (await store.Identity.FindUserByEmailAsync(new FindUserParams(email), http.RequestAborted) is { } existing
            && await store.Identity.GetRoleAsync(new MembershipParams(org, existing.Id), http.RequestAborted) is not null)
        {
            return Problems.Conflict($"{email} is a member already.");
        }
        var token = Tokens.New();
        var invite = await store.Identity.CreateInviteAsync(new CreateInviteParams(org, email, role, Tokens.Hash(token), http.User.UserId(),
            time.GetUtcNow() + InviteLifetime), http.RequestAborted);
        var url = $"{http.Request.Scheme}://{http.Request.Host}/invite?token={token}";
        return TypedResults.Created($"/api/v1/invites/{invite.Id}",
            new CreatedInviteDto(invite.Id, invite.Email, invite.Role.Name(), url, invite.CreatedAt, invite.ExpiresAt));
    }

    public static async Task<Results<Ok<ListResponse<InviteDto>>, ValidationProblem>> ListInvites(
        HttpContext http, IKairosStore store, TimeProvider time, string? limit, string? cursor)
    {
        var v = new Validation();
        var (n, after) = Paging.Read(limit, cursor, v);
        if (!v.Ok) return Problems.Invalid(v);
        var invites = await store.Identity.ListInvitesAsync(new OrganizationParams(http.User.OrganizationId()), http.RequestAborted);
        var now = time.GetUtcNow();
        var (items, next) = Paging.Page(invites, i => i.Id.ToString(), descending: true, n, after);
        return TypedResults.Ok(new ListResponse<InviteDto>(items.Select(i => InviteDto.From(i, now)).ToList(), next));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteInvite(string id, HttpContext http, IKairosStore store) =>
        Guid.TryParse(id, out var invite) && await store.Identity.DeleteInviteAsync(new InviteParams(http.User.OrganizationId(), invite), http.RequestAborted)
            ? TypedResults.NoContent()
            : Problems.NotFound($"No invite '{id}'.");

    /// <summary>
    /// Joins the invite's organization and signs in. The invite's email without an account gets one (password
    /// required); an existing account proves itself with its session or its password.
    /// </summary>
    public static async Task<Results<Ok<MeDto>, ValidationProblem, ProblemHttpResult, TooMany>> Accept(
        AcceptInviteRequest request, HttpContext http, IKairosStore store, Passwords passwords, LoginThrottle throttle, SessionIssuer sessions)
    {
        if (string.IsNullOrEmpty(request.Token)) return Problems.Invalid("token", "is required");
        var hash = Tokens.Hash(request.Token);
        var invite = await store.Identity.FindInviteAsync(new FindInviteParams(hash), http.RequestAborted);
        if (invite is null) return Problems.NotFound("No invite has this token.");
        // The entry goes to the inviting organization, by the invite's email until someone proves to be its user.
        var note = http.Audit();
        note.Organizations = [invite.OrganizationId];
        note.TargetId = invite.Id.ToString();
        note.Actor = AuditActor.Attempted(null, invite.Email);
        if (Unusable(invite.AcceptedAt is not null ? AcceptInviteStatus.AlreadyAccepted : invite.ExpiresAt <= sessions.Now ? AcceptInviteStatus.Expired : null) is { } gone)
        {
            return gone;
        }

        AcceptInviteParams accept;
        var user = await store.Identity.FindUserByEmailAsync(new FindUserParams(invite.Email), http.RequestAborted);
        note.Actor = AuditActor.Attempted(user, invite.Email);
        if (user is null)
        {
            var v = new Validation();
            Passwords.Validate(v, "password", request.Password);
            v.Name("name", request.Name);
            if (!v.Ok) return Problems.Invalid(v);
            accept = new AcceptInviteParams(hash, null, new NewUser(AuthApi.NameOr(request.Name, invite.Email), passwords.Hash(request.Password!)));
        }
        else if (http.User.UserId() == user.Id)
        {
            accept = new AcceptInviteParams(hash, user.Id, null);
        }
        else
        {
            if (string.IsNullOrEmpty(request.Password))
            {
                return TypedResults.Problem($"{invite.Email} has an account: sign in as it, or send its password, to accept.",
                    statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
            }
            if (throttle.LockedFor(invite.Email) is { } locked) return new TooMany(locked, TooMany.AccountLocked);
            if (!passwords.Verify(user, request.Password))
            {
                throttle.Failed(invite.Email);
                return AuthApi.WrongCredentials();
            }
            throttle.Succeeded(invite.Email);
            accept = new AcceptInviteParams(hash, user.Id, null);
        }

        var result = await store.Identity.AcceptInviteAsync(accept, http.RequestAborted);
        switch (result.Status)
        {
            case AcceptInviteStatus.Accepted:
                note.Actor = AuditActor.Of(result.User!);
                note.Detail("role", invite.Role.Name());
                var session = await sessions.SignInAsync(http, result.User!.Id, invite.OrganizationId);
                return TypedResults.Ok(await AuthApi.UserMeAsync(store, result.User, session, http.RequestAborted));
            case AcceptInviteStatus.NotFound:
                return Problems.NotFound("No invite has this token.");
            case AcceptInviteStatus.EmailTaken:
                return Problems.Conflict($"{invite.Email} got an account meanwhile: accept again as that account.");
            case AcceptInviteStatus.WrongUser:
                return TypedResults.Problem("This invite is for another email.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
            default:
                return Unusable(result.Status)!;
        }
    }

    private static ProblemHttpResult? Unusable(AcceptInviteStatus? status) => status switch
    {
        AcceptInviteStatus.AlreadyAccepted => TypedResults.Problem("This invite was accepted already.", statusCode: StatusCodes.Status410Gone, title: "Gone"),
        AcceptInviteStatus.Expired => TypedResults.Problem("This invite has expired: ask for a new one.", statusCode: StatusCodes.Status410Gone, title: "Gone"),
        _ => null,
    };

    /// <summary>Only owners manage owners; API keys never do.</summary>
    private static bool MayManageOwners(HttpContext http) => http.User.MemberRole() is { } role && AccessPolicy.MayAssign(role, Role.Owner);

    private static ProblemHttpResult? Refused(MemberChange change, string userId) => change switch
    {
        MemberChange.Applied => null,
        MemberChange.NotFound => NoMember(userId),
        MemberChange.OwnersOnly => OwnersOnly(),
        MemberChange.LastOwner => Problems.Conflict("The organization's last owner cannot be demoted or removed: make another member owner first."),
        _ => throw new ArgumentOutOfRangeException(nameof(change)),
    };

    private static ProblemHttpResult OwnersOnly() =>
        TypedResults.Problem("Only owners grant, change or remove the owner role.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    private static ProblemHttpResult NoMember(string userId) => Problems.NotFound($"No member '{userId}'.");
}
