using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record RateLimitDto(int? Limit, int? PeriodMs);
public sealed record UpsertQueueRequest(int? ConcurrencyLimit, RateLimitDto? RateLimit, int? DefaultMaxAttempts, int? DefaultTimeoutMs);
public sealed record PauseQueueRequest(string? Reason);
public sealed record PurgeQueueResponse(string Queue, long Purged);

public sealed record QueueDto(
    string Name,
    bool Paused,
    string? PauseReason,
    int? ConcurrencyLimit,
    RateLimitDto? RateLimit,
    int? DefaultMaxAttempts,
    int? DefaultTimeoutMs,
    IReadOnlyDictionary<string, long> Counts,
    long? OldestQueuedAgeMs,
    long ThroughputLastMinute,
    DateTimeOffset CreatedAt)
{
    public static QueueDto From(QueueInfo q) => new(
        q.Name, q.Paused, q.PauseReason, q.Settings.ConcurrencyLimit,
        q.Settings.RateLimit is { } r ? new RateLimitDto(r.Limit, r.PeriodMs) : null,
        q.Settings.DefaultMaxAttempts, q.Settings.DefaultTimeoutMs,
        q.Counts.ToDictionary(c => c.Key.ToWire(), c => c.Value),
        q.OldestQueuedAge is { } age ? (long)age.TotalMilliseconds : null,
        q.FinishedLastMinute, q.CreatedAt);
}

/// <summary>Queues: create or configure, list with counts, pause, resume, purge, delete.</summary>
public static class QueuesApi
{
    public static RouteGroupBuilder MapQueuesApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/queues").WithTags("Queues");
        g.MapGet("/", List).WithName("ListQueues").RequireAuthorization(Policies.Read);
        g.MapGet("/{name}", Get).WithName("GetQueue").RequireAuthorization(Policies.Read);
        g.MapPut("/{name}", Upsert).WithName("UpsertQueue").RequireAuthorization(Policies.QueuesManage);
        g.MapPost("/{name}/pause", Pause).WithName("PauseQueue").RequireAuthorization(Policies.QueuesManage);
        g.MapPost("/{name}/resume", Resume).WithName("ResumeQueue").RequireAuthorization(Policies.QueuesManage);
        g.MapPost("/{name}/purge", Purge).WithName("PurgeQueue").RequireAuthorization(Policies.QueuesManage);
        g.MapDelete("/{name}", Delete).WithName("DeleteQueue").RequireAuthorization(Policies.QueuesManage);
        return api;
    }

    public static async Task<Results<Ok<ListResponse<QueueDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var (n, after) = Paging.Read(limit, cursor, v);
        if (!v.Ok) return Problems.Invalid(v);
        var queues = await store.Queues.ListAsync(new ListQueuesParams(http.User.OrganizationId()), http.RequestAborted);
        var (items, next) = Paging.Page(queues, q => q.Name, descending: false, n, after);
        return TypedResults.Ok(new ListResponse<QueueDto>(items.Select(QueueDto.From).ToList(), next));
    }

    public static async Task<Results<Ok<QueueDto>, ProblemHttpResult>> Get(string name, HttpContext http, IKairosStore store)
    {
        var q = await store.Queues.GetAsync(new QueueParams(http.User.OrganizationId(), name), http.RequestAborted);
        return q is null ? Problems.NotFound($"No queue '{name}'.") : TypedResults.Ok(QueueDto.From(q));
    }

    public static async Task<Results<Ok<QueueDto>, ValidationProblem>> Upsert(string name, UpsertQueueRequest request, HttpContext http, IKairosStore store)
    {
        var v = new Validation();
        v.Name("name", name);
        v.Range("concurrency_limit", request.ConcurrencyLimit, 1, 1_000_000);
        v.Range("default_max_attempts", request.DefaultMaxAttempts, 1, 1000);
        v.Range("default_timeout_ms", request.DefaultTimeoutMs, 1, CreateJobRequest.MaxTimeoutMs);
        if (request.RateLimit is { } r)
        {
            v.Required("rate_limit.limit", r.Limit);
            v.Required("rate_limit.period_ms", r.PeriodMs);
            v.Range("rate_limit.limit", r.Limit, 1, 1_000_000);
            v.Range("rate_limit.period_ms", r.PeriodMs, 1, 24 * 3600 * 1000);
        }
        if (!v.Ok) return Problems.Invalid(v);
        var q = await store.Queues.UpsertAsync(new UpsertQueueParams(http.User.OrganizationId(), name, new QueueSettings
        {
            ConcurrencyLimit = request.ConcurrencyLimit,
            RateLimit = request.RateLimit is { Limit: { } l, PeriodMs: { } p } ? new RateLimit(l, p) : null,
            DefaultMaxAttempts = request.DefaultMaxAttempts,
            DefaultTimeoutMs = request.DefaultTimeoutMs,
        }), http.RequestAborted);
        return TypedResults.Ok(QueueDto.From(q));
    }

    public static Task<Results<Ok<QueueDto>, ProblemHttpResult>> Pause(string name, PauseQueueRequest? request, HttpContext http, IKairosStore store, EventBus events) =>
        SetPaused(name, true, request?.Reason, http, store, events);

    public static Task<Results<Ok<QueueDto>, ProblemHttpResult>> Resume(string name, HttpContext http, IKairosStore store, EventBus events) =>
        SetPaused(name, false, null, http, store, events);

    private static async Task<Results<Ok<QueueDto>, ProblemHttpResult>> SetPaused(
        string name, bool paused, string? reason, HttpContext http, IKairosStore store, EventBus events)
    {
        var org = http.User.OrganizationId();
        if (!await store.Queues.SetPausedAsync(new PauseQueueParams(org, name, paused, reason), http.RequestAborted))
        {
            return Problems.NotFound($"No queue '{name}'.");
        }
        events.Publish(paused ? "queue.paused" : "queue.resumed", org, new QueueEventData(name, reason));
        if (!paused)
        {
            // Fetchers waiting on this queue may now take its jobs.
            http.RequestServices.GetRequiredService<Kairos.Core.Dispatch.Dispatcher>().Wake(org, name, int.MaxValue);
        }
        var q = await store.Queues.GetAsync(new QueueParams(org, name), http.RequestAborted);
        return q is null ? Problems.NotFound($"No queue '{name}'.") : TypedResults.Ok(QueueDto.From(q));
    }

    public static async Task<Results<Ok<PurgeQueueResponse>, ProblemHttpResult>> Purge(string name, HttpContext http, IKairosStore store, EventBus events)
    {
        var org = http.User.OrganizationId();
        var purged = await store.Queues.PurgeAsync(new QueueParams(org, name), http.RequestAborted);
        if (purged is null) return Problems.NotFound($"No queue '{name}'.");
        events.Publish("queue.purged", org, new QueueEventData(name, Count: purged));
        return TypedResults.Ok(new PurgeQueueResponse(name, purged.Value));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, HttpContext http, IKairosStore store, EventBus events)
    {
        var org = http.User.OrganizationId();
        var outcome = await store.Queues.DeleteAsync(new QueueParams(org, name), http.RequestAborted);
        switch (outcome)
        {
            case DeleteQueueOutcome.NotFound:
                return Problems.NotFound($"No queue '{name}'.");
            case DeleteQueueOutcome.NotEmpty:
                return Problems.Conflict($"Queue '{name}' still has unfinished jobs; purge it or let them finish first.");
            default:
                events.Publish("queue.deleted", org, new QueueEventData(name));
                return TypedResults.NoContent();
        }
    }
}
