using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record SetupStatusDto(bool Required);
public sealed record SetupRequest(string? Token, string? Email, string? Password, string? Organization, string? Name);
public sealed record LoginRequest(string? Email, string? Password);
public sealed record SwitchOrganizationRequest(Guid? OrganizationId);

public sealed record UserDto(Guid Id, string Email, string Name)
{
    public static UserDto From(User u) => new(u.Id, u.Email, u.Name);
}

/// <param name="Role">The caller's role in it; null for an API key.</param>
public sealed record OrganizationDto(Guid Id, string Name, string? Role, DateTimeOffset CreatedAt)
{
    public static OrganizationDto From(Organization o, Role? role) => new(o.Id, o.Name, role?.Name(), o.CreatedAt);
}

public sealed record MeApiKeyDto(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes);

/// <summary>
/// Who the caller is. <c>kind</c> is <c>user</c> (a console session: the user, its organizations with roles, the
/// current one and the <c>csrf_token</c> to send in <c>X-CSRF-Token</c>) or <c>api_key</c> (the key and its organization).
/// </summary>
public sealed record MeDto(
    string Kind,
    UserDto? User,
    MeApiKeyDto? ApiKey,
    IReadOnlyList<OrganizationDto> Organizations,
    OrganizationDto? CurrentOrganization,
    IReadOnlyList<string> Permissions,
    string? CsrfToken);

/// <summary>429 with <c>Retry-After</c>.</summary>
public sealed class TooMany(TimeSpan retryAfter, string what) : IResult, IStatusCodeHttpResult
{
    public const string AccountLocked = "Too many failed sign-ins for this account";

    public int? StatusCode => StatusCodes.Status429TooManyRequests;

    public Task ExecuteAsync(HttpContext httpContext) => AuthSetup.TooManyAsync(httpContext, retryAfter, what);
}

/// <summary>First-run setup, sign-in and sign-out, who am I, and the session's current organization.</summary>
public static class AuthApi
{
    public static RouteGroupBuilder MapAuthApi(this RouteGroupBuilder api)
    {
        api.MapGet("/setup", SetupStatus).WithTags("Auth").WithName("GetSetup").AllowAnonymous();
        api.MapPost("/setup", Setup).WithTags("Auth").WithName("Setup").AllowAnonymous().RequireRateLimiting(AuthSetup.SignInLimit)
            .Audited("auth.setup", "user");
        var g = api.MapGroup("/auth").WithTags("Auth");
        g.MapPost("/login", Login).WithName("Login").AllowAnonymous().RequireRateLimiting(AuthSetup.SignInLimit)
            .Audited("auth.login", "user", failedAction: "auth.login_failed");
        g.MapPost("/logout", Logout).WithName("Logout").RequireAuthorization().Audited("auth.logout", "user");
        g.MapGet("/me", Me).WithName("GetMe").RequireAuthorization();
        g.MapPost("/organization", SwitchOrganization).WithName("SwitchOrganization").RequireAuthorization()
            .NotAudited("a session choosing which of its organizations it works in changes nothing any organization holds");
        return api;
    }

    public static async Task<Ok<SetupStatusDto>> SetupStatus(IKairosStore store, HttpContext http) =>
        TypedResults.Ok(new SetupStatusDto(!await store.Identity.AnyUserAsync(http.RequestAborted)));

    /// <summary>
    /// Creates the first user as owner of the default organization (renamed as asked: the data of the bootstrap API
    /// key stays in view) and signs in.
    /// </summary>
    public static async Task<Results<Created<MeDto>, ValidationProblem, ProblemHttpResult>> Setup(
        SetupRequest request, HttpContext http, IKairosStore store, SetupToken setup, Passwords passwords, SessionIssuer sessions)
    {
        http.Audit().Actor = AuditActor.Attempted(null, request.Email);
        if (await store.Identity.AnyUserAsync(http.RequestAborted)) return SetupDone();
        if (!setup.Matches(request.Token))
        {
            return TypedResults.Problem("The setup token is missing or wrong: open the link the server printed when it started.",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }
        var v = new Validation();
        ValidateEmail(v, "email", request.Email);
        Passwords.Validate(v, "password", request.Password);
        v.Required("organization", request.Organization);
        v.Name("organization", request.Organization);
        v.Name("name", request.Name);
        if (!v.Ok) return Problems.Invalid(v);

        var email = Emails.Normalize(request.Email!);
        var first = await store.Identity.CreateFirstOwnerAsync(new CreateFirstOwnerParams(email, NameOr(request.Name, email),
            passwords.Hash(request.Password!), Organizations.Default, request.Organization!.Trim()), http.RequestAborted);
        if (first is null) return SetupDone();
        setup.Spend();
        http.Audit().Actor = AuditActor.Of(first.User);
        http.Audit().TargetId = first.User.Id.ToString();
        http.Audit().Organizations = [first.Organization.Id];
        var session = await sessions.SignInAsync(http, first.User.Id, first.Organization.Id);
        return TypedResults.Created("/api/v1/auth/me", await UserMeAsync(store, first.User, session, http.RequestAborted));
    }

    private static ProblemHttpResult SetupDone() =>
        TypedResults.Problem("Setup is done: sign in with POST /api/v1/auth/login.", statusCode: StatusCodes.Status410Gone, title: "Gone");

    public static async Task<Results<Ok<MeDto>, ValidationProblem, ProblemHttpResult, TooMany>> Login(
        LoginRequest request, HttpContext http, IKairosStore store, Passwords passwords, LoginThrottle throttle, SessionIssuer sessions)
    {
        var v = new Validation();
        v.Required("email", request.Email);
        v.Required("password", request.Password);
        http.Audit().Actor = AuditActor.Attempted(null, request.Email);
        if (!v.Ok) return Problems.Invalid(v);
        if (throttle.LockedFor(request.Email!) is { } locked)
        {
            await NoteUserAsync(http, store, await store.Identity.FindUserByEmailAsync(new FindUserParams(request.Email!), http.RequestAborted), request.Email);
            return new TooMany(locked, TooMany.AccountLocked);
        }
        var user = await store.Identity.FindUserByEmailAsync(new FindUserParams(request.Email!), http.RequestAborted);
        if (!passwords.Verify(user, request.Password!))
        {
            throttle.Failed(request.Email!);
            await NoteUserAsync(http, store, user, request.Email);
            return WrongCredentials();
        }
        throttle.Succeeded(request.Email!);
        var organizations = await NoteUserAsync(http, store, user, request.Email);
        var current = organizations.FirstOrDefault(o => o.Organization.Id == Organizations.Default) ?? (organizations.Count > 0 ? organizations[0] : null);
        var session = await sessions.SignInAsync(http, user!.Id, current?.Organization.Id);
        return TypedResults.Ok(UserMe(user, session, organizations));
    }

    /// <summary>
    /// Tells the audit log who signs in (or tried to: a known user, or only the email typed), or changes their own
    /// profile, and where the entry goes: each of the user's organizations (the user is seen in each), or none
    /// (server-level) for an unknown email. Answers the user's organizations.
    /// </summary>
    internal static async Task<IReadOnlyList<OrganizationMembership>> NoteUserAsync(HttpContext http, IKairosStore store, User? user, string? email)
    {
        var note = http.Audit();
        note.Actor = AuditActor.Attempted(user, email);
        if (user is null) return [];
        var organizations = await store.Identity.ListOrganizationsAsync(new UserParams(user.Id), http.RequestAborted);
        note.TargetId = user.Id.ToString();
        note.Organizations = organizations.Count == 0 ? null : [.. organizations.Select(o => (Guid?)o.Organization.Id)];
        return organizations;
    }

    /// <summary>The one answer to a wrong email and to a wrong password alike.</summary>
    internal static ProblemHttpResult WrongCredentials() =>
        TypedResults.Problem("Wrong email or password.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");

    public static async Task<NoContent> Logout(HttpContext http, SessionIssuer sessions)
    {
        await sessions.SignOutAsync(http);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<MeDto>, ProblemHttpResult>> Me(HttpContext http, IKairosStore store)
    {
        if (http.Items[typeof(SessionLookup)] is SessionLookup s)
        {
            return TypedResults.Ok(await UserMeAsync(store, s.User, s.Session, http.RequestAborted));
        }
        if (http.Items[typeof(ApiKey)] is ApiKey key)
        {
            var org = await store.Identity.GetOrganizationAsync(new OrganizationParams(key.OrganizationId), http.RequestAborted);
            var orgDto = org is null ? null : OrganizationDto.From(org, null);
            return TypedResults.Ok(new MeDto("api_key", null, new MeApiKeyDto(key.Id, key.Name, key.Prefix, Scopes.ToNames(key.Scopes)),
                orgDto is null ? [] : [orgDto], orgDto, AccessPolicy.NamesOf(AccessPolicy.For(key.Scopes)), null));
        }
        return Problems.NotFound("No caller to describe.");
    }

    public static async Task<Results<Ok<MeDto>, ValidationProblem, ProblemHttpResult>> SwitchOrganization(
        SwitchOrganizationRequest request, HttpContext http, IKairosStore store)
    {
        if (http.Items[typeof(SessionLookup)] is not SessionLookup s) return SessionsOnly("An API key belongs to one organization: it cannot switch.");
        if (request.OrganizationId is not { } org) return Problems.Invalid("organization_id", "is required");
        if (!await store.Identity.SwitchOrganizationAsync(new SwitchOrganizationParams(s.Session.Id, org), http.RequestAborted))
        {
            return Problems.NotFound($"No organization '{org}' of yours.");
        }
        return TypedResults.Ok(await UserMeAsync(store, s.User, s.Session with { OrganizationId = org }, http.RequestAborted));
    }

    internal static ProblemHttpResult SessionsOnly(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    internal static async Task<MeDto> UserMeAsync(IKairosStore store, User user, Session session, CancellationToken cancellationToken) =>
        UserMe(user, session, await store.Identity.ListOrganizationsAsync(new UserParams(user.Id), cancellationToken));

    private static MeDto UserMe(User user, Session session, IReadOnlyList<OrganizationMembership> organizations)
    {
        var current = organizations.FirstOrDefault(o => o.Organization.Id == session.OrganizationId);
        return new MeDto("user", UserDto.From(user), null,
            organizations.Select(o => OrganizationDto.From(o.Organization, o.Role)).ToList(),
            current is null ? null : OrganizationDto.From(current.Organization, current.Role),
            current is null ? [] : AccessPolicy.NamesOf(AccessPolicy.For(current.Role)),
            session.CsrfToken);
    }

    internal static void ValidateEmail(Validation v, string field, string? email)
    {
        v.Required(field, email);
        if (email is { Length: > 0 } && !Emails.LooksValid(email.Trim())) v.Add(field, "is not an email address");
    }

    /// <summary>The display name given, or the part of the email before the @.</summary>
    internal static string NameOr(string? name, string email) =>
        string.IsNullOrWhiteSpace(name) ? email[..email.IndexOf('@', StringComparison.Ordinal)] : name.Trim();
}
