using System.Text.Json;
using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Manifests;
using Kairos.Core.Queues;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
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
        g.MapPut("/{name}", Upsert).WithName("UpsertQueue").RequireAuthorization(Policies.QueuesManage).Audited("queue.upsert");
        g.MapPatch("/{name}", Patch).WithName("PatchQueue").RequireAuthorization(Policies.QueuesManage).Audited("queue.update");
        g.MapPost("/{name}/pause", Pause).WithName("PauseQueue").RequireAuthorization(Policies.QueuesManage).Audited("queue.pause");
        g.MapPost("/{name}/resume", Resume).WithName("ResumeQueue").RequireAuthorization(Policies.QueuesManage).Audited("queue.resume");
        g.MapPost("/{name}/purge", Purge).WithName("PurgeQueue").RequireAuthorization(Policies.QueuesManage).Audited("queue.purge");
        g.MapDelete("/{name}", Delete).WithName("DeleteQueue").RequireAuthorization(Policies.QueuesManage).Audited("queue.delete");
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

    /// <summary>Creates the queue or replaces all its settings: one left out goes back to none.</summary>
    public static Task<Results<Ok<QueueDto>, ValidationProblem, ProblemHttpResult>> Upsert(string name, UpsertQueueRequest request, HttpContext http, IKairosStore store) =>
        SaveAsync(name, request, QueueSettingFields.All, new Validation(), http, store);

    /// <summary>
    /// Creates the queue or changes the settings the body names (a JSON merge patch): a field left out keeps its
    /// value, <c>null</c> clears it, and <c>rate_limit</c> is set whole (<c>limit</c> and <c>period_ms</c>).
    /// </summary>
    public static Task<Results<Ok<QueueDto>, ValidationProblem, ProblemHttpResult>> Patch(string name, JsonElement body, HttpContext http, IKairosStore store)
    {
        var v = new Validation();
        var fields = QueueSettingFields.None;
        if (body.ValueKind != JsonValueKind.Object)
        {
            v.Add("body", "must be a JSON object with the settings to change");
            return SaveAsync(name, new UpsertQueueRequest(null, null, null, null), fields, v, http, store);
        }
        int? Int(string field, QueueSettingFields flag)
        {
            if (!body.TryGetProperty(field, out var value)) return null;
            fields |= flag;
            return Number(value, field, "must be a whole number, or null to clear it", v);
        }
        var concurrency = Int("concurrency_limit", QueueSettingFields.ConcurrencyLimit);
        var attempts = Int("default_max_attempts", QueueSettingFields.DefaultMaxAttempts);
        var timeout = Int("default_timeout_ms", QueueSettingFields.DefaultTimeoutMs);
        RateLimitDto? rate = null;
        if (body.TryGetProperty("rate_limit", out var r))
        {
            fields |= QueueSettingFields.RateLimit;
            if (r.ValueKind == JsonValueKind.Object)
            {
                int? Part(string part) => r.TryGetProperty(part, out var p) ? Number(p, $"rate_limit.{part}", "must be a whole number", v) : null;
                rate = new RateLimitDto(Part("limit"), Part("period_ms"));
            }
            else if (r.ValueKind != JsonValueKind.Null) v.Add("rate_limit", "must be an object {limit, period_ms}, or null to clear it");
        }
        return SaveAsync(name, new UpsertQueueRequest(concurrency, rate, attempts, timeout), fields, v, http, store);
    }

    private static int? Number(JsonElement value, string field, string message, Validation v)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n)) return n;
        v.Add(field, message);
        return null;
    }

    private static async Task<Results<Ok<QueueDto>, ValidationProblem, ProblemHttpResult>> SaveAsync(
        string name, UpsertQueueRequest request, QueueSettingFields fields, Validation v, HttpContext http, IKairosStore store)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.Queue, name) is { } refused) return refused;
        var settings = ToSettings(name, request, v);
        if (settings is null) return Problems.Invalid(v);
        var q = await store.Queues.UpsertAsync(new UpsertQueueParams(http.User.OrganizationId(), name, settings, fields), http.RequestAborted);
        return TypedResults.Ok(QueueDto.From(q));
    }

    /// <summary>Validates a queue's name and settings; null when <paramref name="v"/> has errors. Needs no store (manifests are checked with it offline).</summary>
    public static QueueSettings? ToSettings(string name, UpsertQueueRequest request, Validation v)
    {
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
        if (!v.Ok) return null;
        return new QueueSettings
        {
            ConcurrencyLimit = request.ConcurrencyLimit,
            RateLimit = request.RateLimit is { Limit: { } l, PeriodMs: { } p } ? new RateLimit(l, p) : null,
            DefaultMaxAttempts = request.DefaultMaxAttempts,
            DefaultTimeoutMs = request.DefaultTimeoutMs,
        };
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
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.Queue, name) is { } refused) return refused;
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
