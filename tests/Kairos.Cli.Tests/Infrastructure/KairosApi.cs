using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kairos.Cli.Tests.Infrastructure;

/// <summary>The few API calls the process tests make, over plain HTTP with snake_case JSON.</summary>
public static class KairosApi
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body, CancellationToken cancellationToken = default) =>
        client.PostAsync(path, JsonContent.Create(body, body.GetType(), options: Json), cancellationToken);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response, CancellationToken cancellationToken = default) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken);

    /// <summary>Enqueues one job; returns its id.</summary>
    public static async Task<Guid> EnqueueAsync(this HttpClient client, string queue, object payload)
    {
        using var response = await client.PostJsonAsync("api/v1/jobs", new { Queue = queue, Type = "test.job", Payload = payload });
        await EnsureStatusAsync(response, HttpStatusCode.Created);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    /// <summary>Registers a worker on the given queues; returns its id.</summary>
    public static async Task<Guid> RegisterWorkerAsync(this HttpClient client, string name, params string[] queues)
    {
        using var response = await client.PostJsonAsync("api/v1/workers",
            new { Name = name, Host = Environment.MachineName, Pid = Environment.ProcessId, Queues = queues, Capacity = 1, Version = "test" });
        await EnsureStatusAsync(response, HttpStatusCode.Created);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    /// <summary>The worker as the server has it (state, last heartbeat).</summary>
    public static async Task<JsonElement> GetWorkerAsync(this HttpClient client, Guid workerId)
    {
        using var response = await client.GetAsync($"api/v1/workers/{workerId}");
        await EnsureStatusAsync(response, HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    /// <summary>Starts a long-poll fetch; the task completes with the response.</summary>
    public static Task<HttpResponseMessage> FetchAsync(this HttpClient client, Guid workerId, string queue, int waitMs) =>
        client.PostJsonAsync("api/v1/fetch", new { WorkerId = workerId, Queues = new[] { queue }, Max = 1, WaitMs = waitMs, LeaseMs = 60_000 });

    /// <summary>
    /// Waits until a fetch of the worker has reached the store: every fetch stamps the worker's
    /// <c>last_heartbeat_at</c>, so a value later than <paramref name="before"/> means the fetch is in the server.
    /// Fails if the fetch completes in the meantime (it had nothing to return, so it must be waiting).
    /// </summary>
    public static async Task<DateTimeOffset> WaitUntilFetchIsWaitingAsync(
        this HttpClient client, Guid workerId, DateTimeOffset before, Task<HttpResponseMessage> fetch, TimeSpan timeout)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var seen = (await client.GetWorkerAsync(workerId)).GetProperty("last_heartbeat_at").GetDateTimeOffset();
            if (fetch.IsCompleted)
            {
                var status = fetch.IsCompletedSuccessfully ? ((int)fetch.Result.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : "an error";
                throw new InvalidOperationException($"The long-poll fetch ended with {status} before anything was enqueued.");
            }
            if (seen > before) return seen;
            if (started.Elapsed > timeout) throw new TimeoutException($"The fetch did not reach the server within {timeout}.");
            await Task.Delay(10);
        }
    }

    public static async Task EnsureStatusAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new Xunit.Sdk.XunitException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}, expected {(int)expected}: {body}");
        }
    }

    /// <summary>Every job id in the store, read page by page (newest first, 500 a page).</summary>
    public static async Task<HashSet<Guid>> ListAllJobIdsAsync(this HttpClient client, string queue)
    {
        var ids = new HashSet<Guid>();
        string? cursor = null;
        do
        {
            var path = $"api/v1/jobs?queue={Uri.EscapeDataString(queue)}&limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await client.GetAsync(path);
            await EnsureStatusAsync(response, HttpStatusCode.OK);
            var page = await response.ReadJsonAsync();
            foreach (var item in page.GetProperty("items").EnumerateArray()) ids.Add(item.GetProperty("id").GetGuid());
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.String ? page.GetProperty("next_cursor").GetString() : null;
        }
        while (cursor is not null);
        return ids;
    }
}
