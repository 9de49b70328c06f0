using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Kairos.Server.Http;

/// <summary>
/// Serves the built web console (web/dist, copied by the build into <c>console/</c> beside the server's assembly) at
/// <c>/</c>: hashed files under <c>/assets</c> cached for a year, <c>index.html</c> never cached, and every other GET
/// that is not the API, the API reference or the OpenAPI document answered with <c>index.html</c> (client-side routes).
/// Hashed assets precompressed at build time (<c>.br</c>, <c>.gz</c> beside them, see web/vite.config.ts) are sent
/// encoded to browsers that accept it, with the original's Content-Type, <c>Vary: Accept-Encoding</c> and the same cache
/// headers. Without a built console (<c>-p:SkipWeb=true</c>) <c>/</c> redirects to the API reference as before.
/// </summary>
public static class WebConsole
{
    public const string FolderName = "console";
    private const string Immutable = "public, max-age=31536000, immutable";
    private const string EncodedContentType = "kairos.console.content-type";
    private static readonly (string Coding, string Extension)[] Precompressed = [("br", ".br"), ("gzip", ".gz")];
    private static readonly string[] ServerPrefixes = ["/api", "/docs", "/openapi", "/scalar", "/healthz", "/readyz"];

    /// <summary>
    /// The folder holding the console's <c>index.html</c>: <c>console/</c> under the content root (a deployment may put
    /// it there) or beside the assembly (where the build copies it); null when the console was not built.
    /// </summary>
    public static string? FindRoot(string? contentRoot = null)
    {
        foreach (var baseDir in new[] { contentRoot, AppContext.BaseDirectory })
        {
            if (baseDir is null) continue;
            var root = Path.Combine(baseDir, FolderName);
            if (File.Exists(Path.Combine(root, "index.html"))) return Path.GetFullPath(root);
        }
        return null;
    }

    /// <summary>Whether a path belongs to the server rather than to the console's client-side routes.</summary>
    public static bool IsServerPath(PathString path) =>
        ServerPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// For a GET or HEAD of an asset with a precompressed sibling the browser accepts (brotli first), points the request
    /// at the sibling and sets Content-Encoding; the Content-Type of the original is applied when the file is sent.
    /// </summary>
    private static void ChoosePrecompressed(HttpContext http, PhysicalFileProvider files, FileExtensionContentTypeProvider types)
    {
        var path = http.Request.Path;
        if (!(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
            || !path.StartsWithSegments("/assets", StringComparison.Ordinal)
            || !types.TryGetContentType(path.Value!, out var contentType)) return;
        var available = Precompressed.Where(p => files.GetFileInfo(path.Value + p.Extension).Exists).ToList();
        if (available.Count == 0) return;
        http.Response.Headers.Vary = "Accept-Encoding";
        var accepted = http.Request.GetTypedHeaders().AcceptEncoding;
        foreach (var (coding, extension) in available)
        {
            if (!accepted.Any(a => string.Equals(a.Value.Value, coding, StringComparison.OrdinalIgnoreCase) && (a.Quality ?? 1) > 0)) continue;
            http.Request.Path = path.Value + extension;
            http.Response.Headers.ContentEncoding = coding;
            http.Items[EncodedContentType] = contentType;
            return;
        }
    }

    public static void MapWebConsole(this WebApplication app, string? root)
    {
        if (root is null)
        {
            app.MapGet("/", () => TypedResults.Redirect("/docs")).ExcludeFromDescription();
            return;
        }
        var files = new PhysicalFileProvider(root);
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".br"] = "application/octet-stream";
        app.Use((http, next) =>
        {
            ChoosePrecompressed(http, files, types);
            return next(http);
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = types,
            OnPrepareResponse = c =>
            {
                var response = c.Context.Response;
                response.Headers.CacheControl =
                    c.Context.Request.Path.StartsWithSegments("/assets", StringComparison.Ordinal) ? Immutable : "no-cache";
                if (c.Context.Items[EncodedContentType] is string contentType) response.ContentType = contentType;
            },
        });
        var index = Path.Combine(root, "index.html");
        // GET and HEAD only, and matched last: other methods still get 405/415 from the API's own endpoints.
        app.MapMethods("{*path:nonfile}", [HttpMethods.Get, HttpMethods.Head], async http =>
        {
            if (IsServerPath(http.Request.Path))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            http.Response.ContentType = "text/html; charset=utf-8";
            http.Response.Headers.CacheControl = "no-cache";
            if (HttpMethods.IsHead(http.Request.Method)) return;
            await http.Response.SendFileAsync(index, http.RequestAborted);
        }).WithOrder(int.MaxValue).WithDisplayName("Web console").AllowAnonymous().ExcludeFromDescription();
    }
}
