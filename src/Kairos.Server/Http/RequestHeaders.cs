using System.Collections;
using Scalar.AspNetCore;

namespace Kairos.Server.Http;

/// <summary>
/// The first middleware of every request: the request id (the client's <c>X-Request-Id</c> when it is a plausible one,
/// else a new one) as <see cref="HttpContext.TraceIdentifier"/>, sent back as <c>X-Request-Id</c> and held in a logging
/// scope (<c>request_id</c>) so that every line logged while the request runs carries it; and the security headers of
/// every answer, errors included (they are set when the answer starts, after any error handler has cleared headers).
/// </summary>
public static class RequestHeaders
{
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>The console's policy (and that of every other answer): nothing but the server's own scripts, styles, images and API.</summary>
    public const string ConsolePolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// The API reference (<c>/docs</c>, Scalar): its bundle is served by this server (no CDN, default fonts off), but the
    /// page starts it with an inline module script, allowed by the page's per-request nonce; fonts and images may be
    /// data: URLs. No 'unsafe-eval': the bundle's one use of it is a probe (Zod's "can I compile?") that falls back
    /// without, so a browser reports one refused eval and the page works (checked in chromium: it renders, nothing else
    /// is refused).
    /// </summary>
    public static string DocsPolicy(string? nonce) =>
        $"default-src 'self'; script-src 'self'{(nonce is null ? "" : $" 'nonce-{nonce}'")}; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static void UseRequestHeaders(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Kairos.Server.Requests");
        app.Use(async (http, next) =>
        {
            var incoming = http.Request.Headers[RequestIdHeader].ToString();
            http.TraceIdentifier = incoming is { Length: > 0 and <= 128 } && incoming.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
                ? incoming
                : Guid.CreateVersion7().ToString("N");
            http.Response.OnStarting(static state =>
            {
                var h = (HttpContext)state;
                Apply(h);
                return Task.CompletedTask;
            }, http);
            using (logger.BeginScope(new RequestIdScope(http.TraceIdentifier)))
            {
                await next(http);
            }
        });
    }

    private static void Apply(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers[RequestIdHeader] = http.TraceIdentifier;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = http.Request.Path.StartsWithSegments("/docs", StringComparison.OrdinalIgnoreCase)
            ? DocsPolicy(http.Items[ScalarOptions.NonceHttpContextItemKey] as string)
            : ConsolePolicy;
    }

    /// <summary>The logging scope of a request: <c>request_id</c> (JSON logs write it as a property of the line's scope).</summary>
    private sealed class RequestIdScope(string requestId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("request_id", requestId) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => "request_id:" + requestId;
    }
}
