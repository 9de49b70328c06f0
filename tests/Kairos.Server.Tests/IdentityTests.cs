using System.Net;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Server.Auth;

namespace Kairos.Server.Tests;

/// <summary>First-run setup, sign-in and sign-out, /auth/me, CSRF, sign-in rate limits, session expiry.</summary>
public sealed class IdentityTests() : IdentityTest(fakeTime: true)
{
    [Fact]
    public async Task Setup_is_required_until_done_and_refuses_a_missing_or_wrong_token()
    {
        var anonymous = Bare();
        Assert.True((await anonymous.GetAsync("/api/v1/setup").Expect(HttpStatusCode.OK)).GetProperty("required").GetBoolean());
        var token = SetupToken();

        await anonymous.PostJsonAsync("/api/v1/setup", new { email = OwnerEmail, password = Password, organization = "Acme" }).ExpectProblem(HttpStatusCode.Forbidden);
        await anonymous.PostJsonAsync("/api/v1/setup", new { token = Tokens.New(), email = OwnerEmail, password = Password, organization = "Acme" })
            .ExpectProblem(HttpStatusCode.Forbidden);
        await anonymous.PostJsonAsync("/api/v1/setup", new { token, email = OwnerEmail, password = "too short", organization = "Acme" })
            .ExpectProblem(HttpStatusCode.BadRequest, "password");
        await anonymous.PostJsonAsync("/api/v1/setup", new { token, email = "not-an-email", password = Password })
            .ExpectProblem(HttpStatusCode.BadRequest, "email", "organization");
        Assert.True((await anonymous.GetAsync("/api/v1/setup").Expect(HttpStatusCode.OK)).GetProperty("required").GetBoolean());

        using var response = await anonymous.PostJsonAsync("/api/v1/setup", new { token, email = " Olga@Example.com", password = Password, organization = "Acme" });
        var me = await response.Expect(HttpStatusCode.Created);
        Assert.Equal("user", me.Str("kind"));
        Assert.Equal("olga@example.com", me.GetProperty("user").Str("email"));
        Assert.Equal("olga", me.GetProperty("user").Str("name"));
        var current = me.GetProperty("current_organization");
        Assert.Equal(Organizations.Default.ToString(), current.Str("id"));
        Assert.Equal("Acme", current.Str("name"));
        Assert.Equal("owner", current.Str("role"));
        Assert.Contains("organization.manage", Names(me.GetProperty("permissions")));
        Assert.DoesNotContain("worker.protocol", Names(me.GetProperty("permissions")));
        Assert.False(string.IsNullOrEmpty(me.Str("csrf_token")));
        Assert.NotNull(SessionCookie(response));
        Assert.DoesNotContain(Password, me.ToString(), StringComparison.Ordinal);

        // Single use: the same token, a new token, anything: 410.
        Assert.False((await anonymous.GetAsync("/api/v1/setup").Expect(HttpStatusCode.OK)).GetProperty("required").GetBoolean());
        await anonymous.PostJsonAsync("/api/v1/setup", new { token, email = "eve@example.com", password = Password, organization = "Evil" }).ExpectProblem(HttpStatusCode.Gone);
        await anonymous.PostJsonAsync("/api/v1/setup", new { token = SetupToken(), email = "eve@example.com", password = Password, organization = "Evil" })
            .ExpectProblem(HttpStatusCode.Gone);

        // The owner took over the default organization: the bootstrap key's organization is the same one, renamed.
        var keyMe = await Admin.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK);
        Assert.Equal("Acme", keyMe.GetProperty("current_organization").Str("name"));
    }

    [Fact]
    public async Task Of_two_concurrent_setups_one_wins_and_the_other_is_refused()
    {
        var token = SetupToken();
        var a = Bare();
        var b = Bare();
        var responses = await Task.WhenAll(
            a.PostJsonAsync("/api/v1/setup", new { token, email = "a@example.com", password = Password, organization = "A" }),
            b.PostJsonAsync("/api/v1/setup", new { token, email = "b@example.com", password = Password, organization = "B" }));
        try
        {
            var codes = responses.Select(r => r.StatusCode).Order().ToArray();
            Assert.Equal(HttpStatusCode.Created, codes[0]);
            Assert.Contains(codes[1], new[] { HttpStatusCode.Forbidden, HttpStatusCode.Gone });
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
        var members = await Admin.GetAsync("/api/v1/members").Expect(HttpStatusCode.OK);
        Assert.Single(members.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public void The_printed_setup_link_names_the_listening_port_on_localhost()
    {
        Assert.Equal("http://localhost:7700/setup?token=abc", Auth.SetupToken.Link("http://127.0.0.1:7700", "abc"));
        Assert.Equal("http://localhost:8123/setup?token=abc", Auth.SetupToken.Link("http://[::]:8123", "abc"));
        Assert.Equal("http://kairos.internal:7700/setup?token=abc", Auth.SetupToken.Link("http://kairos.internal:7700", "abc"));
    }

    [Fact]
    public async Task Login_sets_a_session_cookie_and_logout_refuses_it_at_once()
    {
        await SetupAsync();
        var client = Bare();
        using var response = await client.PostJsonAsync("/api/v1/auth/login", new { email = "OLGA@example.com ", password = Password });
        var me = await response.Expect(HttpStatusCode.OK);
        Assert.Equal(OwnerEmail, me.GetProperty("user").Str("email"));
        var header = SetCookie(response)!;
        Assert.Contains("httponly", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", header, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", header, StringComparison.OrdinalIgnoreCase);
        var user = SignedIn(client, response, me);

        var again = await user.Client.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK);
        Assert.Equal(me.GetProperty("user").Str("id"), again.GetProperty("user").Str("id"));
        Assert.Equal(me.Str("csrf_token"), again.Str("csrf_token"));
        await user.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);

        using (var logout = await user.Client.PostAsync("/api/v1/auth/logout", null))
        {
            await logout.Expect(HttpStatusCode.NoContent);
            Assert.Contains("expires=Thu, 01 Jan 1970", SetCookie(logout), StringComparison.OrdinalIgnoreCase);
        }
        await user.Client.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Unauthorized);
        await user.Client.GetAsync("/api/v1/auth/me").ExpectProblem(HttpStatusCode.Unauthorized);
        await WithCookie(user.Cookie).GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Over_https_the_cookie_is_secure()
    {
        await SetupAsync();
        using var response = await Bare("https://localhost").PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = Password });
        await response.Expect(HttpStatusCode.OK);
        Assert.Contains("secure", SetCookie(response), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Wrong_passwords_and_unknown_emails_get_the_same_answer()
    {
        await SetupAsync();
        var anonymous = Bare();
        var wrong = await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = "wrong password!" }).ExpectProblem(HttpStatusCode.Unauthorized);
        var unknown = await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = Password }).ExpectProblem(HttpStatusCode.Unauthorized);
        Assert.Equal(wrong.Str("detail"), unknown.Str("detail"));
        Assert.Equal(wrong.Str("title"), unknown.Str("title"));
        await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail }).ExpectProblem(HttpStatusCode.BadRequest, "password");
        await anonymous.PostRawAsync("/api/v1/auth/login", $"email={OwnerEmail}&password={Password}", "application/x-www-form-urlencoded")
            .ExpectProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_account_is_locked_after_repeated_failures_until_the_window_passes()
    {
        await SetupAsync();
        var anonymous = Bare();
        for (var i = 0; i < 5; i++)
        {
            await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = $"wrong password {i}" }).ExpectProblem(HttpStatusCode.Unauthorized);
        }
        // Locked: even the right password is refused, with when to retry.
        using (var locked = await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = Password }))
        {
            var problem = await locked.ExpectProblem(HttpStatusCode.TooManyRequests);
            var retry = locked.Headers.RetryAfter?.Delta;
            Assert.NotNull(retry);
            Assert.InRange(retry.Value.TotalSeconds, 1, 15 * 60);
            Assert.Contains("retry in", problem.Str("detail"), StringComparison.Ordinal);
        }
        // Unknown accounts lock the same way (nothing tells them apart).
        for (var i = 0; i < 5; i++)
        {
            await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = "ghost@example.com", password = "wrong password" }).ExpectProblem(HttpStatusCode.Unauthorized);
        }
        await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = "ghost@example.com", password = "wrong password" }).ExpectProblem(HttpStatusCode.TooManyRequests);

        Time.Advance(TimeSpan.FromMinutes(15));
        await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = Password }).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sign_in_attempts_are_limited_per_client_address()
    {
        var anonymous = Bare();
        var limits = new AuthLimits();
        for (var i = 0; i < limits.AttemptsPerIpPerMinute; i++)
        {
            await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = $"user{i}@example.com", password = Password }).ExpectProblem(HttpStatusCode.Unauthorized);
        }
        using var limited = await anonymous.PostJsonAsync("/api/v1/auth/login", new { email = "another@example.com", password = Password });
        await limited.ExpectProblem(HttpStatusCode.TooManyRequests);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // Setup shares the limit; API keys are not affected.
        await anonymous.PostJsonAsync("/api/v1/setup", new { token = SetupToken(), email = OwnerEmail, password = Password, organization = "A" })
            .ExpectProblem(HttpStatusCode.TooManyRequests);
        await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Cookie_requests_that_change_something_need_the_csrf_header()
    {
        var owner = await SetupAsync();
        var noHeader = WithCookie(owner.Cookie);
        await noHeader.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        await noHeader.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).ExpectProblem(HttpStatusCode.Forbidden);
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = JsonContent(new { queue = "q", type = "t" }) })
        {
            request.Headers.Add(AuthSetup.CsrfHeader, Tokens.New());
            await (await noHeader.SendAsync(request)).ExpectProblem(HttpStatusCode.Forbidden);
        }
        await noHeader.PostAsync("/api/v1/auth/logout", null).ExpectProblem(HttpStatusCode.Forbidden);
        Assert.Empty((await Admin.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK)).Ids());

        var job = await owner.Client.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).Expect(HttpStatusCode.Created);
        using (var delete = await owner.Client.DeleteAsync($"/api/v1/jobs/{job.Str("id")}"))
        {
            await delete.Expect(HttpStatusCode.NoContent);
        }
        // API keys are not cookies: no header needed.
        await Admin.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).Expect(HttpStatusCode.Created);
        // A request with both a key and the cookie is the key's.
        var both = WithCookie(owner.Cookie);
        both.DefaultRequestHeaders.Authorization = new("Bearer", KairosFactory.AdminKey);
        await both.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Me_describes_an_api_key_as_the_clis_whoami()
    {
        var (id, key) = await CreateKeyWithIdAsync("read");
        var me = await Client(key).GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK);
        Assert.Equal("api_key", me.Str("kind"));
        Assert.True(me.IsNull("user"));
        Assert.True(me.IsNull("csrf_token"));
        var apiKey = me.GetProperty("api_key");
        Assert.Equal(id, apiKey.Str("id"));
        Assert.Equal(ApiKeySecrets.VisiblePrefix(key), apiKey.Str("prefix"));
        Assert.Equal(["read"], Names(apiKey.GetProperty("scopes")));
        Assert.Equal(Organizations.Default.ToString(), me.GetProperty("current_organization").Str("id"));
        Assert.True(me.GetProperty("current_organization").IsNull("role"));
        Assert.Equal(["read"], Names(me.GetProperty("permissions")));
        Assert.DoesNotContain(key, me.ToString(), StringComparison.Ordinal);

        var admin = await Admin.GetAsync("/api/v1/auth/me").Expect(HttpStatusCode.OK);
        var permissions = Names(admin.GetProperty("permissions"));
        Assert.Contains("keys.manage", permissions);
        Assert.Contains("worker.protocol", permissions);
        Assert.DoesNotContain("organization.manage", permissions);

        await Bare().GetAsync("/api/v1/auth/me").ExpectProblem(HttpStatusCode.Unauthorized);
        await Admin.PostJsonAsync("/api/v1/auth/organization", new { organization_id = Organizations.Default }).ExpectProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_expired_session_is_refused()
    {
        var owner = await SetupAsync();
        Time.Advance(SessionIssuer.Lifetime - TimeSpan.FromMinutes(1));
        await owner.Client.GetAsync("/api/v1/jobs").Expect(HttpStatusCode.OK);
        Time.Advance(TimeSpan.FromMinutes(1));
        await owner.Client.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Unauthorized);
        await owner.Client.GetAsync("/api/v1/auth/me").ExpectProblem(HttpStatusCode.Unauthorized);
        // Signing in again works.
        await LoginAsync(OwnerEmail);
    }

    [Fact]
    public async Task A_garbage_cookie_is_refused_and_anonymous_endpoints_still_answer()
    {
        var client = WithCookie(Tokens.New());
        await client.GetAsync("/api/v1/jobs").ExpectProblem(HttpStatusCode.Unauthorized);
        Assert.True((await client.GetAsync("/api/v1/setup").Expect(HttpStatusCode.OK)).GetProperty("required").GetBoolean());
        using var response = await client.PostJsonAsync("/api/v1/setup", new { token = SetupToken(), email = OwnerEmail, password = Password, organization = "A" });
        await response.Expect(HttpStatusCode.Created);
    }

    private static string[] Names(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static System.Net.Http.Json.JsonContent JsonContent(object body) => System.Net.Http.Json.JsonContent.Create(body, options: Http.BodyOptions);
}
