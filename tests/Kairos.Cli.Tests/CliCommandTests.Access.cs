using System.Net;
using System.Text.Json;
using Kairos.Cli.Tests.Infrastructure;

namespace Kairos.Cli.Tests;

/// <summary><c>kairos whoami</c>, <c>kairos keys list|create|revoke</c>, <c>kairos audit</c>, and the server's JSON logs.</summary>
public sealed partial class CliCommandTests
{
    [Fact]
    public async Task Whoami_keys_and_audit()
    {
        var me = await _server.RunAsync("whoami", "--json");
        Ok(me);
        var json = me.Json();
        Assert.Equal("api_key", json.GetProperty("kind").GetString());
        Assert.Contains("admin", json.GetProperty("api_key").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("audit.read", json.GetProperty("permissions").EnumerateArray().Select(s => s.GetString()));
        var human = await _server.RunAsync("whoami");
        Ok(human);
        Assert.Contains("bootstrap admin", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("Permissions", human.Stdout, StringComparison.Ordinal);

        // A key created (shown once), listed without it, used, revoked: refused from then on.
        var created = await _server.RunAsync("keys", "create", "ci-deploy", "--scope", "read", "--scope", "worker", "--expires-in", "30d", "--json");
        Ok(created);
        var key = created.Json();
        var secret = key.GetProperty("key").GetString()!;
        var id = key.GetProperty("id").GetString()!;
        Assert.StartsWith("kx_", secret, StringComparison.Ordinal);
        Assert.Equal(["worker", "read"], key.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        var list = await _server.RunAsync("keys", "list");
        Ok(list);
        Assert.Contains("ci-deploy", list.Stdout, StringComparison.Ordinal);
        Assert.Contains(id, list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list.Stdout, StringComparison.Ordinal);
        var listed = await _server.RunAsync("keys", "list", "--json");
        Ok(listed);
        Assert.Contains(listed.Json().EnumerateArray(), k => k.GetProperty("id").GetString() == id && !k.TryGetProperty("key", out _));
        var asKey = await _server.RunWithAsync(new Dictionary<string, string> { ["KAIROS_API_KEY"] = secret }, "whoami");
        Ok(asKey);
        Assert.Contains("ci-deploy", asKey.Stdout, StringComparison.Ordinal);
        var plain = await _server.RunAsync("keys", "create", "shown-once", "--scope", "read");
        Ok(plain);
        Assert.Contains("shown this once", plain.Stdout, StringComparison.Ordinal);
        Assert.Matches("(?m)^kx_[0-9a-f]{64}$", plain.Stdout);

        Ok(await _server.RunAsync("keys", "revoke", id));
        Assert.Contains("401", Failed(await _server.RunWithAsync(new Dictionary<string, string> { ["KAIROS_API_KEY"] = secret }, "whoami"), 1), StringComparison.Ordinal);
        Assert.Contains("404", Failed(await _server.RunAsync("keys", "revoke", id), 1), StringComparison.Ordinal);
        Assert.Contains("not a key id", Failed(await _server.RunAsync("keys", "revoke", "nope"), 2), StringComparison.Ordinal);
        Failed(await _server.RunAsync("keys", "create", "no-scope"), 2);
        Assert.Contains("scopes", Failed(await _server.RunAsync("keys", "create", "bad", "--scope", "root"), 1), StringComparison.Ordinal);

        // The audit log holds what was just done, filtered by action; the key itself nowhere.
        using (var paused = await _server.Api.PostAsync("api/v1/queues/mail/pause", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, paused.StatusCode); // no such queue yet: the refusal is recorded too
        }
        var audit = await _server.RunAsync("audit", "--action", "api_key.*", "--since", "1h", "--json");
        Ok(audit);
        var entries = audit.Json().EnumerateArray().ToList();
        Assert.Equal(["api_key.revoke", "api_key.create", "api_key.create"], entries.Where(e => e.GetProperty("status").GetInt32() < 400)
            .Select(e => e.GetProperty("action").GetString()));
        Assert.All(entries, e => Assert.Equal("api_key", e.GetProperty("actor_type").GetString()));
        Assert.DoesNotContain(secret, audit.Stdout, StringComparison.Ordinal);
        var table = await _server.RunAsync("audit", "--limit", "3");
        Ok(table);
        Assert.Contains("queue.pause", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("ACTION", table.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, (await _server.RunAsync("audit", "--limit", "3", "--json")).Json().GetArrayLength());
        var none = await _server.RunAsync("audit", "--action", "queue.pause", "--until", "2000-01-01T00:00:00Z", "--json");
        Ok(none);
        Assert.Equal(0, none.Json().GetArrayLength());
        Assert.Contains("--since", Failed(await _server.RunAsync("audit", "--since", "yesterday-ish"), 2), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_logs_are_json_lines_with_the_request_id_and_no_password()
    {
        // JSON is the default when stdout is not a terminal, as here.
        const string password = "never-log-me-4d2c9b";
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/auth/login")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { email = "someone@example.com", password }), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Request-Id", "json-log-1");
        using var response = await _server.Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        var line = await _server.Server.WaitForStdoutAsync("json-log-1", TimeSpan.FromSeconds(30));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Contains("auth.login_failed", root.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Contains(root.GetProperty("Scopes").EnumerateArray(),
            s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("request_id", out var id) && id.GetString() == "json-log-1");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", root.GetProperty("Timestamp").GetString());

        // Every line is JSON but the two the server prints for people (where it listens, the setup link).
        foreach (var l in _server.Server.Stdout.Where(l => !string.IsNullOrWhiteSpace(l)
                                                           && !l.StartsWith("Kairos ", StringComparison.Ordinal) && !l.StartsWith("Open http", StringComparison.Ordinal)))
        {
            using var parsed = JsonDocument.Parse(l);
        }
        Assert.DoesNotContain(_server.Server.Stdout.Concat(_server.Server.Stderr), l => l.Contains(password, StringComparison.Ordinal));
    }
}
