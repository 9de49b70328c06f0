using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Kairos.Server.Tests;

/// <summary>
/// The Kairos server in memory on its own real SQLite file in a fresh temporary folder, deleted on dispose. The
/// bootstrap admin key is <see cref="AdminKey"/>. With <c>fakeTime</c>, time stands still until a test advances
/// <see cref="Time"/>. With <c>logs</c>, every line the server logs, at every level, is captured there. Requests come
/// from <see cref="ClientIp"/> (the in-memory server gives them no client address of their own).
/// </summary>
public sealed class KairosFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "kx_test_admin_6f1c2a9e0b3d4c5f8a7e";
    public const string ClientIp = "192.0.2.10";

    public KairosFactory(bool fakeTime = false, LogCapture? logs = null, Func<ServerOptions, ServerOptions>? options = null)
    {
        Time = fakeTime ? new FakeTimeProvider(new DateTimeOffset(2031, 3, 14, 9, 26, 53, 589, TimeSpan.Zero)) : null;
        Logs = logs;
        _options = options ?? (o => o);
    }

    private readonly Func<ServerOptions, ServerOptions> _options;

    /// <summary>Every line the server logged, when the factory was made with a capture.</summary>
    public LogCapture? Logs { get; }

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "kairos-server-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The fake clock, when the factory was made with one.</summary>
    public FakeTimeProvider? Time { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        Directory.CreateDirectory(DataDir);
        builder.ConfigureServices(s =>
        {
            // Later registrations win.
            s.AddSingleton(_options(new ServerOptions { Data = DataDir, AdminApiKey = AdminKey }));
            if (Time is not null) s.AddSingleton<TimeProvider>(Time);
            s.AddSingleton<IStartupFilter, ClientAddress>();
        });
        if (Logs is { } logs)
        {
            builder.ConfigureLogging(l => l.AddProvider(logs).AddFilter<LogCapture>(null, LogLevel.Trace));
        }
    }

    /// <summary>Gives each request the client address a real connection would have.</summary>
    private sealed class ClientAddress : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, nextMiddleware) =>
            {
                http.Connection.RemoteIpAddress ??= IPAddress.Parse(ClientIp);
                return nextMiddleware(http);
            });
            next(app);
        };
    }

    /// <summary>A client that sends this API key (none when null).</summary>
    public HttpClient Client(string? apiKey)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            DeleteData();
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) DeleteData();
    }

    private void DeleteData()
    {
        try
        {
            if (Directory.Exists(DataDir)) Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp folder left behind does not fail a test
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// The base of every API test class: xUnit makes a new instance per test, so every test gets its own server, data
/// folder and admin client.
/// </summary>
public abstract class ApiTest : IAsyncLifetime
{
    private readonly List<HttpClient> _clients = [];

    protected ApiTest(bool fakeTime = false, LogCapture? logs = null, Func<ServerOptions, ServerOptions>? options = null)
    {
        Factory = new KairosFactory(fakeTime, logs, options);
    }

    protected KairosFactory Factory { get; }

    /// <summary>A client with the bootstrap admin key.</summary>
    protected HttpClient Admin { get; private set; } = null!;

    protected FakeTimeProvider Time => Factory.Time ?? throw new InvalidOperationException("this test class runs on real time");

    /// <summary>
    /// Every byte of the server's SQLite database (the file and its write-ahead log) as Latin-1 text: what a thief of the
    /// data folder reads, to prove a secret is not stored in clear.
    /// </summary>
    protected string DatabaseText()
    {
        var text = new System.Text.StringBuilder();
        foreach (var file in new[] { "kairos.db", "kairos.db-wal" }.Select(f => Path.Combine(Factory.DataDir, f)).Where(File.Exists))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
            text.Append(reader.ReadToEnd());
        }
        return text.ToString();
    }

    /// <summary>Bounds every wait of a test: a hang fails the test instead of the run.</summary>
    protected static CancellationTokenSource Deadline(int seconds = 15) => new(TimeSpan.FromSeconds(seconds));

    /// <summary>The next event of <paramref name="type"/> on the subscription (the others are passed over).</summary>
    protected static async Task<Kairos.Core.Events.DomainEvent> NextEventAsync(Kairos.Core.Events.EventBus.Subscription sub, string type, CancellationToken cancellationToken)
    {
        while (true)
        {
            var e = await sub.Reader.ReadAsync(cancellationToken);
            if (e.Type == type) return e;
        }
    }

    public Task InitializeAsync()
    {
        Admin = Client(KairosFactory.AdminKey);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) c.Dispose();
        await Factory.DisposeAsync();
    }

    protected HttpClient Client(string? apiKey)
    {
        var c = Factory.Client(apiKey);
        _clients.Add(c);
        return c;
    }

    /// <summary>Creates an API key with these scopes through the API and answers the key itself.</summary>
    protected async Task<string> CreateKeyAsync(params string[] scopes) => (await CreateKeyWithIdAsync(scopes)).Key;

    protected async Task<(string Id, string Key)> CreateKeyWithIdAsync(params string[] scopes)
    {
        var created = await Admin.PostJsonAsync("/api/v1/api-keys", new { name = "key " + string.Join('+', scopes), scopes }).Expect(HttpStatusCode.Created);
        return (created.Str("id"), created.Str("key"));
    }

    protected Task<JsonElement> EnqueueAsync(string queue = "default", string type = "send_email", object? payload = null) =>
        EnqueueAsync(new { queue, type, payload = payload ?? new { to = "ada@example.com" } });

    /// <summary>POST /jobs with the admin key; expects 201 and answers the job.</summary>
    protected Task<JsonElement> EnqueueAsync(object body) => Admin.PostJsonAsync("/api/v1/jobs", body).Expect(HttpStatusCode.Created);

    protected Task<JsonElement> GetJobAsync(string id) => Admin.GetAsync($"/api/v1/jobs/{id}").Expect(HttpStatusCode.OK);

    protected async Task<string> RegisterWorkerAsync(HttpClient? client = null, params string[] queues)
    {
        var body = new { name = "worker-1", host = "host-a", pid = 4242, queues, capacity = 4, labels = new Dictionary<string, string> { ["zone"] = "eu" }, version = "1.2.3" };
        var answer = await (client ?? Admin).PostJsonAsync("/api/v1/workers", body).Expect(HttpStatusCode.Created);
        return answer.Str("id");
    }

    /// <summary>POST /fetch without waiting; answers the jobs leased.</summary>
    protected async Task<JsonElement[]> FetchAsync(string workerId, string queue = "default", int max = 10, int leaseMs = 30_000, HttpClient? client = null)
    {
        var answer = await (client ?? Admin).PostJsonAsync("/api/v1/fetch", new { worker_id = workerId, queues = new[] { queue }, max, wait_ms = 0, lease_ms = leaseMs })
            .Expect(HttpStatusCode.OK);
        return answer.GetProperty("jobs").EnumerateArray().ToArray();
    }

    /// <summary>Enqueues one job, registers a worker and leases the job to it.</summary>
    protected async Task<Leased> StartJobAsync(string queue = "default", int leaseMs = 30_000, object? extra = null)
    {
        var job = extra is null ? await EnqueueAsync(queue) : await EnqueueAsync(extra);
        var worker = await RegisterWorkerAsync(null, queue);
        var fetched = await FetchAsync(worker, queue, 1, leaseMs);
        var leased = Assert.Single(fetched);
        Assert.Equal(job.Str("id"), leased.Str("id"));
        return new Leased(leased.Str("id"), leased.Str("lease_token"), worker, leased);
    }

    /// <summary>A job leased to a worker.</summary>
    protected sealed record Leased(string Id, string Token, string WorkerId, JsonElement Fetched);

    /// <summary>A client whose key belongs to another, new organization.</summary>
    protected async Task<HttpClient> OtherOrganizationAsync(Kairos.Core.Auth.ApiKeyScopes scopes = Kairos.Core.Auth.ApiKeyScopes.Admin)
    {
        var key = Kairos.Core.Auth.ApiKeySecrets.Generate();
        await Factory.Services.GetRequiredService<Kairos.Core.Storage.IKairosStore>().ApiKeys.CreateAsync(new Kairos.Core.Storage.CreateApiKeyParams(
            Guid.NewGuid(), "other", Kairos.Core.Auth.ApiKeySecrets.VisiblePrefix(key), Kairos.Core.Auth.ApiKeySecrets.Hash(key), scopes, null),
            CancellationToken.None);
        return Client(key);
    }

    /// <summary>POST /jobs/heartbeat; answers the per-lease results.</summary>
    protected static async Task<JsonElement[]> HeartbeatManyAsync(HttpClient client, object leases, int? extendMs = null)
    {
        var answer = await client.PostJsonAsync("/api/v1/jobs/heartbeat", new { leases, extend_ms = extendMs }).Expect(HttpStatusCode.OK);
        return answer.GetProperty("results").EnumerateArray().ToArray();
    }
}

/// <summary>HTTP and JSON helpers.</summary>
public static class Http
{
    /// <summary>Request bodies are written as given (the anonymous objects of the tests already use snake_case names).</summary>
    public static readonly JsonSerializerOptions BodyOptions = new() { PropertyNamingPolicy = null };

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object? body) =>
        client.PostAsync(url, JsonContent.Create(body, options: BodyOptions));

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, object? body) =>
        client.PutAsync(url, JsonContent.Create(body, options: BodyOptions));

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string text, string contentType = "application/json") =>
        client.PostAsync(url, new StringContent(text, Encoding.UTF8, contentType));

    /// <summary>Asserts the status (showing the body when it differs) and the X-Request-Id header; answers the JSON body.</summary>
    public static async Task<JsonElement> Expect(this Task<HttpResponseMessage> request, HttpStatusCode status)
    {
        using var response = await request;
        return await response.Expect(status);
    }

    public static Task<JsonElement> Expect(this HttpResponseMessage response, HttpStatusCode status) => response.Expect(status, requireRequestId: true);

    private static async Task<JsonElement> Expect(this HttpResponseMessage response, HttpStatusCode status, bool requireRequestId)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != status)
        {
            Assert.Fail($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)status} {status}, got {(int)response.StatusCode} {response.StatusCode}: {text}");
        }
        if (requireRequestId) AssertRequestId(response);
        if (text.Length == 0) return default;
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public static void AssertRequestId(HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("X-Request-Id", out var values), $"no X-Request-Id on {response.RequestMessage?.RequestUri}");
        Assert.False(string.IsNullOrWhiteSpace(values!.Single()));
    }

    /// <summary>
    /// Asserts an RFC 7807 answer: the status, <c>application/problem+json</c>, <c>status</c>, <c>title</c> and a
    /// <c>request_id</c> equal to the X-Request-Id header; and that <c>errors</c> names each of <paramref name="fields"/>.
    /// </summary>
    public static async Task<JsonElement> ExpectProblem(this Task<HttpResponseMessage> request, HttpStatusCode status, params string[] fields)
    {
        using var response = await request;
        return await response.ExpectProblem(status, fields);
    }

    public static Task<JsonElement> ExpectProblem(this HttpResponseMessage response, HttpStatusCode status, params string[] fields) =>
        response.ExpectProblem(status, requireRequestId: true, fields);

    /// <summary>The problem answer to a body that could not be bound (not JSON, a field of the wrong type).</summary>
    public static async Task<JsonElement> ExpectBindingProblem(this Task<HttpResponseMessage> request, HttpStatusCode status, params string[] fields)
    {
        using var response = await request;
        return await response.ExpectProblem(status, requireRequestId: true, fields);
    }

    private static async Task<JsonElement> ExpectProblem(this HttpResponseMessage response, HttpStatusCode status, bool requireRequestId, string[] fields)
    {
        var problem = await response.Expect(status, requireRequestId);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.Str("title")));
        Assert.False(string.IsNullOrWhiteSpace(problem.Str("request_id")));
        if (requireRequestId) Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem.Str("request_id"));
        foreach (var field in fields)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _),
                $"the problem does not name '{field}': {problem}");
        }
        return problem;
    }

    public static string Str(this JsonElement e, string name) =>
        e.GetProperty(name).GetString() ?? throw new InvalidOperationException($"'{name}' is null in {e}");

    public static bool IsNull(this JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Null;

    public static string[] Ids(this JsonElement list) =>
        list.GetProperty("items").EnumerateArray().Select(j => j.Str("id")).ToArray();
}
