using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Kairos.Client;

/// <summary>
/// The Kairos API over HTTP: enqueue (typed, bulk), jobs, queues, workers, stats, live events and the worker protocol.
/// Thread-safe; one instance per server is enough. Calls that are safe to repeat (reads, PUTs, pause/resume, heartbeats,
/// enqueues with a unique key) are retried on transient failures; every failure surfaces as a <see cref="KairosException"/>.
/// </summary>
public sealed partial class KairosClient : IDisposable
{
    private const int MaxBulk = 10_000;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    /// <summary>A client on its own <see cref="HttpClient"/>.</summary>
    public KairosClient(Uri baseAddress, string? apiKey)
        : this(new HttpClient(), new KairosClientOptions { BaseAddress = baseAddress, ApiKey = apiKey }, ownsHttp: true)
    {
    }

    /// <summary>A client on the given <see cref="HttpClient"/> (e.g. one from <see cref="IHttpClientFactory"/>).</summary>
    public KairosClient(HttpClient http, KairosClientOptions options) : this(http, options, ownsHttp: false)
    {
    }

    /// <summary>The typed-client constructor used by <c>AddKairosClient</c>.</summary>
    [ActivatorUtilitiesConstructor]
    public KairosClient(HttpClient http, IOptions<KairosClientOptions> options) : this(http, options.Value, ownsHttp: false)
    {
    }

    private KairosClient(HttpClient http, KairosClientOptions options, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _ownsHttp = ownsHttp;
        Options = options;
        var baseAddress = options.BaseAddress.ToString();
        BaseAddress = new Uri(baseAddress.EndsWith('/') ? baseAddress : baseAddress + "/");
        _retry = options.MaxRetries <= 0
            ? ResiliencePipeline<HttpResponseMessage>.Empty
            : new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: HttpRequestException } => true,
                    { Exception: OperationCanceledException } => !args.Context.CancellationToken.IsCancellationRequested,
                    { Result: { } r } => KairosException.IsTransientStatus(r.StatusCode),
                    _ => false,
                }),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.Headers.RetryAfter?.Delta is { } d && d < TimeSpan.FromSeconds(30)
                    ? (TimeSpan?)d
                    : null),
            }).Build();
    }

    /// <summary>The server, ending in a slash.</summary>
    public Uri BaseAddress { get; }

    public KairosClientOptions Options { get; }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    // ---- jobs ----

    /// <summary>Enqueues a job of <paramref name="type"/>; the payload is serialized with <see cref="KairosClientOptions.PayloadSerializerOptions"/>.</summary>
    public Task<Job> EnqueueAsync<T>(string type, T payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default) =>
        EnqueueAsync(JobRequest.Create(type, payload, options), cancellationToken);

    /// <summary>Enqueues a job whose payload is serialized with source-generated metadata.</summary>
    public Task<Job> EnqueueAsync<T>(string type, T payload, JsonTypeInfo<T> typeInfo, EnqueueOptions? options = null, CancellationToken cancellationToken = default) =>
        EnqueueAsync(JobRequest.Create(type, payload, typeInfo, options), cancellationToken);

    /// <summary>Enqueues one job. With a unique key the call is safe to repeat, and is retried on transient failures.</summary>
    public Task<Job> EnqueueAsync(JobRequest job, CancellationToken cancellationToken = default)
    {
        var body = ToBody(job);
        return SendAsync(HttpMethod.Post, "api/v1/jobs", Json(body, KairosJson.Default.CreateJobBody), KairosJson.Default.Job,
            idempotent: body.UniqueKey is not null, cancellationToken);
    }

    /// <summary>Enqueues many jobs in as few requests as possible (10,000 a request); returns their ids in order.</summary>
    public async Task<IReadOnlyList<Guid>> EnqueueManyAsync(IEnumerable<JobRequest> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var ids = new List<Guid>();
        foreach (var chunk in jobs.Chunk(MaxBulk))
        {
            var body = new BulkCreateBody { Jobs = chunk.Select(ToBody).ToList() };
            var idempotent = body.Jobs.All(j => j.UniqueKey is not null);
            var response = await SendAsync(HttpMethod.Post, "api/v1/jobs/bulk", Json(body, KairosJson.Default.BulkCreateBody),
                KairosJson.Default.BulkCreateResponse, idempotent, cancellationToken);
            ids.AddRange(response.Ids);
        }
        return ids;
    }

    /// <summary>A job with its attempts and logs.</summary>
    public Task<Job> GetJobAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/jobs/{id}", null, KairosJson.Default.Job, idempotent: true, cancellationToken);

    /// <summary>
    /// A job's log lines after line <paramref name="after"/> (an <see cref="JobLogEntry.Id"/> seen before; 0 or null:
    /// from the start), oldest first, at most <paramref name="limit"/> (1 to 500, server default 50).
    /// </summary>
    public Task<JobLogPage> GetJobLogsAsync(Guid id, long? after = null, int? limit = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/jobs/{id}/logs" + new Query().Add("after", after?.ToString(CultureInfo.InvariantCulture))
            .Add("limit", limit?.ToString(CultureInfo.InvariantCulture)), null, KairosJson.Default.JobLogPage, idempotent: true, cancellationToken);

    /// <summary>One page of jobs, in the order of <see cref="JobQuery.Sort"/> (newest first by default).</summary>
    public Task<Page<Job>> ListJobsAsync(JobQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new JobQuery();
        var q = new Query()
            .Add("state", query.State).Add("queue", query.Queue).Add("type", query.Type).Add("tag", query.Tag)
            .Add("created_after", query.CreatedAfter?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))
            .Add("created_before", query.CreatedBefore?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))
            .Add("q", query.Search).Add("limit", query.Limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", query.Cursor)
            .Add("sort", query.Sort);
        return SendAsync(HttpMethod.Get, "api/v1/jobs" + q, null, KairosJson.Default.PageJob, idempotent: true, cancellationToken);
    }

    /// <summary>Every job the query matches, page by page.</summary>
    public async IAsyncEnumerable<Job> ListAllJobsAsync(JobQuery? query = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        query ??= new JobQuery();
        var page = new JobQuery
        {
            State = query.State, Queue = query.Queue, Type = query.Type, Tag = query.Tag, CreatedAfter = query.CreatedAfter,
            CreatedBefore = query.CreatedBefore, Search = query.Search, Limit = query.Limit ?? 500, Cursor = query.Cursor, Sort = query.Sort,
        };
        do
        {
            var result = await ListJobsAsync(page, cancellationToken);
            foreach (var job in result.Items) yield return job;
            page.Cursor = result.NextCursor;
        }
        while (page.Cursor is not null);
    }

    /// <summary>Queues a failed or cancelled job again.</summary>
    public Task<Job> RetryJobAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{id}/retry", null, KairosJson.Default.Job, idempotent: false, cancellationToken);

    /// <summary>Cancels a job; a running one is asked to stop through its worker.</summary>
    public Task<Job> CancelJobAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{id}/cancel", null, KairosJson.Default.Job, idempotent: false, cancellationToken);

    /// <summary>Deletes a job that is not running.</summary>
    public Task DeleteJobAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/jobs/{id}", null, idempotent: false, cancellationToken);

    // ---- queues ----

    public Task<Page<Queue>> ListQueuesAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/queues" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosJson.Default.PageQueue, idempotent: true, cancellationToken);

    public Task<Queue> GetQueueAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/queues/{Uri.EscapeDataString(name)}", null, KairosJson.Default.Queue, idempotent: true, cancellationToken);

    /// <summary>Creates the queue or replaces its settings (all of them: unset ones go back to the defaults).</summary>
    public Task<Queue> ConfigureQueueAsync(string name, QueueSettings settings, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"api/v1/queues/{Uri.EscapeDataString(name)}", Json(settings, KairosJson.Default.QueueSettings),
            KairosJson.Default.Queue, idempotent: true, cancellationToken);

    /// <summary>Creates the queue or changes the settings named in <paramref name="changes"/>; the others stay as they are.</summary>
    public Task<Queue> UpdateQueueAsync(string name, QueueChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var body = changes.ToString();
        return SendAsync(HttpMethod.Patch, $"api/v1/queues/{Uri.EscapeDataString(name)}",
            () => new StringContent(body, Encoding.UTF8, "application/merge-patch+json"), KairosJson.Default.Queue, idempotent: true, cancellationToken);
    }

    public Task<Queue> PauseQueueAsync(string name, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/queues/{Uri.EscapeDataString(name)}/pause", Json(new PauseBody { Reason = reason }, KairosJson.Default.PauseBody),
            KairosJson.Default.Queue, idempotent: true, cancellationToken);

    public Task<Queue> ResumeQueueAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/queues/{Uri.EscapeDataString(name)}/resume", null, KairosJson.Default.Queue, idempotent: true, cancellationToken);

    /// <summary>Removes the queue's waiting jobs; returns how many.</summary>
    public async Task<long> PurgeQueueAsync(string name, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, $"api/v1/queues/{Uri.EscapeDataString(name)}/purge", null, KairosJson.Default.PurgeResult,
            idempotent: true, cancellationToken)).Purged;

    /// <summary>Deletes a queue that holds no unfinished job.</summary>
    public Task DeleteQueueAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/queues/{Uri.EscapeDataString(name)}", null, idempotent: false, cancellationToken);

    // ---- workers ----

    public Task<Page<Worker>> ListWorkersAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/workers" + new Query().Add("limit", limit?.ToString(CultureInfo.InvariantCulture)).Add("cursor", cursor),
            null, KairosJson.Default.PageWorker, idempotent: true, cancellationToken);

    /// <summary>A worker with the ids of its running jobs.</summary>
    public Task<Worker> GetWorkerAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/workers/{id}", null, KairosJson.Default.Worker, idempotent: true, cancellationToken);

    /// <summary>Tells the worker to stop fetching; it finishes what it runs.</summary>
    public Task<Worker> QuietWorkerAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/workers/{id}/quiet", null, KairosJson.Default.Worker, idempotent: true, cancellationToken);

    /// <summary>Tells the worker to shut down.</summary>
    public Task<Worker> StopWorkerAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/workers/{id}/stop", null, KairosJson.Default.Worker, idempotent: true, cancellationToken);

    /// <summary>Deregisters a worker; its running jobs go back to their queues.</summary>
    public Task RemoveWorkerAsync(Guid id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/workers/{id}", null, idempotent: false, cancellationToken);

    // ---- system ----

    /// <summary>Job counts and the server's version, store and uptime.</summary>
    public Task<Stats> GetStatsAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/stats", null, KairosJson.Default.Stats, idempotent: true, cancellationToken);

    /// <summary>
    /// The organization's live events (Server-Sent Events). With <paramref name="reconnect"/> a dropped stream is opened
    /// again with <c>Last-Event-ID</c>, so nothing the server still buffers is missed. Ends when the token is cancelled.
    /// </summary>
    public async IAsyncEnumerable<KairosEvent> StreamEventsAsync(long? lastEventId = null, bool reconnect = true,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = lastEventId;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpResponseMessage response;
            try
            {
                var resumeAt = last;
                response = await SendRawAsync(HttpMethod.Get, "api/v1/events", null, idempotent: false, HttpCompletionOption.ResponseHeadersRead,
                    cancellationToken, r =>
                    {
                        r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                        if (resumeAt is { } id) r.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
                    });
            }
            catch (KairosException ex) when (reconnect && ex.IsTransient && !cancellationToken.IsCancellationRequested)
            {
                failures++;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * Math.Pow(2, Math.Min(failures, 5)))), cancellationToken);
                continue;
            }
            using (response)
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
                var data = new StringBuilder();
                failures = 0;
                while (true)
                {
                    var line = await ReadLineAsync(reader, cancellationToken);
                    if (line is null) break;
                    if (line.Length == 0)
                    {
                        if (data.Length > 0 && ParseEvent(data.ToString()) is { } e)
                        {
                            if (e.Id > 0) last = e.Id;
                            yield return e;
                        }
                        data.Clear();
                        continue;
                    }
                    if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        if (data.Length > 0) data.Append('\n');
                        data.Append(line.AsSpan(5).TrimStart(' '));
                    }
                }
            }
            if (!reconnect) yield break;
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    private static async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadLineAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            return null; // the stream dropped: the caller reconnects
        }
    }

    private static KairosEvent? ParseEvent(string json)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize(json, KairosJson.Default.EventEnvelope);
            if (envelope is null) return null;
            return new KairosEvent
            {
                Id = long.TryParse(envelope.Id, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : 0,
                Type = envelope.Type,
                Time = envelope.Time,
                Data = envelope.Data,
                Json = json,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---- plumbing ----

    private CreateJobBody ToBody(JobRequest job)
    {
        var o = job.Options;
        return new CreateJobBody
        {
            Queue = o?.Queue ?? Options.DefaultQueue,
            Type = job.Type,
            Payload = job.Payload(Options.PayloadSerializerOptions),
            Priority = o?.Priority,
            RunAt = o?.RunAt,
            DelayMs = o?.Delay is { } d ? (long)d.TotalMilliseconds : null,
            MaxAttempts = o?.MaxAttempts,
            TimeoutMs = o?.Timeout is { } t ? (int)Math.Ceiling(t.TotalMilliseconds) : null,
            UniqueKey = o?.UniqueKey,
            Tags = o?.Tags,
        };
    }

    private static Func<HttpContent> Json<T>(T body, JsonTypeInfo<T> info) => () => JsonContent.Create(body, info);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, Func<HttpContent>? body, JsonTypeInfo<T> result, bool idempotent,
        CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, body, idempotent, HttpCompletionOption.ResponseContentRead, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync(result, cancellationToken)
                ?? throw new KairosException((HttpStatusCode)(int)response.StatusCode, "Empty answer", $"{method} {path} answered no body", null, null, null);
        }
        catch (JsonException ex)
        {
            throw new KairosException(response.StatusCode, "Unreadable answer", $"{method} {path} answered JSON this client cannot read: {ex.Message}",
                null, null, null, ex);
        }
    }

    private async Task SendAsync(HttpMethod method, string path, Func<HttpContent>? body, bool idempotent, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, body, idempotent, HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    internal async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, Func<HttpContent>? body, bool idempotent,
        HttpCompletionOption completion, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
    {
        HttpResponseMessage response;
        try
        {
            var pipeline = idempotent ? _retry : ResiliencePipeline<HttpResponseMessage>.Empty;
            response = await pipeline.ExecuteAsync(async ct =>
            {
                var request = new HttpRequestMessage(method, new Uri(BaseAddress, path)) { Content = body?.Invoke() };
                if (Options.ApiKey is { Length: > 0 } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                configure?.Invoke(request);
                return await _http.SendAsync(request, completion, ct);
            }, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new KairosException(null, "Unreachable", $"cannot reach {BaseAddress}: {ex.Message}", null, null, null, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KairosException(null, "Timed out", $"{method} {path}: no answer from {BaseAddress} within {_http.Timeout.TotalSeconds:0} s",
                null, null, null, ex);
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            throw await ReadProblemAsync(response, cancellationToken);
        }
    }

    private static async Task<KairosException> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            text = "";
        }
        var requestId = response.Headers.TryGetValues("X-Request-Id", out var ids) ? ids.FirstOrDefault() : null;
        ProblemBody? problem = null;
        if (text.StartsWith('{'))
        {
            try
            {
                problem = JsonSerializer.Deserialize(text, KairosJson.Default.ProblemBody);
            }
            catch (JsonException)
            {
                // not a problem document
            }
        }
        var title = problem?.Title ?? response.ReasonPhrase ?? "Error";
        var detail = problem?.Detail ?? (problem?.Title is not null ? null : text.Length is > 0 and < 500 ? text.Trim() : null);
        return new KairosException(response.StatusCode, title, detail, problem?.Type, problem?.RequestId ?? requestId, problem?.Errors);
    }

    /// <summary>A query string of the values that are set.</summary>
    private sealed class Query
    {
        private readonly StringBuilder _text = new();

        public Query Add(string name, string? value)
        {
            if (value is null) return this;
            _text.Append(_text.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            return this;
        }

        public override string ToString() => _text.ToString();
    }
}
