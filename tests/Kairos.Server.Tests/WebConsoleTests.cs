using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Kairos.Server.Tests;

/// <summary>
/// Serving the web console: a built console in a temp content root (console/index.html and a hashed asset), client-side
/// routes answered with index.html, the API left alone, and the cache headers. Also the OpenAPI snapshot the console's
/// types are generated from.
/// </summary>
public sealed class WebConsoleTests : ApiTest
{
    private const string IndexHtml = "<!doctype html><html><head><script type=\"module\" src=\"/assets/index-abc123.js\"></script></head><body><div id=\"root\"></div></body></html>";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kairos-console-tests", Guid.NewGuid().ToString("N"));

    public WebConsoleTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "console", "assets"));
        File.WriteAllText(Path.Combine(_root, "console", "index.html"), IndexHtml);
        File.WriteAllText(Path.Combine(_root, "console", "assets", "index-abc123.js"), "console.log('kairos')");
        // As web/vite.config.ts writes them: the same bytes brotli- and gzip-encoded beside the hashed asset.
        var asset = Path.Combine(_root, "console", "assets", "app-def456.js");
        File.WriteAllBytes(asset, AssetBytes);
        using (var br = new BrotliStream(File.Create(asset + ".br"), CompressionLevel.SmallestSize)) br.Write(AssetBytes);
        using (var gz = new GZipStream(File.Create(asset + ".gz"), CompressionLevel.SmallestSize)) gz.Write(AssetBytes);
    }

    private static readonly byte[] AssetBytes =
        System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 500).Select(i => $"export const v{i} = 'kairos console {i}';\n")));

    private HttpClient Browser(bool followRedirects = false)
    {
        var factory = Factory.WithWebHostBuilder(b => b.UseContentRoot(_root));
        return factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = followRedirects });
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/jobs")]
    [InlineData("/jobs/0195b5b2-9d6c-7000-8000-000000000001")]
    [InlineData("/setup?token=abc")]
    public async Task Client_side_routes_answer_index_html_without_caching(string path)
    {
        using var browser = Browser();
        using var response = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal(IndexHtml, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Hashed_assets_are_cached_for_a_year_and_missing_ones_are_404()
    {
        using var browser = Browser();
        using var asset = await browser.GetAsync("/assets/index-abc123.js");
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", asset.Headers.CacheControl?.ToString());
        using var missing = await browser.GetAsync("/assets/index-gone.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate, br, zstd", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData(null, null)]
    [InlineData("identity", null)]
    public async Task Precompressed_assets_are_sent_in_an_accepted_encoding_and_decode_to_the_same_bytes(string? acceptEncoding, string? expected)
    {
        using var browser = Browser();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/assets/app-def456.js");
        if (acceptEncoding is not null) request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        using var response = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.Equal(expected is null ? [] : [expected], response.Content.Headers.ContentEncoding);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (expected is not null) Assert.True(body.Length < AssetBytes.Length, $"{expected} body of {body.Length} bytes");
        await using var decoded = expected switch
        {
            "br" => (Stream)new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
            "gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
            _ => new MemoryStream(body),
        };
        using var plain = new MemoryStream();
        await decoded.CopyToAsync(plain);
        Assert.Equal(AssetBytes, plain.ToArray());
    }

    [Fact]
    public async Task Index_html_is_never_sent_precompressed_or_cached()
    {
        using var browser = Browser();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "br, gzip");
        using var response = await browser.SendAsync(request);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(IndexHtml, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/v1/nothing-here")]
    [InlineData("/openapi/v2.json")]
    public async Task Server_paths_are_not_answered_with_the_console(string path)
    {
        using var browser = Browser();
        using var response = await browser.GetAsync(path);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("<div id=\"root\">", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_reference_and_document_still_answer()
    {
        using var browser = Browser(followRedirects: true);
        using var docs = await browser.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.DoesNotContain("<div id=\"root\">", await docs.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var stats = await browser.GetAsync("/api/v1/stats");
        Assert.Equal(HttpStatusCode.Unauthorized, stats.StatusCode);
    }

    /// <summary>
    /// web/openapi.json is what the console's types (web/src/api/schema.d.ts) are generated from. When the API changes,
    /// run this test with KAIROS_UPDATE_OPENAPI=1 to rewrite the snapshot, then <c>npm run gen:api --prefix web</c>.
    /// </summary>
    [Fact]
    public async Task The_console_openapi_snapshot_matches_the_served_document()
    {
        var served = Normalize(await Admin.GetStringAsync("/openapi/v1.json"));
        var snapshot = Path.Combine(RepoRoot(), "web", "openapi.json");
        if (Environment.GetEnvironmentVariable("KAIROS_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(snapshot, served);
        }
        var committed = File.Exists(snapshot) ? Normalize(await File.ReadAllTextAsync(snapshot)) : "(missing)";
        Assert.True(committed == served,
            "web/openapi.json differs from /openapi/v1.json: run `KAIROS_UPDATE_OPENAPI=1 dotnet test tests/Kairos.Server.Tests --filter "
            + "The_console_openapi_snapshot_matches_the_served_document`, then `npm run gen:api --prefix web`, and commit both files.");
    }

    private static string Normalize(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(doc.RootElement, IndentedJson) + "\n";
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kairos.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Kairos.sln not found above " + AppContext.BaseDirectory);
    }
}
