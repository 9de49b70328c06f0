using System.Net;
using System.Text.RegularExpressions;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>Security headers on every answer, the API reference's own CSP, and CORS: off by default, an allowlist when configured.</summary>
public sealed partial class SecurityHeadersTests : ApiTest
{
    private const string Listed = "https://app.example.com";

    private static void AssertSecurityHeaders(HttpResponseMessage response, string? policy = RequestHeaders.ConsolePolicy)
    {
        var what = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} ({(int)response.StatusCode})";
        string Header(string name) =>
            response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : throw new Xunit.Sdk.XunitException($"no {name} on {what}");
        Assert.Equal("nosniff", Header("X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header("Referrer-Policy"));
        Assert.Equal("DENY", Header("X-Frame-Options"));
        var csp = Header("Content-Security-Policy");
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        if (policy is not null) Assert.Equal(policy, csp);
        Http.AssertRequestId(response);
    }

    [Fact]
    public async Task Every_answer_carries_the_security_headers_errors_included()
    {
        var anonymous = Client(null);
        foreach (var (client, method, url, body, status) in new (HttpClient, HttpMethod, string, string?, HttpStatusCode)[]
        {
            (Admin, HttpMethod.Get, "/api/v1/stats", null, HttpStatusCode.OK),
            (anonymous, HttpMethod.Get, "/", null, HttpStatusCode.Redirect),
            (anonymous, HttpMethod.Get, "/healthz", null, HttpStatusCode.OK),
            (anonymous, HttpMethod.Get, "/openapi/v1.json", null, HttpStatusCode.OK),
            (anonymous, HttpMethod.Get, "/api/v1/jobs", null, HttpStatusCode.Unauthorized),
            (Admin, HttpMethod.Get, $"/api/v1/jobs/{Guid.NewGuid()}", null, HttpStatusCode.NotFound),
            (Admin, HttpMethod.Post, "/api/v1/jobs", "{not json", HttpStatusCode.BadRequest),
            (Admin, HttpMethod.Delete, "/api/v1/stats", null, HttpStatusCode.MethodNotAllowed),
        })
        {
            using var request = new HttpRequestMessage(method, url);
            if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            using var response = await client.SendAsync(request);
            // The console root redirects to /docs while the console is not built; either way it has the console's policy.
            var ok = response.StatusCode == status || (url == "/" && response.StatusCode == HttpStatusCode.OK);
            Assert.True(ok, $"{method} {url}: {(int)response.StatusCode}");
            AssertSecurityHeaders(response);
        }
    }

    [Fact]
    public async Task The_api_reference_is_served_from_here_with_a_nonce_for_its_start_up_script()
    {
        var anonymous = Client(null);
        using var page = await anonymous.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        var csp = string.Join(", ", page.Headers.GetValues("Content-Security-Policy"));
        AssertSecurityHeaders(page, policy: null);
        var nonce = Assert.Single(NoncePolicy().Matches(csp)).Groups[1].Value;
        var scripts = ScriptTag().Matches(html).Select(m => m.Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, s => Assert.Contains($"nonce=\"{nonce}\"", s, StringComparison.Ordinal));
        // Nothing from elsewhere: every script is this server's, and the policy names no other host.
        Assert.DoesNotContain(scripts, s => s.Contains("src=\"http", StringComparison.OrdinalIgnoreCase) || s.Contains("src=\"//", StringComparison.Ordinal));
        Assert.DoesNotContain("http", csp, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("script-src 'self' 'nonce-", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        using var bundle = await anonymous.GetAsync("/docs/scalar.js");
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        // A new nonce for every page.
        using var again = await anonymous.GetAsync("/docs/");
        Assert.NotEqual(nonce, NoncePolicy().Match(string.Join(", ", again.Headers.GetValues("Content-Security-Policy"))).Groups[1].Value);
    }

    [Fact]
    public async Task Cross_origin_requests_are_refused_by_default()
    {
        using var preflight = await Client(null).SendAsync(Preflight("/api/v1/jobs", Listed));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"), "CORS answered though no origin is allowed");
        using var get = await WithOrigin(Admin, "/api/v1/stats", Listed);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.False(get.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Listed_origins_may_call_with_credentials_and_others_may_not()
    {
        await using var factory = Factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton(new ServerOptions
        {
            Data = Path.Combine(Factory.DataDir, "cors"),
            AdminApiKey = KairosFactory.AdminKey,
            CorsOrigins = [Listed, "http://localhost:5173"],
        })));
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using (var allowed = await client.SendAsync(Preflight("/api/v1/jobs", Listed)))
        {
            Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
            Assert.Equal(Listed, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("true", allowed.Headers.GetValues("Access-Control-Allow-Credentials").Single());
            Assert.Contains("POST", string.Join(",", allowed.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
            AssertSecurityHeaders(allowed);
        }
        using (var refused = await client.SendAsync(Preflight("/api/v1/jobs", "https://evil.example.com")))
        {
            Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
            Assert.False(refused.Headers.Contains("Access-Control-Allow-Credentials"));
        }

        client.DefaultRequestHeaders.Authorization = new("Bearer", KairosFactory.AdminKey);
        using (var get = await WithOrigin(client, "/api/v1/stats", "http://localhost:5173"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("http://localhost:5173", get.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("X-Request-Id", string.Join(",", get.Headers.GetValues("Access-Control-Expose-Headers")), StringComparison.OrdinalIgnoreCase);
        }
        using (var other = await WithOrigin(client, "/api/v1/stats", "https://evil.example.com"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode); // the browser, not the server, withholds the answer
            Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public void Cors_origins_are_read_from_a_comma_separated_list_and_checked()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CORS_ORIGINS"] = " https://app.example.com, http://localhost:5173 ,,https://app.example.com",
            ["LOG_FORMAT"] = "JSON",
        }).Build();
        var options = ServerOptions.From(config).Validate();
        Assert.Equal(["https://app.example.com", "http://localhost:5173"], options.CorsOrigins);
        Assert.Equal("json", options.LogFormat);
        Assert.Empty(ServerOptions.From(new ConfigurationBuilder().Build()).CorsOrigins);
        foreach (var bad in new[] { "app.example.com", "https://app.example.com/", "https://app.example.com/path", "ftp://x.example.com", "*" })
        {
            var e = Assert.Throws<ArgumentException>(() => (new ServerOptions { CorsOrigins = [bad] }).Validate());
            Assert.Contains(bad, e.Message, StringComparison.Ordinal);
        }
        Assert.Throws<ArgumentException>(() => (new ServerOptions { LogFormat = "xml" }).Validate());
    }

    private static HttpRequestMessage Preflight(string url, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, url);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type, x-csrf-token");
        return request;
    }

    private static async Task<HttpResponseMessage> WithOrigin(HttpClient client, string url, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Origin", origin);
        return await client.SendAsync(request);
    }

    [GeneratedRegex("'nonce-([^']+)'")]
    private static partial Regex NoncePolicy();

    [GeneratedRegex("<script[^>]*>")]
    private static partial Regex ScriptTag();
}
