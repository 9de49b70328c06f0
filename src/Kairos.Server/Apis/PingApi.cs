using System.Globalization;
using System.Text;
using System.Threading.RateLimiting;
using Kairos.Core.Monitors;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;

namespace Kairos.Server.Apis;

/// <summary>How many pings one key may send; a singleton the tests may replace.</summary>
public sealed record PingLimits
{
    /// <summary>Pings per key (a monitor's, or an organization's key and slug) within <see cref="Window"/>; more get 429 with Retry-After.</summary>
    public int PerKey { get; init; } = 120;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// The anonymous ping URLs of check-in monitors, by GET, HEAD or POST: <c>/ping/{key}</c> (success), <c>/start</c>,
/// <c>/fail</c>, <c>/{exit code}</c> (0 is a success, 1-255 a failure), and the same after <c>/ping/{organization ping
/// key}/{slug}</c>. The key is the only credential. A POST body (up to <see cref="MaxBodyBytes"/>; the rest is cut off
/// and the run marked truncated) is kept as the run's log; <c>?rid=</c> pairs a start with its finish. Cheap: a path
/// that cannot be a ping URL is refused before any lookup, a ping is one store transaction. Rate limited per key. No
/// input makes it fail with a 500: what is not a ping answers 400 or 404, a store that cannot answer 503.
/// </summary>
public static class PingApi
{
    public const int MaxBodyBytes = 100 * 1024;
    public const int MaxRidLength = 128;
    public const int MaxUserAgentLength = 300;
    public const string RateLimitPolicy = "ping";
    public const string TruncatedMarker = "\n[truncated: the body was larger than 102400 bytes]";

    private static readonly string[] Methods = ["GET", "HEAD", "POST"];

    public static void MapPingApi(this WebApplication app)
    {
        var g = app.MapGroup("/ping").WithTags("Pings").AllowAnonymous().RequireRateLimiting(RateLimitPolicy);
        g.MapMethods("/{key}", Methods, (string key, HttpContext http, [AsParameters] Deps deps) => HandleAsync(http, deps, key, null, null))
            .WithName("Ping").WithSummary("A success of the monitor with this ping key");
        g.MapMethods("/{key}/{action}", Methods, (string key, string action, HttpContext http, [AsParameters] Deps deps) => HandleAsync(http, deps, key, action, null))
            .WithName("PingAction").WithSummary("start, fail or an exit code (0-255) of the monitor with this key; or a success by organization ping key and slug");
        g.MapMethods("/{key}/{slug}/{action}", Methods, (string key, string slug, string action, HttpContext http, [AsParameters] Deps deps) => HandleAsync(http, deps, key, slug, action))
            .WithName("PingSlugAction").WithSummary("start, fail or an exit code (0-255) of the monitor with this slug, by organization ping key");
    }

    public static void AddPingRateLimit(this IServiceCollection services)
    {
        services.AddSingleton(new PingLimits());
        services.Configure<RateLimiterOptions>(o => o.AddPolicy<string, PingRateLimit>(RateLimitPolicy));
    }

    /// <summary>What a ping needs.</summary>
    public sealed record Deps(IKairosStore Store, MonitorWatch Watch, ILogger<PingLimits> Logger);

    private static async Task<Results<ContentHttpResult, ProblemHttpResult, ValidationProblem>> HandleAsync(HttpContext http, Deps deps, string key, string? second, string? third)
    {
        http.Response.Headers["Ping-Body-Limit"] = MaxBodyBytes.ToString(CultureInfo.InvariantCulture);
        string? slug = null;
        string? action;
        if (PingKeys.IsMonitorKey(key))
        {
            if (third is not null) return UnknownUrl();
            action = second;
        }
        else if (PingKeys.IsOrganizationKey(key) && second is not null)
        {
            slug = second;
            action = third;
            if (slug.Length > 100) return UnknownUrl();
        }
        else
        {
            return UnknownUrl();
        }

        PingKind kind;
        int? exitCode = null;
        switch (action)
        {
            case null:
                kind = PingKind.Success;
                break;
            case "start":
                kind = PingKind.Start;
                break;
            case "fail":
                kind = PingKind.Fail;
                break;
            default:
                if (action.Length == 0 || action.Length > 10 || !action.All(char.IsAsciiDigit)) return UnknownUrl();
                if (!int.TryParse(action, NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code > 255)
                {
                    return Problems.Invalid("exit_code", "must be between 0 and 255");
                }
                exitCode = code;
                kind = code == 0 ? PingKind.Success : PingKind.Fail;
                break;
        }

        var rid = http.Request.Query["rid"].ToString();
        if (rid.Length > MaxRidLength || rid.Any(char.IsControl)) return Problems.Invalid("rid", $"must be at most {MaxRidLength} characters, without control characters");

        string? body = null;
        var truncated = false;
        if (HttpMethods.IsPost(http.Request.Method))
        {
            try
            {
                (body, truncated) = await ReadBodyAsync(http.Request, http.RequestAborted);
            }
            catch (Exception ex) when (ex is BadHttpRequestException or IOException)
            {
                return Problems.Invalid("body", "could not be read");
            }
        }
        var agent = http.Request.Headers.UserAgent.ToString();
        var ping = new MonitorPing(kind, exitCode, rid.Length == 0 ? null : rid, body, truncated, http.Connection.RemoteIpAddress?.ToString(),
            agent.Length == 0 ? null : Clean(agent.Length > MaxUserAgentLength ? agent[..MaxUserAgentLength] : agent));
        MonitorChange? change;
        try
        {
            change = await deps.Store.Monitors.PingAsync(new PingMonitorParams(PingKeys.Hash(key), slug, ping), http.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            // Not the pinger's fault: the store did not answer. Pingers retry on 503.
            deps.Logger.LogError(ex, "Could not record a ping");
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem("The ping could not be recorded now; try again.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Unavailable");
        }
        if (change is null) return Problems.NotFound(slug is null ? "No monitor has this ping key." : "No monitor has this slug under this ping key.");
        deps.Watch.Publish(change);
        return TypedResults.Text("OK");
    }

    private static ProblemHttpResult UnknownUrl() =>
        Problems.NotFound("Not a ping URL: /ping/{key}[/start|/fail|/{exit code}] or /ping/{organization ping key}/{slug}[/start|/fail|/{exit code}].");

    /// <summary>The body as text, up to <see cref="MaxBodyBytes"/> (what is more is not read, and marked).</summary>
    private static async Task<(string? Body, bool Truncated)> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0) length += read;
        if (length == 0) return (null, false);
        var truncated = length > MaxBodyBytes;
        var bytes = buffer.AsSpan(0, Math.Min(length, MaxBodyBytes));
        if (truncated)
        {
            // Cut at a character boundary: drop the UTF-8 sequence the cap split, if it did.
            var end = bytes.Length;
            var i = end - 1;
            while (i >= 0 && end - i < 4 && (bytes[i] & 0xC0) == 0x80) i--;
            if (i >= 0 && bytes[i] >= 0xC0 && end - i < (bytes[i] >= 0xF0 ? 4 : bytes[i] >= 0xE0 ? 3 : 2)) bytes = bytes[..i];
        }
        var text = Clean(Encoding.UTF8.GetString(bytes));
        return (truncated ? text + TruncatedMarker : text, truncated);
    }

    /// <summary>NUL characters are not text any database keeps.</summary>
    private static string Clean(string text) => text.Contains('\0', StringComparison.Ordinal) ? text.Replace('\0', '\uFFFD') : text;

    /// <summary>The ping rate limit: a fixed window per key (and slug), 429 with Retry-After beyond it.</summary>
    private sealed class PingRateLimit(PingLimits limits) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = (context, _) =>
        {
            var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
            return new ValueTask(AuthSetup.TooManyAsync(context.HttpContext, retry, "Too many pings with this key"));
        };

        public RateLimitPartition<string> GetPartition(HttpContext http)
        {
            var values = http.Request.RouteValues;
            var key = values.TryGetValue("key", out var k) ? k as string ?? "" : "";
            // Slug URLs share the organization's key: each slug has its own budget.
            if (PingKeys.IsOrganizationKey(key) && (values.TryGetValue("slug", out var s) || values.TryGetValue("action", out s))) key += "/" + s;
            return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = limits.PerKey,
                Window = limits.Window,
                QueueLimit = 0,
            });
        }
    }
}
