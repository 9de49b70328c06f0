using System.Globalization;
using Kairos.Core.Dispatch;
using Kairos.Core.Jobs;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kairos.Server.Apis;

/// <summary>Jobs: enqueue (single and bulk), list (with full-text search, <c>q</c>), get, retry, cancel, delete.</summary>
public static class JobsApi
{
    public const int MaxBulk = 10_000;
    public const int MaxSearchLength = 1_000;

    public static RouteGroupBuilder MapJobsApi(this RouteGroupBuilder api)
    {
        var jobs = api.MapGroup("/jobs").WithTags("Jobs");
        // Enqueueing is the data plane (applications enqueue all day), not management: it leaves no audit entry, as
        // the worker protocol does not. Retrying, cancelling and deleting a job are people's actions and do.
        jobs.MapPost("/", Create).WithName("CreateJob").RequireAuthorization(Policies.JobsWrite).NotAudited("enqueue is the data plane");
        jobs.MapPost("/bulk", CreateBulk).WithName("CreateJobs").RequireAuthorization(Policies.JobsWrite).NotAudited("enqueue is the data plane");
        jobs.MapGet("/", List).WithName("ListJobs").RequireAuthorization(Policies.Read);
        jobs.MapGet("/{id}", Get).WithName("GetJob").RequireAuthorization(Policies.Read);
        jobs.MapGet("/{id}/logs", Logs).WithName("ListJobLogs").RequireAuthorization(Policies.Read);
        jobs.MapPost("/{id}/retry", Retry).WithName("RetryJob").RequireAuthorization(Policies.JobsWrite).Audited("job.retry");
        jobs.MapPost("/{id}/cancel", Cancel).WithName("CancelJob").RequireAuthorization(Policies.JobsWrite).Audited("job.cancel");
        jobs.MapDelete("/{id}", Delete).WithName("DeleteJob").RequireAuthorization(Policies.JobsWrite).Audited("job.delete");
        jobs.MapJobsBulkApi();
        return api;
    }

    public static async Task<Results<Created<JobDto>, Ok<JobDto>, ValidationProblem, ProblemHttpResult>> Create(
        CreateJobRequest request, HttpContext http, Dispatcher dispatcher, ServerOptions options, TimeProvider time)
    {
        var v = new Validation();
        string? tooLarge = null;
        var job = request.ToNewJob("", time.GetUtcNow(), v, options.MaxPayloadBytes, ref tooLarge);
        if (tooLarge is not null) return Problems.TooLarge(tooLarge);
        if (job is null) return Problems.Invalid(v);
        var result = await dispatcher.EnqueueAsync(http.User.OrganizationId(), job, http.RequestAborted);
        return result.Deduplicated
            ? TypedResults.Ok(JobDto.From(result.Job, deduplicated: true))
            : TypedResults.Created($"/api/v1/jobs/{result.Job.Id}", JobDto.From(result.Job, deduplicated: false));
    }

    public static async Task<Results<Created<BulkCreateJobsResponse>, ValidationProblem, ProblemHttpResult>> CreateBulk(
        BulkCreateJobsRequest request, HttpContext http, Dispatcher dispatcher, ServerOptions options, TimeProvider time)
    {
        if (request.Jobs is null) return Problems.Invalid("jobs", "is required");
        if (request.Jobs.Count == 0) return Problems.Invalid("jobs", "must hold at least one job");
        if (request.Jobs.Count > MaxBulk) return Problems.Invalid("jobs", $"at most {MaxBulk} jobs per request");
        var v = new Validation();
        string? tooLarge = null;
        var now = time.GetUtcNow();
        var list = new List<NewJob>(request.Jobs.Count);
        for (var i = 0; i < request.Jobs.Count; i++)
        {
            if (request.Jobs[i] is not { } item)
            {
                v.Add($"jobs[{i}]", "must be an object");
                continue;
            }
            if (item.ToNewJob($"jobs[{i}].", now, v, options.MaxPayloadBytes, ref tooLarge) is { } job) list.Add(job);
        }
        if (tooLarge is not null) return Problems.TooLarge(tooLarge);
        if (!v.Ok) return Problems.Invalid(v);
        var results = await dispatcher.EnqueueManyAsync(http.User.OrganizationId(), list, http.RequestAborted);
        return TypedResults.Created("/api/v1/jobs", new BulkCreateJobsResponse(results.Select(r => r.Job.Id).ToList()));
    }

    /// <summary>
    /// Jobs matching the filters, a page at a time, ordered by <c>sort</c> (<see cref="JobSort"/>: <c>-created_at</c>,
    /// newest first, by default); <c>next_cursor</c> continues the same filters and sort.
    /// </summary>
    public static async Task<Results<Ok<ListResponse<JobDto>>, ValidationProblem>> List(
        HttpContext http, IKairosStore store, string? state, string? queue, string? type, string? tag,
        [FromQuery(Name = "created_after")] string? createdAfter, [FromQuery(Name = "created_before")] string? createdBefore, string? q,
        string? limit, string? cursor, string? sort)
    {
        var v = new Validation();
        var filter = ParseFilter(http.User.OrganizationId(), new JobFilter(state, queue, type, tag, createdAfter, createdBefore, q), "", v);
        var n = ParseLimit(limit, v);
        var order = JobSort.NewestFirst;
        if (sort is not null && !JobSort.TryParse(sort, out order)) v.Add("sort", "must be " + JobSort.Allowed);
        else if (!JobCursor.TryRead(cursor, order, out _, out var error)) v.Add("cursor", error!);
        if (!v.Ok) return Problems.Invalid(v);
        var page = await store.Jobs.ListAsync(filter with { Limit = n, Cursor = cursor, Sort = order }, http.RequestAborted);
        return TypedResults.Ok(new ListResponse<JobDto>(page.Items.Select(j => JobDto.From(j)).ToList(), page.NextCursor));
    }

    /// <summary>The list's filters, checked (field names prefixed with <paramref name="prefix"/>, e.g. <c>filter.</c>).</summary>
    internal static ListJobsParams ParseFilter(Guid organizationId, JobFilter f, string prefix, Validation v)
    {
        JobState? s = null;
        if (f.State is not null)
        {
            if (JobStates.TryParse(f.State, out var parsed)) s = parsed;
            else v.Add(prefix + "state", $"must be one of {string.Join(", ", JobStates.All.Select(x => x.ToWire()))}");
        }
        return new ListJobsParams(organizationId)
        {
            State = s,
            Queue = f.Queue,
            Type = f.Type,
            Tag = f.Tag,
            CreatedAfter = ParseTime(f.CreatedAfter, prefix + "created_after", v),
            CreatedBefore = ParseTime(f.CreatedBefore, prefix + "created_before", v),
            Search = ParseSearch(f.Q, prefix + "q", v),
        };
    }

    public static async Task<Results<Ok<JobDto>, ProblemHttpResult>> Get(string id, HttpContext http, IKairosStore store)
    {
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        var job = await store.Jobs.GetAsync(new GetJobParams(http.User.OrganizationId(), jobId), http.RequestAborted);
        return job is null ? Problems.NotFound($"No job '{id}'.") : TypedResults.Ok(JobDto.From(job, full: true));
    }

    /// <summary>
    /// A job's log lines oldest first, from after line <c>after</c> (an id a previous answer showed) or from
    /// <c>cursor</c>; <c>next_cursor</c> is set when more lines are already there. <c>job_state</c> is read before the
    /// lines: once it is finished, no line follows. A follower asks again with <c>after</c> = the last id it saw.
    /// </summary>
    public static async Task<Results<Ok<JobLogsResponse>, ValidationProblem, ProblemHttpResult>> Logs(
        string id, HttpContext http, IKairosStore store, string? after, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = ParseLimit(limit, v);
        long from = 0;
        if (after is not null && cursor is not null) v.Add("after", "give after or cursor, not both");
        else if (after is not null && !(long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out from)))
        {
            v.Add("after", "must be a line id (a whole number, 0 or more)");
        }
        else if (cursor is not null && LogCursor.Read(cursor) is { } c) from = c;
        else if (cursor is not null) v.Add("cursor", "is not a cursor this server gave out");
        if (!v.Ok) return Problems.Invalid(v);
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        var page = await store.Jobs.ListLogsAsync(new ListLogsParams(http.User.OrganizationId(), jobId, from, n), http.RequestAborted);
        if (page is null) return Problems.NotFound($"No job '{id}'.");
        return TypedResults.Ok(new JobLogsResponse(
            page.Lines.Select(l => new JobLogEntryDto(l.Id, l.Attempt, l.At, l.Line)).ToList(),
            page.HasMore ? LogCursor.Write(page.Lines[^1].Id) : null,
            page.JobState.ToWire()));
    }

    public static Task<Results<Ok<JobDto>, ProblemHttpResult>> Retry(string id, HttpContext http, Dispatcher dispatcher, IKairosStore store) =>
        Command(id, http, store, dispatcher.RetryAsync, "retried (only failed or cancelled jobs can be)");

    public static Task<Results<Ok<JobDto>, ProblemHttpResult>> Cancel(string id, HttpContext http, Dispatcher dispatcher, IKairosStore store) =>
        Command(id, http, store, dispatcher.CancelAsync, "cancelled (it has already finished)");

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, HttpContext http, Dispatcher dispatcher)
    {
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        var result = await dispatcher.DeleteAsync(new JobCommandParams(http.User.OrganizationId(), jobId), http.RequestAborted);
        return result.Status switch
        {
            CommandStatus.Applied => TypedResults.NoContent(),
            CommandStatus.NotFound => Problems.NotFound($"No job '{id}'."),
            _ => Problems.Conflict($"Job '{id}' is {result.CurrentState?.ToWire()} and cannot be deleted while it runs; cancel it first."),
        };
    }

    private static async Task<Results<Ok<JobDto>, ProblemHttpResult>> Command(
        string id, HttpContext http, IKairosStore store, Func<JobCommandParams, CancellationToken, Task<CommandResult>> command, string refused)
    {
        if (!Guid.TryParse(id, out var jobId)) return Problems.NotFound($"No job '{id}'.");
        var org = http.User.OrganizationId();
        var result = await command(new JobCommandParams(org, jobId), http.RequestAborted);
        switch (result.Status)
        {
            case CommandStatus.NotFound:
                return Problems.NotFound($"No job '{id}'.");
            case CommandStatus.Applied:
                var job = await store.Jobs.GetAsync(new GetJobParams(org, jobId), http.RequestAborted);
                return job is null ? Problems.NotFound($"No job '{id}'.") : TypedResults.Ok(JobDto.From(job, full: true));
            default:
                return Problems.Conflict($"Job '{id}' is {result.CurrentState?.ToWire()} and cannot be {refused}.");
        }
    }

    /// <summary>The words of a search (<see cref="JobSearch"/>); null without one.</summary>
    internal static IReadOnlyList<string>? ParseSearch(string? q, string field, Validation v)
    {
        if (q is null) return null;
        if (q.Length > MaxSearchLength)
        {
            v.Add(field, $"must be at most {MaxSearchLength} characters");
            return null;
        }
        var terms = JobSearch.Terms(q);
        if (terms.Count == 0) v.Add(field, "must contain a word (letters or digits)");
        return terms;
    }

    internal static DateTimeOffset? ParseTime(string? value, string field, Validation v)
    {
        if (value is null) return null;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return t.ToUniversalTime();
        v.Add(field, "must be an RFC 3339 time, e.g. 2026-11-23T05:43:26.123Z");
        return null;
    }

    internal static int ParseLimit(string? value, Validation v)
    {
        if (value is null) return 50;
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 500) return n;
        v.Add("limit", "must be an integer between 1 and 500");
        return 50;
    }
}

/// <summary>The opaque form of a log line id as a cursor.</summary>
internal static class LogCursor
{
    public static string Write(long id) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("l:" + id.ToString(CultureInfo.InvariantCulture)));

    public static long? Read(string cursor)
    {
        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            return text.StartsWith("l:", StringComparison.Ordinal) && long.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? id
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
