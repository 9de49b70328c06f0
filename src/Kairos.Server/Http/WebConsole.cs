using Microsoft.Extensions.FileProviders;

namespace Kairos.Server.Http;

/// <summary>
/// Serves the built web console (web/dist, copied by the build into <c>console/</c> beside the server's assembly) at
/// <c>/</c>: hashed files under <c>/assets</c> cached for a year, <c>index.html</c> never cached, and every other GET
/// that is not the API, the API reference or the OpenAPI document answered with <c>index.html</c> (client-side routes).
/// Without a built console (<c>-p:SkipWeb=true</c>) <c>/</c> redirects to the API reference as before.
/// </summary>
public static class WebConsole
{
    public const string FolderName = "console";
    private const string Immutable = "public, max-age=31536000, immutable";
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

    public static void MapWebConsole(this WebApplication app, string? root)
    {
        if (root is null)
        {
            app.MapGet("/", () => TypedResults.Redirect("/docs")).ExcludeFromDescription();
            return;
        }
        var files = new PhysicalFileProvider(root);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl =
                c.Context.Request.Path.StartsWithSegments("/assets", StringComparison.Ordinal) ? Immutable : "no-cache",
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
