using System.Reflection;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record StatsResponse(
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Queues,
    long ThroughputLastMinute,
    SystemInfo System);

public sealed record SystemInfo(string Version, string Storage, string Durability, DateTimeOffset StartedAt, long UptimeMs);

public sealed record HealthResponse(string Status);

/// <summary>Stats, system info and the health probes.</summary>
public static class SystemApi
{
    public static readonly string Version =
        typeof(SystemApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static RouteGroupBuilder MapSystemApi(this RouteGroupBuilder api)
    {
        api.MapGet("/stats", Stats).WithTags("System").WithName("GetStats").RequireAuthorization(Policies.Read);
        return api;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok"))).WithTags("System").WithName("Health").AllowAnonymous();
        app.MapGet("/readyz", Ready).WithTags("System").WithName("Ready").AllowAnonymous();
        return app;
    }

    public static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> Ready(IKairosStore store, CancellationToken cancellationToken) =>
        await store.IsReadyAsync(cancellationToken)
            ? TypedResults.Ok(new HealthResponse("ready"))
            : TypedResults.Json(new HealthResponse("not ready"), statusCode: StatusCodes.Status503ServiceUnavailable);

    public static async Task<Ok<StatsResponse>> Stats(HttpContext http, IKairosStore store, ServerClock clock, TimeProvider time)
    {
        var stats = await store.Jobs.StatsAsync(new StatsParams(http.User.OrganizationId()), http.RequestAborted);
        var totals = JobStates.All.ToDictionary(s => s.ToWire(), _ => 0L);
        var queues = new Dictionary<string, IReadOnlyDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var (queue, counts) in stats.CountsByQueue)
        {
            queues[queue] = counts.ToDictionary(c => c.Key.ToWire(), c => c.Value);
            foreach (var (state, n) in counts) totals[state.ToWire()] += n;
        }
        var now = time.GetUtcNow();
        return TypedResults.Ok(new StatsResponse(totals, queues, stats.FinishedLastMinuteByQueue.Values.Sum(),
            new SystemInfo(Version, store.Driver, store.Capabilities.Durability, clock.StartedAt, (long)(now - clock.StartedAt).TotalMilliseconds)));
    }
}

/// <summary>When this server process started.</summary>
public sealed class ServerClock(TimeProvider time)
{
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();
}
