using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;

namespace Kairos.Server.Auth;

/// <summary>Limits on signing in; a singleton the tests may replace.</summary>
public sealed record AuthLimits
{
    /// <summary>Sign-in attempts (login, setup, invite acceptance) per client IP and minute.</summary>
    public int AttemptsPerIpPerMinute { get; init; } = 20;
    /// <summary>Failed passwords per account before it is locked until <see cref="AccountWindow"/> has passed since the first.</summary>
    public int FailuresPerAccount { get; init; } = 5;
    public TimeSpan AccountWindow { get; init; } = TimeSpan.FromMinutes(15);
}

/// <summary>How identity plugs into the server: the schemes, policies, rate limits and CSRF check.</summary>
public static class AuthSetup
{
    /// <summary>The default scheme: a bearer API key when there is an Authorization header, else the session cookie.</summary>
    public const string Scheme = "Kairos";

    /// <summary>The rate-limiting policy of the anonymous sign-in endpoints (per client IP).</summary>
    public const string SignInLimit = "sign-in";

    public const string CsrfHeader = "X-CSRF-Token";

    public static void AddKairosAuth(this IServiceCollection services)
    {
        services.AddSingleton<SessionIssuer>();
        services.AddSingleton<Passwords>();
        services.AddSingleton<SetupToken>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton(new AuthLimits());
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "API key or session", o => o.ForwardDefaultSelector = http =>
                http.Request.Headers.Authorization.Count == 0 && http.Request.Cookies.ContainsKey(SessionAuthentication.CookieName)
                    ? SessionAuthentication.SchemeName
                    : ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, SessionAuthentication>(SessionAuthentication.SchemeName, null);
        services.AddAuthorization(Policies.Add);
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(SignInLimit, http =>
            {
                var limits = http.RequestServices.GetRequiredService<AuthLimits>();
                return RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.AttemptsPerIpPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            o.OnRejected = (context, _) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
                return new ValueTask(TooManyAsync(context.HttpContext, retry, "Too many sign-in attempts from this address"));
            };
        });
    }

    /// <summary>Authentication, the CSRF check of cookie-authenticated changes, authorization and rate limits, in that order.</summary>
    public static void UseKairosAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.Use(async (http, next) =>
        {
            if (RefusedByCsrf(http))
            {
                await AuthProblems.WriteAsync(http, StatusCodes.Status403Forbidden,
                    $"Missing or wrong {CsrfHeader} header: requests signed in with the session cookie that change something must send the csrf_token of GET /api/v1/auth/me.");
                return;
            }
            await next(http);
        });
        app.UseAuthorization();
        app.UseRateLimiter();
    }

    /// <summary>
    /// An unsafe request authenticated by the session cookie must carry the session's CSRF token. API keys are not
    /// cookies, so they are not affected; anonymous endpoints (login, setup) rely on SameSite=Lax and their JSON body.
    /// </summary>
    private static bool RefusedByCsrf(HttpContext http)
    {
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method)
            || HttpMethods.IsTrace(http.Request.Method))
        {
            return false;
        }
        if (http.Items[typeof(SessionLookup)] is not SessionLookup session || http.User.Identity?.AuthenticationType != SessionAuthentication.SchemeName) return false;
        if (http.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null) return false;
        return !Tokens.Same(http.Request.Headers[CsrfHeader].ToString(), session.Session.CsrfToken);
    }

    /// <summary>429 with <c>Retry-After</c> in whole seconds.</summary>
    public static Task TooManyAsync(HttpContext http, TimeSpan retryAfter, string what)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return AuthProblems.WriteAsync(http, StatusCodes.Status429TooManyRequests, $"{what}: retry in {seconds} seconds.");
    }
}

/// <summary>
/// Password hashing with ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/> (PBKDF2, salted, versioned).
/// Checking the password of an unknown user costs the same as of a known one, so timing tells nothing.
/// </summary>
public sealed class Passwords
{
    public const int MinLength = 10;
    public const int MaxLength = 1024;

    private static readonly User Nobody = new() { Id = Guid.Empty, Email = "", Name = "", PasswordHash = "", CreatedAt = DateTimeOffset.UnixEpoch };
    private readonly PasswordHasher<User> _hasher = new();
    // Made with the instance, so the first check of an unknown user costs no more than of a known one.
    private readonly string _dummy;

    public Passwords() => _dummy = _hasher.HashPassword(Nobody, Tokens.New());

    public string Hash(string password) => _hasher.HashPassword(Nobody, password);

    /// <summary>Whether <paramref name="password"/> is the user's; false for a null user, after the same work.</summary>
    public bool Verify(User? user, string password)
    {
        var result = _hasher.VerifyHashedPassword(user ?? Nobody, user?.PasswordHash ?? _dummy, password);
        return user is not null && result != PasswordVerificationResult.Failed;
    }

    public static void Validate(Validation v, string field, string? password)
    {
        if (string.IsNullOrEmpty(password)) v.Add(field, "is required");
        else if (password.Length < MinLength) v.Add(field, $"must be at least {MinLength} characters");
        else if (password.Length > MaxLength) v.Add(field, $"must be at most {MaxLength} characters");
    }
}

/// <summary>
/// Locks an account (by normalised email, known or not) after <see cref="AuthLimits.FailuresPerAccount"/> failed
/// passwords within <see cref="AuthLimits.AccountWindow"/> of the first, until that window has passed; a success
/// clears the count. Kept per node.
/// </summary>
public sealed class LoginThrottle(AuthLimits limits, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset Since)> _accounts = new(StringComparer.Ordinal);

    /// <summary>How long the account stays locked; null when it may try.</summary>
    public TimeSpan? LockedFor(string email)
    {
        if (!_accounts.TryGetValue(Emails.Normalize(email), out var entry)) return null;
        var left = entry.Since + limits.AccountWindow - time.GetUtcNow();
        return entry.Failures >= limits.FailuresPerAccount && left > TimeSpan.Zero ? left : null;
    }

    public void Failed(string email)
    {
        var now = time.GetUtcNow();
        if (_accounts.Count > 100_000) Prune(now);
        _accounts.AddOrUpdate(Emails.Normalize(email), (1, now),
            (_, e) => now - e.Since >= limits.AccountWindow ? (1, now) : (e.Failures + 1, e.Since));
    }

    public void Succeeded(string email) => _accounts.TryRemove(Emails.Normalize(email), out _);

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, entry) in _accounts)
        {
            if (now - entry.Since >= limits.AccountWindow) _accounts.TryRemove(key, out _);
        }
    }
}

/// <summary>
/// The first-run setup token of this node: made at start while no user exists, printed once as a link, kept only as
/// its hash, and spent by the setup that succeeds.
/// </summary>
public sealed class SetupToken
{
    private readonly Lock _lock = new();
    private string? _hash;
    private string? _unprinted;

    /// <summary>Makes a new token (replacing any earlier one) and answers it.</summary>
    public string Issue()
    {
        var token = Tokens.New();
        lock (_lock)
        {
            _hash = Tokens.Hash(token);
            _unprinted = token;
        }
        return token;
    }

    /// <summary>Makes a token when the store has no user yet.</summary>
    public async Task PrepareAsync(IKairosStore store, CancellationToken cancellationToken)
    {
        if (!await store.Identity.AnyUserAsync(cancellationToken)) Issue();
    }

    /// <summary>The token to print, once; null when there is none or it was printed.</summary>
    public string? TakeForPrinting()
    {
        lock (_lock)
        {
            var token = _unprinted;
            _unprinted = null;
            return token;
        }
    }

    public bool Matches(string? token)
    {
        if (string.IsNullOrEmpty(token)) return false;
        lock (_lock) return _hash is not null && Tokens.Same(Tokens.Hash(token), _hash);
    }

    public void Spend()
    {
        lock (_lock)
        {
            _hash = null;
            _unprinted = null;
        }
    }

    /// <summary>The link to print: the listening address with loopback and wildcard hosts shown as localhost.</summary>
    public static string Link(string address, string token)
    {
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "127.0.0.1" or "0.0.0.0" or "[::1]" or "[::]" or "::1" or "::") uri.Host = "localhost";
        uri.Path = "/setup";
        uri.Query = "token=" + token;
        return uri.Uri.ToString();
    }
}
