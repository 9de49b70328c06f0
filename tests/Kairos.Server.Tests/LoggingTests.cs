using System.Net;
using Kairos.Core.Auth;
using Microsoft.Extensions.Logging;

namespace Kairos.Server.Tests;

/// <summary>What the server logs: the request id on every line of a request, and never a secret.</summary>
public sealed class LoggingTests() : IdentityTest(fakeTime: false, new LogCapture())
{
    private LogCapture Captured => Factory.Logs!;

    [Fact]
    public async Task Every_line_logged_while_a_request_runs_carries_its_request_id()
    {
        await EnqueueAsync("mail");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queues/mail/pause"))
        {
            request.Headers.Add("X-Request-Id", "log-scope-7");
            using var response = await Admin.SendAsync(request);
            await response.Expect(HttpStatusCode.OK);
        }
        var lines = Captured.Lines;
        var audit = Assert.Single(lines, l => l.Category.EndsWith("AuditRecorder", StringComparison.Ordinal) && l.Message.Contains("queue.pause", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, audit.Level);
        Assert.Equal("log-scope-7", audit.ScopeValue("request_id"));

        // Every line of that request, whoever logged it (authentication, routing, the endpoint, the audit log), but the
        // host's own lines (request starting/finished, host filtering), written before the application's middleware runs.
        var ofRequest = lines.Where(l => l.ScopeValue("RequestPath") == "/api/v1/queues/mail/pause"
                                         && !l.Category.StartsWith("Microsoft.AspNetCore.Host", StringComparison.Ordinal)).ToList();
        Assert.True(ofRequest.Count >= 3, string.Join("\n", ofRequest));
        Assert.All(ofRequest, l => Assert.True(l.ScopeValue("request_id") == "log-scope-7", $"no request_id on: {l}"));

        // A request without X-Request-Id gets an id of its own, the one it answers with.
        using var second = await Admin.PostAsync("/api/v1/queues/mail/resume", null);
        await second.Expect(HttpStatusCode.OK);
        var id = second.Headers.GetValues("X-Request-Id").Single();
        Assert.Contains(Captured.Lines, l => l.Message.Contains("queue.resume", StringComparison.Ordinal) && l.ScopeValue("request_id") == id);
    }

    [Fact]
    public async Task No_password_key_or_token_is_ever_logged()
    {
        const string wrongPassword = "wrong-horse-battery-3f9a";
        var setupToken = SetupToken();
        var anonymous = Bare();
        using var setupResponse = await anonymous.PostJsonAsync("/api/v1/setup", new { token = setupToken, email = OwnerEmail, password = Password, organization = "Acme" });
        var owner = SignedIn(anonymous, setupResponse, await setupResponse.Expect(HttpStatusCode.Created));

        var created = await owner.Client.PostJsonAsync("/api/v1/api-keys", new { name = "ci", scopes = new[] { "admin" } }).Expect(HttpStatusCode.Created);
        var key = created.Str("key");
        var withKey = Client(key);
        await withKey.GetAsync("/api/v1/stats").Expect(HttpStatusCode.OK);
        await withKey.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).Expect(HttpStatusCode.Created);

        await Bare().PostJsonAsync("/api/v1/auth/login", new { email = OwnerEmail, password = wrongPassword }).ExpectProblem(HttpStatusCode.Unauthorized);
        await Bare().PostJsonAsync("/api/v1/auth/login", new { email = wrongPassword, password = Password }).ExpectProblem(HttpStatusCode.Unauthorized);
        var again = await LoginAsync(OwnerEmail);
        var inviteToken = await InviteAsync(owner, "nina@example.com", "member");
        await Bare().PostJsonAsync("/api/v1/invites/accept", new { token = inviteToken, password = Password }).Expect(HttpStatusCode.OK);
        await Bare().PostJsonAsync("/api/v1/setup", new { token = setupToken, email = OwnerEmail, password = Password, organization = "Again" }).ExpectProblem(HttpStatusCode.Gone);

        using (var revoked = await owner.Client.DeleteAsync($"/api/v1/api-keys/{created.Str("id")}"))
        {
            await revoked.Expect(HttpStatusCode.NoContent);
        }
        await withKey.GetAsync("/api/v1/stats").ExpectProblem(HttpStatusCode.Unauthorized);
        await Client(key + "x").GetAsync("/api/v1/stats").ExpectProblem(HttpStatusCode.Unauthorized);
        const string newPassword = "new-horse-battery-7c2d";
        await again.Client.PostJsonAsync("/api/v1/me/password", new { current_password = wrongPassword, new_password = newPassword })
            .ExpectProblem(HttpStatusCode.BadRequest, "current_password");
        await again.Client.PostJsonAsync("/api/v1/me/password", new { current_password = Password, new_password = newPassword }).Expect(HttpStatusCode.OK);

        var lines = Captured.Lines;
        Assert.True(lines.Count > 50, $"only {lines.Count} lines captured");
        Assert.Contains(lines, l => l.Message.Contains("auth.login_failed", StringComparison.Ordinal));
        var secrets = new Dictionary<string, string>
        {
            ["the password"] = Password,
            ["a wrong password"] = wrongPassword,
            ["a changed password"] = newPassword,
            ["the API key"] = key,
            ["the API key's hash"] = ApiKeySecrets.Hash(key),
            ["the bootstrap key"] = KairosFactory.AdminKey,
            ["the bootstrap key's hash"] = ApiKeySecrets.Hash(KairosFactory.AdminKey),
            ["the session cookie"] = owner.Cookie,
            ["the session cookie's hash"] = Tokens.Hash(owner.Cookie),
            ["the second session cookie"] = again.Cookie,
            ["the CSRF token"] = owner.CsrfToken,
            ["the setup token"] = setupToken,
            ["the invite token"] = inviteToken,
        };
        AssertNoneLogged(lines, secrets);
    }
    [Fact]
    public async Task No_webhook_secret_or_channel_secret_is_ever_logged()
    {
        // (Ping keys are in their URLs: ServerProcessTests reads the JSON logs of a real process for them.)
        var key = (await Admin.PostJsonAsync("/api/v1/monitors", new { name = "backup", period_seconds = 3600 }).Expect(HttpStatusCode.Created)).Str("ping_key");
        var pinger = Bare();

        // A webhook (its secret signs deliveries that fail: the receiver's name does not resolve) and channels with secrets whose sends fail.
        var secret = (await Admin.PostJsonAsync("/api/v1/webhooks", new { url = "https://kairos-test.invalid/hook", event_types = new[] { "*" } })
            .Expect(HttpStatusCode.Created)).Str("secret");
        const string SlackToken = "T0SLACK/B0HOOK/slacktokensecret123";
        const string SmtpPassword = "smtp-password-secret-456";
        const string RoutingKey = "R0UTINGKEYsecret7890abcdef";
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "slack", kind = "slack", config = new { url = $"https://kairos-test.invalid/services/{SlackToken}" } })
            .Expect(HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "mail", kind = "email",
            config = new { host = "127.0.0.1", port = 1, tls = "none", username = "kairos", password = SmtpPassword, from = "k@example.com", to = new[] { "ops@example.com" } } })
            .Expect(HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/v1/alert-channels", new { name = "pager", kind = "pagerduty", config = new { routing_key = RoutingKey, events_url = "https://kairos-test.invalid/pd" } })
            .Expect(HttpStatusCode.Created);
        foreach (var channel in new[] { "slack", "mail", "pager" })
        {
            Assert.False((await Admin.PostAsync($"/api/v1/alert-channels/{channel}/test", null).Expect(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean(), channel);
        }
        // A rule that fires into all three (the notices fail and are logged as warnings).
        await Admin.PostJsonAsync("/api/v1/alert-rules", new { name = "down", kind = "monitor", channels = new[] { "slack", "mail", "pager" } }).Expect(HttpStatusCode.Created);
        using (var fail = await pinger.GetAsync($"/ping/{key}/fail"))
        {
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        }
        using var deadline = Deadline(30);
        while (!Captured.Lines.Any(l => l.Message.Contains("did not take the firing notice", StringComparison.Ordinal)))
        {
            await Task.Delay(50, deadline.Token); // polls the condition, bounded by the deadline
        }

        var secrets = new Dictionary<string, string>
        {
            ["the webhook secret"] = secret,
            ["the Slack URL's token"] = SlackToken,
            ["the SMTP password"] = SmtpPassword,
            ["the PagerDuty routing key"] = RoutingKey,
        };
        var lines = Captured.Lines;
        Assert.Contains(lines, l => l.Level == LogLevel.Warning && l.Message.Contains("channel slack did not take", StringComparison.Ordinal));
        AssertNoneLogged(lines, secrets);
    }

    /// <summary>Fails naming each secret found in a line (its text, state and scopes).</summary>
    private static void AssertNoneLogged(IEnumerable<LogLine> lines, Dictionary<string, string> secrets)
    {
        var leaks = (from line in lines
                     let text = line.AllText()
                     from secret in secrets
                     where text.Contains(secret.Value, StringComparison.Ordinal)
                     select $"{secret.Key} in {line.Level} {line.Category}: {text}").ToList();
        Assert.True(leaks.Count == 0, string.Join("\n---\n", leaks));
    }
}
