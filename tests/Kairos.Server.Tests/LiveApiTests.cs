using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Server.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>
/// The WebSocket event stream <c>/api/v1/ws</c> on a real Kestrel server over loopback, read with
/// <see cref="ClientWebSocket"/>: the envelope (the same as SSE), resuming with <c>?after=</c>, the session cookie and
/// its origin check, API keys, organizations, bad requests, and the server's close when it stops.
/// </summary>
public sealed class LiveApiTests : IAsyncLifetime
{
    private const string AdminKey = "kx_live_tests_admin_0a1b2c3d4e5f6a7b";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "kairos-live-tests", Guid.NewGuid().ToString("N"));
    private WebApplication _app = null!;
    private HttpClient _admin = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        _app = KairosServer.Build(new ServerOptions { Port = 0, Data = _data, AdminApiKey = AdminKey, LogFormat = "text" });
        await _app.StartAsync();
        _base = new Uri(_app.Urls.First());
        _admin = Client(AdminKey);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // a temporary folder left behind fails nothing
        }
    }

    private static CancellationTokenSource Deadline() => new(TimeSpan.FromSeconds(15));

    private HttpClient Client(string? key)
    {
        var c = new HttpClient { BaseAddress = _base };
        if (key is not null) c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return c;
    }

    private Uri WsUri(string query = "") => new($"ws://{_base.Authority}/api/v1/ws{query}");

    private async Task<LiveSocket> ConnectAsync(CancellationToken cancellationToken, string query = "", string? key = AdminKey, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        if (key is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {key}");
        configure?.Invoke(socket.Options);
        await socket.ConnectAsync(WsUri(query), cancellationToken);
        var live = new LiveSocket(socket);
        var hello = await live.ReceiveAsync(cancellationToken);
        Assert.Equal(Apis.LiveApi.HelloType, hello.Str("type"));
        return live;
    }

    private static async Task<string> EnqueueAsync(HttpClient client, string queue)
    {
        var job = await client.PostJsonAsync("/api/v1/jobs", new { queue, type = "live.test", payload = new { n = 1 } }).Expect(HttpStatusCode.Created);
        return job.Str("id");
    }

    [Fact]
    public async Task Events_arrive_over_the_websocket_in_the_SSE_envelope()
    {
        using var deadline = Deadline();
        using var live = await ConnectAsync(deadline.Token);
        var jobId = await EnqueueAsync(_admin, "live");

        var e = await live.NextAsync(x => x.Str("type") == "job.enqueued", deadline.Token);
        Assert.True(long.TryParse(e.Str("id"), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0);
        Assert.Equal(Organizations.Default.ToString(), e.Str("organization_id"));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", e.Str("time"));
        var data = e.GetProperty("data");
        Assert.Equal(jobId, data.Str("job_id"));
        Assert.Equal("live", data.Str("queue"));
        Assert.Equal("queued", data.Str("state"));
        Assert.Equal(["data", "id", "organization_id", "time", "type"], e.EnumerateObject().Select(p => p.Name).Order());

        // A queue event follows in order.
        await _admin.PostJsonAsync("/api/v1/queues/live/pause", new { reason = "r" }).Expect(HttpStatusCode.OK);
        var paused = await live.NextAsync(x => x.Str("type") == "queue.paused", deadline.Token);
        Assert.True(long.Parse(paused.Str("id"), CultureInfo.InvariantCulture) > id);
    }

    [Fact]
    public async Task Reconnecting_with_after_gets_only_later_events_then_live_ones()
    {
        using var deadline = Deadline();
        string firstEventId;
        string firstJob;
        using (var live = await ConnectAsync(deadline.Token))
        {
            firstJob = await EnqueueAsync(_admin, "resume");
            firstEventId = (await live.NextAsync(x => x.Str("type") == "job.enqueued", deadline.Token)).Str("id");
            await live.CloseAsync(deadline.Token);
        }
        var b = await EnqueueAsync(_admin, "resume");
        var c = await EnqueueAsync(_admin, "resume");

        using var again = await ConnectAsync(deadline.Token, $"?after={firstEventId}");
        var replayed = new List<JsonElement>();
        while (!replayed.Any(x => x.GetProperty("data").Str("job_id") == c))
        {
            replayed.Add(await again.NextAsync(_ => true, deadline.Token));
        }
        Assert.Equal([b, c], replayed.Select(x => x.GetProperty("data").Str("job_id")));
        Assert.DoesNotContain(replayed, x => x.GetProperty("data").Str("job_id") == firstJob);
        var d = await EnqueueAsync(_admin, "resume");
        Assert.Equal(d, (await again.NextAsync(_ => true, deadline.Token)).GetProperty("data").Str("job_id"));
    }

    [Fact]
    public async Task The_hello_says_when_events_after_the_requested_id_are_gone()
    {
        using var deadline = Deadline();
        var bus = _app.Services.GetRequiredService<Kairos.Core.Events.EventBus>();
        using (var live = await ConnectAsync(deadline.Token, "?after=0"))
        {
            await EnqueueAsync(_admin, "gap");
            await live.NextAsync(x => x.Str("type") == "job.enqueued", deadline.Token);
        }
        // More events than the replay buffer holds (10,000).
        var jobs = Enumerable.Range(0, 10_000).Select(i => new { queue = "gap", type = "bulk" }).ToArray();
        await _admin.PostJsonAsync("/api/v1/jobs/bulk", new { jobs }).Expect(HttpStatusCode.Created);

        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {AdminKey}");
        await socket.ConnectAsync(WsUri("?after=1"), deadline.Token);
        using var resumed = new LiveSocket(socket);
        var hello = await resumed.ReceiveAsync(deadline.Token);
        Assert.Equal(Apis.LiveApi.HelloType, hello.Str("type"));
        Assert.True(hello.GetProperty("data").GetProperty("gap").GetBoolean());
        Assert.Equal(bus.LastId.ToString(CultureInfo.InvariantCulture), hello.GetProperty("data").Str("last_event_id"));
    }

    [Fact]
    public async Task A_console_session_opens_the_stream_from_its_own_origin_only()
    {
        using var deadline = Deadline();
        var cookie = await SetupSessionAsync();
        var own = $"http://{_base.Authority}";

        using var live = await ConnectAsync(deadline.Token, key: null, configure: o =>
        {
            o.SetRequestHeader("Cookie", $"{SessionAuthentication.CookieName}={cookie}");
            o.SetRequestHeader("Origin", own);
        });
        var jobId = await EnqueueAsync(_admin, "console");
        Assert.Equal(jobId, (await live.NextAsync(x => x.Str("type") == "job.enqueued", deadline.Token)).GetProperty("data").Str("job_id"));

        // The same host behind a TLS-terminating proxy (the page is https, the server sees http) is the same site.
        using (var proxied = await ConnectAsync(deadline.Token, key: null, configure: o =>
        {
            o.SetRequestHeader("Cookie", $"{SessionAuthentication.CookieName}={cookie}");
            o.SetRequestHeader("Origin", $"https://{_base.Authority}");
        }))
        {
            await proxied.CloseAsync(deadline.Token);
        }
        // Another site's page cannot open it with the visitor's cookie.
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedAsync(o =>
        {
            o.SetRequestHeader("Cookie", $"{SessionAuthentication.CookieName}={cookie}");
            o.SetRequestHeader("Origin", "https://evil.example");
        }, deadline.Token));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedAsync(o =>
        {
            o.SetRequestHeader("Cookie", $"{SessionAuthentication.CookieName}={cookie}");
            o.SetRequestHeader("Origin", $"http://{_base.Host}.evil.example:{_base.Port}");
        }, deadline.Token));
        // Without credentials, or with a signed-out cookie: 401.
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedAsync(_ => { }, deadline.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedAsync(o => o.SetRequestHeader("Cookie", $"{SessionAuthentication.CookieName}={Tokens.New()}"), deadline.Token));
        // A worker-only key lacks the read permission.
        var workerKey = await CreateKeyAsync("worker");
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedAsync(o => o.SetRequestHeader("Authorization", $"Bearer {workerKey}"), deadline.Token));
    }

    [Fact]
    public async Task Another_organizations_events_never_reach_the_stream()
    {
        using var deadline = Deadline();
        var otherKey = ApiKeySecrets.Generate();
        await _app.Services.GetRequiredService<Kairos.Core.Storage.IKairosStore>().ApiKeys.CreateAsync(new Kairos.Core.Storage.CreateApiKeyParams(
            Guid.NewGuid(), "other", ApiKeySecrets.VisiblePrefix(otherKey), ApiKeySecrets.Hash(otherKey), ApiKeyScopes.Admin, null), CancellationToken.None);
        using var other = Client(otherKey);

        using var theirs = await ConnectAsync(deadline.Token, key: otherKey);
        var ours = await EnqueueAsync(_admin, "mine");
        var mine = await EnqueueAsync(other, "theirs");
        var seen = await theirs.NextAsync(x => x.Str("type") == "job.enqueued", deadline.Token);
        Assert.Equal(mine, seen.GetProperty("data").Str("job_id"));
        Assert.NotEqual(ours, seen.GetProperty("data").Str("job_id"));
    }

    [Fact]
    public async Task A_bad_after_and_a_request_without_upgrade_are_problems()
    {
        var bad = await _admin.GetAsync("/api/v1/ws?after=yesterday").ExpectProblem(HttpStatusCode.BadRequest, "after");
        Assert.Contains("after", bad.Str("detail"), StringComparison.Ordinal);
        var plain = await _admin.GetAsync("/api/v1/ws").ExpectProblem(HttpStatusCode.BadRequest);
        Assert.Contains("WebSocket", plain.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_closes_the_stream_with_going_away_when_it_stops()
    {
        using var deadline = Deadline();
        using var live = await ConnectAsync(deadline.Token);
        var stopping = _app.StopAsync(deadline.Token);
        var closed = await live.ReceiveCloseAsync(deadline.Token);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed);
        await stopping;
    }

    [Fact]
    public async Task Server_sent_events_keep_working_beside_the_websocket()
    {
        using var deadline = Deadline();
        using var live = await ConnectAsync(deadline.Token);
        await using var sse = await SseStream.OpenAsync(_admin, null, deadline.Token);
        var jobId = await EnqueueAsync(_admin, "both");
        var viaSse = await sse.NextAsync(x => x.Type == "job.enqueued", deadline.Token);
        var viaWs = await live.NextAsync(x => x.Str("type") == "job.enqueued", deadline.Token);
        Assert.Equal(jobId, viaSse.JobId);
        Assert.Equal(viaSse.Id, viaWs.Str("id"));
        Assert.Equal(viaSse.Data.ToString(), viaWs.ToString());
    }

    private async Task<HttpStatusCode> RefusedAsync(Action<ClientWebSocketOptions> configure, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure(socket.Options);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WsUri(), cancellationToken));
        return socket.HttpStatusCode;
    }

    private async Task<string> CreateKeyAsync(string scope)
    {
        var created = await _admin.PostJsonAsync("/api/v1/api-keys", new { name = "k " + scope, scopes = new[] { scope } }).Expect(HttpStatusCode.Created);
        return created.Str("key");
    }

    /// <summary>Runs the first-run setup over HTTP and answers the session cookie's value.</summary>
    private async Task<string> SetupSessionAsync()
    {
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _base };
        var token = _app.Services.GetRequiredService<SetupToken>().Issue();
        using var response = await client.PostJsonAsync("/api/v1/setup",
            new { token, email = "olga@example.com", password = "correct horse battery", organization = "Acme", name = "Olga" });
        await response.Expect(HttpStatusCode.Created);
        var header = response.Headers.GetValues("Set-Cookie").First(h => h.StartsWith(SessionAuthentication.CookieName + "=", StringComparison.Ordinal));
        return header.Split(';')[0][(SessionAuthentication.CookieName.Length + 1)..];
    }
}

/// <summary>A connected <see cref="ClientWebSocket"/> read one JSON text message at a time; every read bounded by the caller's token.</summary>
public sealed class LiveSocket(ClientWebSocket socket) : IDisposable
{
    public async Task<JsonElement> ReceiveAsync(CancellationToken cancellationToken)
    {
        var (type, text) = await ReceiveMessageAsync(cancellationToken);
        if (type == WebSocketMessageType.Close) throw new EndOfStreamException($"closed: {socket.CloseStatus} {socket.CloseStatusDescription}");
        Assert.Equal(WebSocketMessageType.Text, type);
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>The next domain event (a message with an id) that matches.</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            var e = await ReceiveAsync(cancellationToken);
            if (e.TryGetProperty("id", out _) && match(e)) return e;
        }
    }

    /// <summary>Reads until the server's close frame; answers its status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var (type, _) = await ReceiveMessageAsync(cancellationToken);
            if (type == WebSocketMessageType.Close) return socket.CloseStatus;
        }
    }

    public Task CloseAsync(CancellationToken cancellationToken) =>
        socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);

    private async Task<(WebSocketMessageType Type, string Text)> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, Encoding.UTF8.GetString(message.ToArray()));
            }
        }
    }

    public void Dispose() => socket.Dispose();
}
