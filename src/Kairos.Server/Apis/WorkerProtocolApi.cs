using Kairos.Core.Dispatch;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Core.Workers;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record RegisterWorkerRequest(string? Name, string? Host, int? Pid, List<string>? Queues, int? Capacity, Dictionary<string, string>? Labels, string? Version);
public sealed record RegisterWorkerResponse(Guid Id, int HeartbeatTimeoutMs);
public sealed record WorkerHeartbeatResponse(IReadOnlyList<string> Commands, IReadOnlyList<Guid> CancelJobIds);

public sealed record FetchRequest(Guid? WorkerId, List<string>? Queues, int? Max, int? WaitMs, int? LeaseMs);
public sealed record FetchedJob(
    Guid Id, string Queue, string Type, RawJson Payload, int Attempt, int MaxAttempts, int Priority, IReadOnlyList<string> Tags,
    int? TimeoutMs, Guid LeaseToken, DateTimeOffset LeaseExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset RunAt,
    Guid? WorkflowId = null, string? WorkflowStep = null, IReadOnlyDictionary<string, ParentResultDto>? Parents = null);

/// <summary>A workflow step's parent as its job sees it at fetch: the parent's job, state and result.</summary>
public sealed record ParentResultDto(Guid JobId, string State, RawJson? Result);
public sealed record FetchResponse(IReadOnlyList<FetchedJob> Jobs);

public sealed record ErrorRequest(string? Message, string? Type, string? Stack);
public sealed record AckRequest(string? LeaseToken, RawJson? Result);
public sealed record FailRequest(string? LeaseToken, ErrorRequest? Error, bool? Retryable, int? RetryInMs);
public sealed record CompletionResponse(Guid Id, string State, DateTimeOffset? RunAt = null);
public sealed record JobHeartbeatRequest(string? LeaseToken, int? ExtendMs, ProgressDto? Progress);
public sealed record JobHeartbeatResponse(bool CancelRequested, DateTimeOffset? LeaseExpiresAt);
public sealed record LogsRequest(string? LeaseToken, List<string>? Lines);
public sealed record LogsResponse(int Appended);

public sealed record BatchAckItem(Guid? Id, string? LeaseToken, RawJson? Result);
public sealed record BatchFailItem(Guid? Id, string? LeaseToken, ErrorRequest? Error, bool? Retryable, int? RetryInMs);
public sealed record BatchAckRequest(List<BatchAckItem?>? Acks, List<BatchFailItem?>? Fails);
public sealed record BatchItemResult(Guid Id, string Status, string? State);
public sealed record BatchAckResponse(IReadOnlyList<BatchItemResult> Results);

public sealed record LeaseItem(Guid? Id, string? LeaseToken);
public sealed record BatchHeartbeatRequest(List<LeaseItem?>? Leases, int? ExtendMs);
public sealed record BatchHeartbeatItem(Guid Id, string Status, bool CancelRequested, DateTimeOffset? LeaseExpiresAt);
public sealed record BatchHeartbeatResponse(IReadOnlyList<BatchHeartbeatItem> Results);

/// <summary>The worker protocol: register, heartbeat, long-poll fetch, ack/fail (single and batch), job heartbeat and logs.</summary>
public static class WorkerProtocolApi
{
    public const int MaxLeaseMs = 24 * 3600 * 1000;

    public static RouteGroupBuilder MapWorkerProtocolApi(this RouteGroupBuilder api)
    {
        // The worker protocol is the data plane's hot path (many calls a second per worker): no audit entries, and so no
        // audit filter on these endpoints at all. Deregistering a worker (DELETE /workers/{id}) is audited.
        var g = api.MapGroup("/").WithTags("Worker protocol").RequireAuthorization(Policies.WorkerProtocol)
            .NotAudited("the worker protocol is the data plane's hot path");
        g.MapPost("/workers", Register).WithName("RegisterWorker");
        g.MapPost("/workers/{id}/heartbeat", Heartbeat).WithName("WorkerHeartbeat");
        g.MapPost("/fetch", Fetch).WithName("Fetch");
        g.MapPost("/jobs/{id}/ack", Ack).WithName("AckJob");
        g.MapPost("/jobs/{id}/fail", Fail).WithName("FailJob");
        g.MapPost("/jobs/{id}/heartbeat", JobHeartbeat).WithName("JobHeartbeat");
        g.MapPost("/jobs/heartbeat", BatchHeartbeat).WithName("BatchJobHeartbeat");
        g.MapPost("/jobs/{id}/logs", Logs).WithName("AppendJobLogs");
        g.MapPost("/ack", Batch).WithName("BatchAck");
        return api;
    }

    public static async Task<Results<Created<RegisterWorkerResponse>, ValidationProblem>> Register(
        RegisterWorkerRequest request, HttpContext http, Dispatcher dispatcher, ServerOptions options)
    {
        var v = new Validation();
        v.Required("name", request.Name);
        v.Name("name", request.Name);
        v.Name("host", request.Host, 255);
        v.Range("capacity", request.Capacity, 1, 10_000);
        for (var i = 0; request.Queues is not null && i < request.Queues.Count; i++) v.Name($"queues[{i}]", request.Queues[i] ?? "");
        if (!v.Ok) return Problems.Invalid(v);
        var worker = await dispatcher.RegisterWorkerAsync(new RegisterWorkerParams(http.User.OrganizationId(), new WorkerRegistration
        {
            Name = request.Name!,
            Host = request.Host,
            Pid = request.Pid,
            Queues = request.Queues ?? [],
            Capacity = request.Capacity ?? 1,
            Labels = request.Labels ?? [],
            Version = request.Version,
        }), http.RequestAborted);
        return TypedResults.Created($"/api/v1/workers/{worker.Id}",
            new RegisterWorkerResponse(worker.Id, (int)options.WorkerHeartbeatTimeout.TotalMilliseconds));
    }

    public static async Task<Results<Ok<WorkerHeartbeatResponse>, ProblemHttpResult>> Heartbeat(string id, HttpContext http, IKairosStore store)
    {
        if (!Guid.TryParse(id, out var workerId)) return Problems.NotFound($"No worker '{id}'.");
        var result = await store.Workers.HeartbeatAsync(new WorkerParams(http.User.OrganizationId(), workerId), http.RequestAborted);
        if (result is null) return Problems.NotFound($"No worker '{id}'.");
        IReadOnlyList<string> commands = result.State switch
        {
            WorkerState.Quiet => ["quiet"],
            WorkerState.Stopped => ["terminate"],
            _ => [],
        };
        return TypedResults.Ok(new WorkerHeartbeatResponse(commands, result.CancelJobIds));
    }

    public static async Task<Results<Ok<FetchResponse>, ValidationProblem, ProblemHttpResult>> Fetch(
        FetchRequest request, HttpContext http, Dispatcher dispatcher, IHostApplicationLifetime lifetime)
    {
        var v = new Validation();
        v.Required("worker_id", request.WorkerId);
        if (request.Queues is null || request.Queues.Count == 0) v.Add("queues", "is required (at least one queue)");
        for (var i = 0; request.Queues is not null && i < request.Queues.Count; i++) v.Name($"queues[{i}]", request.Queues[i] ?? "");
        v.Range("max", request.Max, 1, 1000);
        v.Range("wait_ms", request.WaitMs, 0, 60_000);
        v.Range("lease_ms", request.LeaseMs, 100, MaxLeaseMs);
        if (!v.Ok) return Problems.Invalid(v);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var lease = new LeaseParams(http.User.OrganizationId(), request.WorkerId!.Value, request.Queues!, request.Max ?? 1, request.LeaseMs ?? 30_000);
        IReadOnlyList<LeasedJob>? jobs;
        try
        {
            jobs = await dispatcher.FetchAsync(lease, TimeSpan.FromMilliseconds(request.WaitMs ?? 0), stop.Token);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            jobs = []; // shutting down: answer the long poll empty rather than hold the server up
        }
        if (jobs is null) return Problems.NotFound($"No worker '{request.WorkerId}'; register first.");
        // Workflow steps get their parents' results (one more read, only when the batch holds a step).
        var steps = jobs.Where(l => l.Job.WorkflowId is not null).Select(l => l.Job.Id).ToList();
        var parents = steps.Count == 0 ? null
            : await dispatcher.Store.Workflows.ParentsAsync(new ParentsParams(lease.OrganizationId, steps), http.RequestAborted);
        return TypedResults.Ok(new FetchResponse(jobs.Select(l => new FetchedJob(
            l.Job.Id, l.Job.Queue, l.Job.Type, new RawJson(l.Job.Payload), l.Job.Attempt, l.Job.MaxAttempts, l.Job.Priority, l.Job.Tags,
            l.Job.TimeoutMs, l.LeaseToken, l.LeaseExpiresAt, l.Job.CreatedAt, l.Job.RunAt, l.Job.WorkflowId, l.Job.WorkflowStep,
            l.Job.WorkflowId is null ? null : ParentsOf(parents, l.Job.Id))).ToList()));
    }

    private static Dictionary<string, ParentResultDto> ParentsOf(IReadOnlyDictionary<Guid, IReadOnlyList<ParentResult>>? parents, Guid jobId) =>
        parents is not null && parents.TryGetValue(jobId, out var list)
            ? list.ToDictionary(p => p.Step, p => new ParentResultDto(p.JobId, p.State.ToWire(), p.Result is null ? null : new RawJson(p.Result)), StringComparer.Ordinal)
            : [];

    public static async Task<Results<Ok<CompletionResponse>, ValidationProblem, ProblemHttpResult>> Ack(
        string id, AckRequest request, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        if (string.IsNullOrEmpty(request.LeaseToken)) return Problems.Invalid("lease_token", "is required");
        if (!Guid.TryParse(request.LeaseToken, out var token)) return StaleLease(id);
        var result = await dispatcher.AckAsync(new AckParams(http.User.OrganizationId(), jobId, token, request.Result?.Text), http.RequestAborted);
        return Answer(id, result);
    }

    public static async Task<Results<Ok<CompletionResponse>, ValidationProblem, ProblemHttpResult>> Fail(
        string id, FailRequest request, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        var v = new Validation();
        var failure = ToFailure("", request.LeaseToken, request.Error, request.Retryable, request.RetryInMs, v);
        if (!v.Ok) return Problems.Invalid(v);
        if (!Guid.TryParse(request.LeaseToken, out var token)) return StaleLease(id);
        var result = await dispatcher.FailAsync(new FailParams(http.User.OrganizationId(), jobId, token, failure!), http.RequestAborted);
        return Answer(id, result);
    }

    public static async Task<Results<Ok<JobHeartbeatResponse>, ValidationProblem, ProblemHttpResult>> JobHeartbeat(
        string id, JobHeartbeatRequest request, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        var v = new Validation();
        v.Required("lease_token", request.LeaseToken);
        v.Range("extend_ms", request.ExtendMs, 100, MaxLeaseMs);
        if (request.Progress is { } p)
        {
            v.Range("progress.percent", p.Percent, 0, 100);
            if (p.Message is { Length: > 1000 }) v.Add("progress.message", "must be at most 1000 characters");
        }
        if (!v.Ok) return Problems.Invalid(v);
        if (!Guid.TryParse(request.LeaseToken, out var token)) return StaleLease(id);
        var progress = request.Progress is { } pr ? new JobProgress(pr.Percent, pr.Message) : null;
        var result = await dispatcher.HeartbeatAsync(new JobHeartbeatParams(http.User.OrganizationId(), jobId, token, request.ExtendMs, progress), http.RequestAborted);
        return result.Status switch
        {
            CommandStatus.Applied => TypedResults.Ok(new JobHeartbeatResponse(result.CancelRequested, result.LeaseExpiresAt)),
            CommandStatus.NotFound => Problems.NotFound($"No job '{id}'."),
            _ => StaleLease(id),
        };
    }

    /// <summary>
    /// Extends many leases in one call, each as the single job heartbeat does (without progress): per item <c>ok</c>
    /// (with <c>cancel_requested</c> and the new <c>lease_expires_at</c>), <c>stale_lease</c> when the token is not the
    /// job's current one (nothing is extended), or <c>not_found</c>. Results come in the order of the leases.
    /// </summary>
    public static async Task<Results<Ok<BatchHeartbeatResponse>, ValidationProblem>> BatchHeartbeat(
        BatchHeartbeatRequest request, HttpContext http, IKairosStore store)
    {
        var v = new Validation();
        if (request.Leases is null || request.Leases.Count == 0) v.Add("leases", "give at least one lease");
        else if (request.Leases.Count > 1000) v.Add("leases", "at most 1000 leases per request");
        v.Range("extend_ms", request.ExtendMs, 100, MaxLeaseMs);
        var items = new List<(Guid Id, Guid? Token)>();
        for (var i = 0; v.Ok && i < request.Leases!.Count; i++)
        {
            var l = request.Leases[i];
            if (l?.Id is not { } id) { v.Add($"leases[{i}].id", "is required"); continue; }
            if (string.IsNullOrEmpty(l.LeaseToken)) { v.Add($"leases[{i}].lease_token", "is required"); continue; }
            items.Add((id, Guid.TryParse(l.LeaseToken, out var token) ? token : null));
        }
        if (!v.Ok) return Problems.Invalid(v);
        var readable = items.Where(x => x.Token is not null).Select(x => new LeaseRef(x.Id, x.Token!.Value)).ToList();
        var beats = readable.Count == 0 ? [] : await store.Jobs.HeartbeatManyAsync(
            new HeartbeatManyParams(http.User.OrganizationId(), readable, request.ExtendMs), http.RequestAborted);
        var results = new List<BatchHeartbeatItem>(items.Count);
        var next = 0;
        foreach (var (id, token) in items)
        {
            // A token that is not even a UUID is no job's current lease.
            var beat = token is null ? null : beats[next++];
            results.Add(beat is null
                ? new BatchHeartbeatItem(id, "stale_lease", false, null)
                : new BatchHeartbeatItem(id, Status(beat.Status), beat.CancelRequested, beat.LeaseExpiresAt));
        }
        return TypedResults.Ok(new BatchHeartbeatResponse(results));
    }

    public static async Task<Results<Ok<LogsResponse>, ValidationProblem, ProblemHttpResult>> Logs(
        string id, LogsRequest request, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        var v = new Validation();
        v.Required("lease_token", request.LeaseToken);
        if (request.Lines is null) v.Add("lines", "is required");
        else if (request.Lines.Count > 1000) v.Add("lines", "at most 1000 lines per request");
        for (var i = 0; request.Lines is not null && i < request.Lines.Count; i++)
        {
            if (request.Lines[i] is null) v.Add($"lines[{i}]", "must be a string");
            else if (request.Lines[i].Length > 64 * 1024) v.Add($"lines[{i}]", "must be at most 65536 characters");
        }
        if (!v.Ok) return Problems.Invalid(v);
        if (!Guid.TryParse(request.LeaseToken, out var token)) return StaleLease(id);
        var result = await dispatcher.AppendLogsAsync(new AppendLogsParams(http.User.OrganizationId(), jobId, token, request.Lines!), http.RequestAborted);
        return result.Status switch
        {
            CommandStatus.Applied => TypedResults.Ok(new LogsResponse(request.Lines!.Count)),
            CommandStatus.NotFound => Problems.NotFound($"No job '{id}'."),
            _ => StaleLease(id),
        };
    }

    public static async Task<Results<Ok<BatchAckResponse>, ValidationProblem>> Batch(BatchAckRequest request, HttpContext http, Dispatcher dispatcher)
    {
        var v = new Validation();
        var org = http.User.OrganizationId();
        var acks = new List<AckParams>();
        var fails = new List<FailParams>();
        var unreadable = new List<BatchItemResult>();
        var total = (request.Acks?.Count ?? 0) + (request.Fails?.Count ?? 0);
        if (total == 0) v.Add("acks", "give at least one ack or fail");
        if (total > 1000) v.Add("acks", "at most 1000 items per request");
        for (var i = 0; request.Acks is not null && i < request.Acks.Count; i++)
        {
            var a = request.Acks[i];
            if (a?.Id is not { } id) { v.Add($"acks[{i}].id", "is required"); continue; }
            if (string.IsNullOrEmpty(a.LeaseToken)) { v.Add($"acks[{i}].lease_token", "is required"); continue; }
            if (Guid.TryParse(a.LeaseToken, out var token)) acks.Add(new AckParams(org, id, token, a.Result?.Text));
            else unreadable.Add(new BatchItemResult(id, "stale_lease", null));
        }
        for (var i = 0; request.Fails is not null && i < request.Fails.Count; i++)
        {
            var f = request.Fails[i];
            if (f?.Id is not { } id) { v.Add($"fails[{i}].id", "is required"); continue; }
            var failure = ToFailure($"fails[{i}].", f.LeaseToken, f.Error, f.Retryable, f.RetryInMs, v);
            if (failure is null) continue;
            if (Guid.TryParse(f.LeaseToken, out var token)) fails.Add(new FailParams(org, id, token, failure));
            else unreadable.Add(new BatchItemResult(id, "stale_lease", null));
        }
        if (!v.Ok) return Problems.Invalid(v);
        var results = acks.Count + fails.Count == 0 ? [] : await dispatcher.CompleteManyAsync(new CompleteManyParams(org, acks, fails), http.RequestAborted);
        var items = results.Select(r => new BatchItemResult(r.JobId, Status(r.Status), r.CurrentState?.ToWire())).Concat(unreadable).ToList();
        return TypedResults.Ok(new BatchAckResponse(items));
    }

    private static string Status(CommandStatus s) => s switch
    {
        CommandStatus.Applied => "ok",
        CommandStatus.NotFound => "not_found",
        CommandStatus.StaleLease => "stale_lease",
        _ => "invalid_state",
    };

    private static Failure? ToFailure(string prefix, string? leaseToken, ErrorRequest? error, bool? retryable, int? retryInMs, Validation v)
    {
        v.Required(prefix + "lease_token", leaseToken);
        if (error is null) v.Add(prefix + "error", "is required");
        else
        {
            v.Required(prefix + "error.message", error.Message);
            if (error.Message is { Length: > 10_000 }) v.Add(prefix + "error.message", "must be at most 10000 characters");
            if (error.Stack is { Length: > 100_000 }) v.Add(prefix + "error.stack", "must be at most 100000 characters");
        }
        v.Range(prefix + "retry_in_ms", retryInMs, 0, int.MaxValue);
        if (!v.Ok) return null;
        return new Failure(new JobError(error!.Message!, error.Type, error.Stack), retryable ?? true, retryInMs);
    }

    private static Results<Ok<CompletionResponse>, ValidationProblem, ProblemHttpResult> Answer(string id, CommandResult result) => result.Status switch
    {
        CommandStatus.Applied => TypedResults.Ok(new CompletionResponse(result.JobId, result.CurrentState!.Value.ToWire(), result.Change?.RunAt)),
        CommandStatus.NotFound => Problems.NotFound($"No job '{id}'."),
        _ => StaleLease(id),
    };

    private static ProblemHttpResult StaleLease(string id) =>
        Problems.Conflict($"The lease token is not the current lease of job '{id}': the lease expired or the job was handed to another worker.");
}
