using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Kairos.Server.Auth;

/// <summary>
/// The console's session cookie (<c>kairos_session</c>): a random 256-bit token whose SHA-256 hash is looked up in the
/// store on every request, so a session signed out (or a member removed) is refused at once, on every node. The
/// principal acts in the session's current organization with the permissions of the user's role there.
/// </summary>
public sealed class SessionAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IKairosStore store,
    SessionIssuer sessions) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Session";
    public const string CookieName = "kairos_session";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Cookies.TryGetValue(CookieName, out var token) || string.IsNullOrEmpty(token)) return AuthenticateResult.NoResult();
        var found = await store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(token)), Context.RequestAborted);
        if (found is null || found.Session.ExpiresAt <= sessions.Now) return AuthenticateResult.Fail("signed out or expired session");
        sessions.Touch(found.Session.Id);

        var claims = new List<Claim>
        {
            new(KairosClaims.User, found.User.Id.ToString()),
            new(KairosClaims.Session, found.Session.Id.ToString()),
        };
        if (found.Role is { } role) claims.Add(new Claim(KairosClaims.Role, role.Name()));
        claims.AddRange(KairosClaims.Access(found.Role is null ? null : found.Session.OrganizationId, found.Role is { } r ? AccessPolicy.For(r) : []));
        Context.Items[typeof(SessionLookup)] = found;
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        AuthProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized,
            "The session is signed out or expired: sign in again (POST /api/v1/auth/login), or send an API key.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        AuthProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, Context.User.Identity?.IsAuthenticated == true && !Context.User.HasClaim(c => c.Type == KairosClaims.Organization)
            ? "No current organization: choose one of yours with POST /api/v1/auth/organization."
            : "Your role in this organization does not allow this request.");
}

/// <summary>Starts and ends sessions: the store row and the cookie.</summary>
public sealed class SessionIssuer(IKairosStore store, TimeProvider time)
{
    /// <summary>How long a session lasts from sign-in.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(14);
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _touched = new();

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// A new session for the user in <paramref name="organizationId"/>, its cookie set on the response. The session the
    /// request came with, if any, ends.
    /// </summary>
    public async Task<Session> SignInAsync(HttpContext http, Guid userId, Guid? organizationId)
    {
        await EndCurrentAsync(http);
        var token = Tokens.New();
        var session = await store.Identity.CreateSessionAsync(
            new CreateSessionParams(userId, organizationId, Tokens.Hash(token), Tokens.New(), time.GetUtcNow() + Lifetime), http.RequestAborted);
        http.Response.Cookies.Append(SessionAuthentication.CookieName, token, CookieOptions(http, session.ExpiresAt));
        return session;
    }

    /// <summary>Ends the session the request came with (refused from now on) and clears its cookie.</summary>
    public async Task SignOutAsync(HttpContext http)
    {
        await EndCurrentAsync(http);
        http.Response.Cookies.Delete(SessionAuthentication.CookieName, CookieOptions(http, null));
    }

    private async Task EndCurrentAsync(HttpContext http)
    {
        if (!http.Request.Cookies.TryGetValue(SessionAuthentication.CookieName, out var token) || string.IsNullOrEmpty(token)) return;
        var current = http.Items[typeof(SessionLookup)] as SessionLookup
            ?? await store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(token)), http.RequestAborted);
        if (current is not null) await store.Identity.DeleteSessionAsync(new SessionParams(current.Session.Id), http.RequestAborted);
    }

    /// <summary>Records a session's use, at most once a minute per session and node (the write is not awaited).</summary>
    public void Touch(Guid sessionId)
    {
        var now = time.GetUtcNow();
        if (_touched.TryGetValue(sessionId, out var last) && now - last < TouchEvery) return;
        if (_touched.Count > 10_000) _touched.Clear();
        _touched[sessionId] = now;
        _ = store.Identity.TouchSessionAsync(new SessionParams(sessionId), CancellationToken.None);
    }

    private static CookieOptions CookieOptions(HttpContext http, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Path = "/",
        Secure = http.Request.IsHttps,
        IsEssential = true,
        Expires = expires,
    };
}

/// <summary>RFC 7807 answers written outside endpoints (authentication, CSRF, rate limits).</summary>
public static class AuthProblems
{
    public static async Task WriteAsync(HttpContext http, int status, string detail)
    {
        http.Response.StatusCode = status;
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Title = ReasonPhrases.GetReasonPhrase(status), Detail = detail },
        });
    }
}
