using Kairos.Core.Dispatch;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>The filters of the job list, as query parameters or as the <c>filter</c> of a bulk action; <c>q</c> is a full-text search.</summary>
public sealed record JobFilter(string? State, string? Queue, string? Type, string? Tag, string? CreatedAfter, string? CreatedBefore, string? Q = null);

/// <summary>Either <c>ids</c> (at most 10,000) or <c>filter</c> (the list's filters; <c>{}</c> is every job).</summary>
public sealed record BulkJobsRequest(List<string?>? Ids, JobFilter? Filter);

/// <param name="Count">Jobs the action changed.</param>
/// <param name="Skipped">Jobs named or matched whose state refused the action (a finished job is not cancelled, a running one not deleted).</param>
/// <param name="NotFound">Ids that name no job of the organization.</param>
public sealed record BulkJobsResponse(long Count, long Skipped, long NotFound);

/// <summary>
/// Bulk retry, cancel and delete: <c>POST /jobs/bulk-retry|bulk-cancel|bulk-delete</c> with the ids of the jobs or the
/// filter of the list, done in batches (<see cref="BulkJobCommands"/>), each job as its own command would do it. They
/// need the permission of the single commands and leave one audit entry each, with the count.
/// </summary>
public static class JobsBulkApi
{
    public static RouteGroupBuilder MapJobsBulkApi(this RouteGroupBuilder jobs)
    {
        jobs.MapPost("/bulk-retry", Retry).WithName("BulkRetryJobs").RequireAuthorization(Policies.JobsWrite).Audited("job.bulk_retry");
        jobs.MapPost("/bulk-cancel", Cancel).WithName("BulkCancelJobs").RequireAuthorization(Policies.JobsWrite).Audited("job.bulk_cancel");
        jobs.MapPost("/bulk-delete", Delete).WithName("BulkDeleteJobs").RequireAuthorization(Policies.JobsWrite).Audited("job.bulk_delete");
        return jobs;
    }

    public static Task<Results<Ok<BulkJobsResponse>, ValidationProblem>> Retry(BulkJobsRequest request, HttpContext http, BulkJobCommands bulk, IHostApplicationLifetime lifetime) =>
        RunAsync(request, JobCommand.Retry, http, bulk, lifetime);

    public static Task<Results<Ok<BulkJobsResponse>, ValidationProblem>> Cancel(BulkJobsRequest request, HttpContext http, BulkJobCommands bulk, IHostApplicationLifetime lifetime) =>
        RunAsync(request, JobCommand.Cancel, http, bulk, lifetime);

    public static Task<Results<Ok<BulkJobsResponse>, ValidationProblem>> Delete(BulkJobsRequest request, HttpContext http, BulkJobCommands bulk, IHostApplicationLifetime lifetime) =>
        RunAsync(request, JobCommand.Delete, http, bulk, lifetime);

    private static async Task<Results<Ok<BulkJobsResponse>, ValidationProblem>> RunAsync(
        BulkJobsRequest request, JobCommand command, HttpContext http, BulkJobCommands bulk, IHostApplicationLifetime lifetime)
    {
        var v = new Validation();
        var org = http.User.OrganizationId();
        if ((request.Ids is null) == (request.Filter is null))
        {
            v.Add("ids", "give ids or filter (exactly one of them)");
            return Problems.Invalid(v);
        }
        List<Guid>? ids = null;
        ListJobsParams? filter = null;
        if (request.Ids is { } given)
        {
            if (given.Count == 0) v.Add("ids", "must name at least one job");
            if (given.Count > JobsApi.MaxBulk) v.Add("ids", $"at most {JobsApi.MaxBulk} ids per request");
            ids = new List<Guid>(given.Count);
            for (var i = 0; i < given.Count && i < JobsApi.MaxBulk; i++)
            {
                if (Guid.TryParse(given[i], out var id)) ids.Add(id);
                else v.Add($"ids[{i}]", "must be a job id (a UUID)");
            }
        }
        else
        {
            filter = JobsApi.ParseFilter(org, request.Filter!, "filter.", v);
        }
        if (!v.Ok) return Problems.Invalid(v);

        // Once begun, the action runs to its end even if the client goes away: a half-done bulk action is worse.
        var outcome = ids is not null
            ? await bulk.ByIdsAsync(org, command, ids, lifetime.ApplicationStopping)
            : await bulk.ByFilterAsync(filter!, command, lifetime.ApplicationStopping);
        var note = http.Audit().Detail("count", outcome.Count).Detail("skipped", outcome.Skipped);
        if (ids is not null) note.Detail("ids", ids.Count);
        else note.Detail("filter", request.Filter);
        return TypedResults.Ok(new BulkJobsResponse(outcome.Count, outcome.Skipped, outcome.NotFound));
    }
}
