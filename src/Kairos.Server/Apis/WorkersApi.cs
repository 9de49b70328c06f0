using Kairos.Core.Dispatch;
using Kairos.Core.Storage;
using Kairos.Core.Workers;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record WorkerDto(
    Guid Id, string Name, string? Host, int? Pid, IReadOnlyList<string> Queues, int Capacity, IReadOnlyDictionary<string, string> Labels,
    string? Version, string State, DateTimeOffset RegisteredAt, DateTimeOffset LastHeartbeatAt, IReadOnlyList<Guid>? RunningJobIds)
{
    public static WorkerDto From(Worker w, bool full = false) => new(
        w.Id, w.Registration.Name, w.Registration.Host, w.Registration.Pid, w.Registration.Queues, w.Registration.Capacity, w.Registration.Labels,
        w.Registration.Version, w.State.ToWire(), w.RegisteredAt, w.LastHeartbeatAt, full ? w.RunningJobIds : null);
}

/// <summary>Workers as people see them: list, detail with running jobs, quiet, stop, deregister.</summary>
public static class WorkersApi
{
    public static RouteGroupBuilder MapWorkersApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/workers").WithTags("Workers");
        g.MapGet("/", List).WithName("ListWorkers").RequireAuthorization(Policies.Read);
        g.MapGet("/{id}", Get).WithName("GetWorker").RequireAuthorization(Policies.Read);
        // A worker deregisters itself on shutdown; an admin may do it for a worker.
        g.MapDelete("/{id}", Deregister).WithName("DeregisterWorker").RequireAuthorization(Policies.WorkerOrWorkersManage)
            .Audited("worker.deregister");
        g.MapPost("/{id}/quiet", (string id, HttpContext http, IKairosStore store) => SetState(id, WorkerState.Quiet, http, store))
            .WithName("QuietWorker").RequireAuthorization(Policies.WorkersManage).Audited("worker.quiet");
        g.MapPost("/{id}/stop", (string id, HttpContext http, IKairosStore store) => SetState(id, WorkerState.Stopped, http, store))
            .WithName("StopWorker").RequireAuthorization(Policies.WorkersManage).Audited("worker.stop");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<WorkerDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var (n, after) = Paging.Read(limit, cursor, v);
        if (!v.Ok) return Problems.Invalid(v);
        var workers = await store.Workers.ListAsync(new ListWorkersParams(http.User.OrganizationId()), http.RequestAborted);
        // Ids are UUIDv7: newest registration first.
        var (items, next) = Paging.Page(workers, w => w.Id.ToString(), descending: true, n, after);
        return TypedResults.Ok(new ListResponse<WorkerDto>(items.Select(w => WorkerDto.From(w)).ToList(), next));
    }

    public static async Task<Results<Ok<WorkerDto>, ProblemHttpResult>> Get(string id, HttpContext http, IKairosStore store)
    {
        if (!Guid.TryParse(id, out var workerId)) return Problems.NotFound($"No worker '{id}'.");
        var worker = await store.Workers.GetAsync(new WorkerParams(http.User.OrganizationId(), workerId), http.RequestAborted);
        return worker is null ? Problems.NotFound($"No worker '{id}'.") : TypedResults.Ok(WorkerDto.From(worker, full: true));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Deregister(string id, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var workerId)) return Problems.NotFound($"No worker '{id}'.");
        return await dispatcher.DeregisterWorkerAsync(new WorkerParams(http.User.OrganizationId(), workerId), http.RequestAborted)
            ? TypedResults.NoContent()
            : Problems.NotFound($"No worker '{id}'.");
    }

    private static async Task<Results<Ok<WorkerDto>, ProblemHttpResult>> SetState(string id, WorkerState state, HttpContext http, IKairosStore store)
    {
        if (!Guid.TryParse(id, out var workerId)) return Problems.NotFound($"No worker '{id}'.");
        var p = new WorkerParams(http.User.OrganizationId(), workerId);
        if (!await store.Workers.SetStateAsync(new SetWorkerStateParams(p.OrganizationId, workerId, state), http.RequestAborted))
        {
            return Problems.NotFound($"No worker '{id}'.");
        }
        var worker = await store.Workers.GetAsync(p, http.RequestAborted);
        return worker is null ? Problems.NotFound($"No worker '{id}'.") : TypedResults.Ok(WorkerDto.From(worker, full: true));
    }
}
