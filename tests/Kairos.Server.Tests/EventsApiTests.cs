using System.Globalization;
using System.Net;
using System.Text.Json;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kairos.Server.Tests;

/// <summary>Server-Sent Events: the envelope, job/queue/worker events, resuming with Last-Event-ID, organizations.</summary>
public sealed class EventsApiTests() : ApiTest(fakeTime: false)
{
    [Fact]
    public async Task A_job_enqueued_event_arrives_after_POST_jobs()
    {
        using var deadline = Deadline();
        await using var stream = await SseStream.OpenAsync(Admin, null, deadline.Token);
        Assert.Equal("text/event-stream", stream.ContentType);

        var job = await EnqueueAsync(new { queue = "events", type = "hello", payload = new { n = 1 } });
        var e = await stream.NextAsync(x => x.Type == "job.enqueued" && x.JobId == job.Str("id"), deadline.Token);

        Assert.True(long.TryParse(e.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0, $"id line '{e.Id}'");
        Assert.Equal(e.Id, e.Data.Str("id"));
        Assert.Equal("job.enqueued", e.Data.Str("type"));
        Assert.Equal(Organizations.Default.ToString(), e.Data.Str("organization_id"));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", e.Data.Str("time"));
        var data = e.Data.GetProperty("data");
        Assert.Equal("events", data.Str("queue"));
        Assert.Equal("hello", data.Str("type"));
        Assert.Equal("queued", data.Str("state"));
    }

    [Fact]
    public async Task Job_queue_and_worker_events_arrive_in_order()
    {
        using var deadline = Deadline();
        await using var stream = await SseStream.OpenAsync(Admin, null, deadline.Token);

        var run = await StartJobAsync("life");
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/heartbeat", new { lease_token = run.Token, progress = new { percent = 10 } }).Expect(HttpStatusCode.OK);
        await Admin.PostJsonAsync($"/api/v1/jobs/{run.Id}/ack", new { lease_token = run.Token }).Expect(HttpStatusCode.OK);
        await Admin.PostJsonAsync("/api/v1/queues/life/pause", new { reason = "r" }).Expect(HttpStatusCode.OK);
        await Admin.PostAsync("/api/v1/queues/life/resume", null).Expect(HttpStatusCode.OK);
        await Admin.DeleteAsync($"/api/v1/workers/{run.WorkerId}").Expect(HttpStatusCode.NoContent);

        var expected = new[] { "job.enqueued", "worker.registered", "job.started", "job.progress", "job.succeeded", "queue.paused", "queue.resumed", "worker.deregistered" };
        var seen = new List<SseEvent>();
        foreach (var type in expected)
        {
            seen.Add(await stream.NextAsync(x => x.Type == type, deadline.Token));
        }
        var ids = seen.Select(x => long.Parse(x.Id, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(run.WorkerId, seen[2].Data.GetProperty("data").Str("worker_id"));
        Assert.Equal("life", seen[5].Data.GetProperty("data").Str("queue"));
    }

    [Fact]
    public async Task Reconnecting_with_Last_Event_ID_gets_only_later_events()
    {
        using var deadline = Deadline();
        string firstId;
        var first = await EnqueueAsyncAndSeeIt(deadline.Token);
        firstId = first.EventId;

        // While nobody listens, more happens.
        var b = await EnqueueAsync("resume");
        var c = await EnqueueAsync("resume");

        await using var stream = await SseStream.OpenAsync(Admin, firstId, deadline.Token);
        var got = new List<SseEvent>();
        while (!got.Any(x => x.JobId == c.Str("id")))
        {
            got.Add(await stream.NextAsync(_ => true, deadline.Token));
        }
        Assert.All(got, x => Assert.True(long.Parse(x.Id, CultureInfo.InvariantCulture) > long.Parse(firstId, CultureInfo.InvariantCulture)));
        Assert.DoesNotContain(got, x => x.JobId == first.JobId);
        Assert.Equal([b.Str("id"), c.Str("id")], got.Where(x => x.Type == "job.enqueued").Select(x => x.JobId));

        // And the stream goes on live after the replay.
        var d = await EnqueueAsync("resume");
        await stream.NextAsync(x => x.JobId == d.Str("id"), deadline.Token);
    }

    [Fact]
    public async Task Last_event_id_as_a_query_parameter_resumes_too()
    {
        using var deadline = Deadline();
        var first = await EnqueueAsyncAndSeeIt(deadline.Token);
        var b = await EnqueueAsync("resume");
        await using var stream = await SseStream.OpenAsync(Admin, null, deadline.Token, $"?last_event_id={first.EventId}");
        var e = await stream.NextAsync(_ => true, deadline.Token);
        Assert.Equal(b.Str("id"), e.JobId);
    }

    [Fact]
    public async Task Events_of_another_organization_are_not_streamed()
    {
        var otherKey = ApiKeySecrets.Generate();
        await Factory.Services.GetRequiredService<IKairosStore>().ApiKeys.CreateAsync(new CreateApiKeyParams(
            Guid.NewGuid(), "other", ApiKeySecrets.VisiblePrefix(otherKey), ApiKeySecrets.Hash(otherKey), ApiKeyScopes.Admin, null), CancellationToken.None);
        var other = Client(otherKey);

        using var deadline = Deadline();
        await using var stream = await SseStream.OpenAsync(Admin, null, deadline.Token);
        var theirs = await other.PostJsonAsync("/api/v1/jobs", new { queue = "q", type = "t" }).Expect(HttpStatusCode.Created);
        var ours = await EnqueueAsync("q");
        var e = await stream.NextAsync(x => x.Type == "job.enqueued", deadline.Token);
        Assert.Equal(ours.Str("id"), e.JobId);
        Assert.NotEqual(theirs.Str("id"), e.JobId);
    }

    private async Task<(string EventId, string JobId)> EnqueueAsyncAndSeeIt(CancellationToken cancellationToken)
    {
        await using var stream = await SseStream.OpenAsync(Admin, null, cancellationToken);
        var job = await EnqueueAsync("resume");
        var e = await stream.NextAsync(x => x.Type == "job.enqueued" && x.JobId == job.Str("id"), cancellationToken);
        return (e.Id, job.Str("id"));
    }
}

/// <summary>One Server-Sent Event: its <c>id:</c> and <c>event:</c> lines and its JSON <c>data:</c>.</summary>
public sealed record SseEvent(string Id, string Type, JsonElement Data)
{
    public string? JobId => Data.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object && d.TryGetProperty("job_id", out var id)
        ? id.GetString()
        : null;
}

/// <summary>Reads an SSE response line by line; every read is bounded by the caller's token.</summary>
public sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public string? ContentType => _response.Content.Headers.ContentType?.MediaType;

    /// <summary>Opens the stream; it is subscribed once the headers are here (the server flushes after subscribing).</summary>
    public static async Task<SseStream> OpenAsync(HttpClient client, string? lastEventId, CancellationToken cancellationToken, string query = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events" + query);
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            Assert.Fail($"GET /api/v1/events answered {(int)response.StatusCode}: {text}");
        }
        Http.AssertRequestId(response);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return new SseStream(response, new StreamReader(body));
    }

    /// <summary>The next event that matches, skipping comments and other events.</summary>
    public async Task<SseEvent> NextAsync(Func<SseEvent, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            var e = await ReadEventAsync(cancellationToken);
            if (match(e)) return e;
        }
    }

    private async Task<SseEvent> ReadEventAsync(CancellationToken cancellationToken)
    {
        string? id = null, type = null, data = null;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException("the event stream ended");
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    Assert.NotNull(id);
                    using var doc = JsonDocument.Parse(data);
                    return new SseEvent(id, type ?? "message", doc.RootElement.Clone());
                }
                id = type = data = null; // a comment block (": connected", ": keep-alive")
                continue;
            }
            if (line.StartsWith(':')) continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": data = data is null ? value : data + "\n" + value; break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
