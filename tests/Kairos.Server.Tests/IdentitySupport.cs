using System.Net;
using System.Text.Json;
using Kairos.Server.Auth;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>A console user: a client that sends the session cookie and (unless told not to) the CSRF header, by hand.</summary>
public sealed class SessionUser(HttpClient client, string cookie, JsonElement me)
{
    public HttpClient Client { get; } = client;
    public string Cookie { get; } = cookie;
    /// <summary>The answer of the sign-in (the /auth/me body).</summary>
    public JsonElement Me { get; } = me;
    public string UserId => Me.GetProperty("user").Str("id");
    public string CsrfToken => Me.Str("csrf_token");
    public string? OrganizationId => Me.GetProperty("current_organization").ValueKind == JsonValueKind.Null
        ? null
        : Me.GetProperty("current_organization").Str("id");
}

/// <summary>Sign-in helpers for API tests: setup, login, invites.</summary>
public abstract class IdentityTest(bool fakeTime, LogCapture? logs = null) : ApiTest(fakeTime, logs)
{
    public const string OwnerEmail = "olga@example.com";
    public const string Password = "correct horse battery";

    /// <summary>A client that keeps no cookies of its own and follows no redirects (disposed with the factory's server).</summary>
    protected HttpClient Bare(string baseAddress = "http://localhost") =>
        Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false, BaseAddress = new Uri(baseAddress) });

    /// <summary>A fresh setup token (as the server prints at start).</summary>
    protected string SetupToken() => Factory.Services.GetRequiredService<SetupToken>().Issue();

    /// <summary>Runs the first-run setup: the owner of the default organization, renamed <paramref name="organization"/>.</summary>
    protected async Task<SessionUser> SetupAsync(string email = OwnerEmail, string organization = "Acme")
    {
        var client = Bare();
        using var response = await client.PostJsonAsync("/api/v1/setup", new { token = SetupToken(), email, password = Password, organization, name = "Olga" });
        return SignedIn(client, response, await response.Expect(HttpStatusCode.Created));
    }

    protected async Task<SessionUser> LoginAsync(string email, string password = Password)
    {
        var client = Bare();
        using var response = await client.PostJsonAsync("/api/v1/auth/login", new { email, password });
        return SignedIn(client, response, await response.Expect(HttpStatusCode.OK));
    }

    /// <summary>Invites <paramref name="email"/> with <paramref name="role"/> as <paramref name="inviter"/>; answers the invite's token.</summary>
    protected static async Task<string> InviteAsync(SessionUser inviter, string email, string role)
    {
        var invite = await inviter.Client.PostJsonAsync("/api/v1/invites", new { email, role }).Expect(HttpStatusCode.Created);
        var url = new Uri(invite.Str("invite_url"));
        Assert.Equal("/invite", url.AbsolutePath);
        return url.Query["?token=".Length..];
    }

    /// <summary>Invites a new user and accepts as them (account created): answers their session.</summary>
    protected async Task<SessionUser> MemberAsync(SessionUser inviter, string email, string role)
    {
        var token = await InviteAsync(inviter, email, role);
        var client = Bare();
        using var response = await client.PostJsonAsync("/api/v1/invites/accept", new { token, password = Password, name = email });
        return SignedIn(client, response, await response.Expect(HttpStatusCode.OK));
    }

    /// <summary>The client with the cookie the response set, and the CSRF token of the body.</summary>
    protected static SessionUser SignedIn(HttpClient client, HttpResponseMessage response, JsonElement me)
    {
        var cookie = SessionCookie(response) ?? throw new InvalidOperationException("no session cookie was set");
        client.DefaultRequestHeaders.Add("Cookie", $"{SessionAuthentication.CookieName}={cookie}");
        client.DefaultRequestHeaders.Add(AuthSetup.CsrfHeader, me.Str("csrf_token"));
        return new SessionUser(client, cookie, me);
    }

    /// <summary>The value of the kairos_session cookie set by the response; null when none was set.</summary>
    protected static string? SessionCookie(HttpResponseMessage response) =>
        SetCookie(response) is { } header ? header.Split(';')[0][(SessionAuthentication.CookieName.Length + 1)..] : null;

    protected static string? SetCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.FirstOrDefault(v => v.StartsWith(SessionAuthentication.CookieName + "=", StringComparison.Ordinal))
            : null;

    /// <summary>A client that sends only this cookie (no CSRF header).</summary>
    protected HttpClient WithCookie(string cookie)
    {
        var c = Bare();
        c.DefaultRequestHeaders.Add("Cookie", $"{SessionAuthentication.CookieName}={cookie}");
        return c;
    }
}

public static class IdentityHttp
{
    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string url, object? body) =>
        client.PatchAsync(url, System.Net.Http.Json.JsonContent.Create(body, options: Http.BodyOptions));
}
