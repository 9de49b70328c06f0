using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kairos.Core.Events;
using Kairos.Core.Jobs;
using Kairos.Core.Manifests;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kairos.Server.Apis;

/// <summary>What a schedule's run enqueues. Unknown fields are ignored.</summary>
public sealed record JobTemplateRequest(string? Queue, string? Type, RawJson? Payload, int? Priority, int? MaxAttempts, int? TimeoutMs, List<string>? Tags);

/// <summary>A schedule to create or replace (<c>PUT</c>), or what a <c>PATCH</c> merges into. Unknown fields are ignored.</summary>
public sealed record ScheduleRequest(
    string? Name,
    string? Cron,
    long? EveryMs,
    string? Timezone,
    JobTemplateRequest? Job,
    string? Overlap,
    string? CatchUp,
    int? CatchUpLimit,
    int? JitterMs,
    DateTimeOffset? StartAt,
    DateTimeOffset? EndAt,
    bool? Paused,
    string? PauseReason,
    string? Workflow = null);

public sealed record JobTemplateDto(string Queue, string Type, RawJson Payload, int Priority, int? MaxAttempts, int? TimeoutMs, IReadOnlyList<string> Tags)
{
    public static JobTemplateDto From(JobTemplate j) => new(j.Queue, j.Type, new RawJson(j.Payload), j.Priority, j.MaxAttempts, j.TimeoutMs, j.Tags);
}

/// <summary>
/// A schedule as the API shows it. <c>next_fire_at</c> is null while paused or after end_at. What it starts is
/// <c>job</c> (a job template) or <c>workflow</c> (the name of a workflow template), the other one null.
/// </summary>
public sealed record ScheduleDto(
    Guid Id,
    string Name,
    string? Cron,
    long? EveryMs,
    string Timezone,
    string Description,
    JobTemplateDto? Job,
    string Overlap,
    string CatchUp,
    int CatchUpLimit,
    int JitterMs,
    DateTimeOffset? StartAt,
    DateTimeOffset? EndAt,
    bool Paused,
    string? PauseReason,
    DateTimeOffset? NextFireAt,
    DateTimeOffset? LastFireAt,
    Guid? LastJobId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Workflow,
    Guid? LastWorkflowId)
{
    public static ScheduleDto From(Schedule s)
    {
        var d = s.Definition;
        return new ScheduleDto(s.Id, d.Name, d.Cron, d.EveryMs, d.TimeZone, SchedulesApi.Describe(d.Cron, d.EveryMs), d.Job is { } j ? JobTemplateDto.From(j) : null,
            d.Overlap.ToWire(), d.CatchUp.ToWire(), d.CatchUpLimit, d.JitterMs, d.StartAt, d.EndAt, s.Paused, s.PauseReason,
            s.Paused ? null : s.NextFireAt, s.LastFireAt, s.LastJobId, s.CreatedAt, s.UpdatedAt, d.Workflow, s.LastWorkflowId);
    }
}

public sealed record PauseScheduleRequest(string? Reason);

/// <summary>A manual run: its fire time (now) and its job, or its workflow instance (a workflow schedule).</summary>
public sealed record TriggerScheduleResponse(string Schedule, DateTimeOffset FireTime, JobDto? Job, WorkflowDto? Workflow);

/// <summary>
/// One run of a schedule: its fire time, how it was started (<c>schedule</c> or <c>manual</c>), and its job (or, for a
/// workflow schedule, its workflow instance: <c>workflow_id</c>, the workflow's derived state) with state, outcome
/// (<c>succeeded</c>, <c>failed</c>, <c>cancelled</c>; <c>skipped</c> by the overlap policy or for want of its workflow
/// template; <c>deleted</c> when its job is gone; null while unfinished) and duration.
/// </summary>
public sealed record ScheduleRunDto(
    long Id,
    DateTimeOffset FireTime,
    string Trigger,
    bool Skipped,
    Guid? JobId,
    string? State,
    string? Outcome,
    int? Attempt,
    DateTimeOffset? RunAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long? DurationMs,
    DateTimeOffset CreatedAt,
    Guid? WorkflowId)
{
    public static ScheduleRunDto From(ScheduleRun r)
    {
        if (r.WorkflowId is { } workflowId)
        {
            var w = r.Workflow;
            var state = w?.State.ToWire();
            var wOutcome = w is null ? "deleted" : w.State == Kairos.Core.Workflows.WorkflowState.Running ? null : state;
            long? took = w?.FinishedAt is { } done ? (long)(done - w.CreatedAt).TotalMilliseconds : null;
            return new ScheduleRunDto(r.Id, r.FireTime, r.Manual ? "manual" : "schedule", r.Skipped, null, state, wOutcome, null, w?.CreatedAt, w?.CreatedAt,
                w?.FinishedAt, took, r.CreatedAt, workflowId);
        }
        var j = r.Job;
        var outcome = r.Skipped ? "skipped" : j is null ? "deleted" : j.State.IsTerminal() ? j.State.ToWire() : null;
        long? duration = j is { StartedAt: { } s, FinishedAt: { } f } ? (long)(f - s).TotalMilliseconds : null;
        return new ScheduleRunDto(r.Id, r.FireTime, r.Manual ? "manual" : "schedule", r.Skipped, r.JobId, j?.State.ToWire(), outcome, j?.Attempt,
            j?.RunAt, j?.StartedAt, j?.FinishedAt, duration, r.CreatedAt, null);
    }
}

/// <summary>A description of a cron expression or interval, and its next fire times (UTC, and local to the time zone).</summary>
public sealed record SchedulePreviewDto(string Description, string Timezone, IReadOnlyList<DateTimeOffset> Next, IReadOnlyList<string> NextLocal);

/// <summary>
/// Schedules: create, list, get, replace, patch, delete, trigger, pause, resume, run history, and a preview of a cron
/// expression. Addressed by name within the organization.
/// </summary>
public static class SchedulesApi
{
    public const int MaxJitterMs = 3_600_000;
    public const long MinEveryMs = 1_000;
    public const long MaxEveryMs = 366L * 24 * 3600 * 1000;

    public static RouteGroupBuilder MapSchedulesApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/schedules").WithTags("Schedules");
        g.MapGet("/", List).WithName("ListSchedules").RequireAuthorization(Policies.Read);
        g.MapPost("/", Create).WithName("CreateSchedule").RequireAuthorization(Policies.SchedulesWrite).Audited("schedule.create");
        g.MapGet("/preview", Preview).WithName("PreviewSchedule").RequireAuthorization(Policies.Read);
        g.MapGet("/{name}", Get).WithName("GetSchedule").RequireAuthorization(Policies.Read);
        g.MapPut("/{name}", Put).WithName("PutSchedule").RequireAuthorization(Policies.SchedulesWrite).Audited("schedule.upsert");
        g.MapPatch("/{name}", Patch).WithName("PatchSchedule").RequireAuthorization(Policies.SchedulesWrite).Audited("schedule.update");
        g.MapDelete("/{name}", Delete).WithName("DeleteSchedule").RequireAuthorization(Policies.SchedulesWrite).Audited("schedule.delete");
        g.MapPost("/{name}/trigger", Trigger).WithName("TriggerSchedule").RequireAuthorization(Policies.SchedulesWrite).Audited("schedule.trigger");
        g.MapPost("/{name}/pause", Pause).WithName("PauseSchedule").RequireAuthorization(Policies.SchedulesWrite).Audited("schedule.pause");
        g.MapPost("/{name}/resume", Resume).WithName("ResumeSchedule").RequireAuthorization(Policies.SchedulesWrite).Audited("schedule.resume");
        g.MapGet("/{name}/runs", Runs).WithName("ListScheduleRuns").RequireAuthorization(Policies.Read);
        return api;
    }

    /// <summary>The services the handlers that change schedules use.</summary>
    public sealed record Deps(IKairosStore Store, Scheduler Scheduler, EventBus Events, ServerOptions Options, TimeProvider Time);

    public static async Task<Results<Ok<ListResponse<ScheduleDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.Schedules.ListAsync(new ListSchedulesParams(http.User.OrganizationId()) { Limit = n, Cursor = cursor }, http.RequestAborted);
            return TypedResults.Ok(new ListResponse<ScheduleDto>([.. page.Items.Select(ScheduleDto.From)], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<ScheduleDto>, ProblemHttpResult>> Get(string name, HttpContext http, IKairosStore store)
    {
        var s = await store.Schedules.GetAsync(new ScheduleParams(http.User.OrganizationId(), name), http.RequestAborted);
        return s is null ? NotFound(name) : TypedResults.Ok(ScheduleDto.From(s));
    }

    public static async Task<Results<Created<ScheduleDto>, ValidationProblem, ProblemHttpResult>> Create(
        ScheduleRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        var v = new Validation();
        string? tooLarge = null;
        var d = ToDefinition(request, null, v, deps.Time.GetUtcNow(), deps.Options.MaxPayloadBytes, ref tooLarge);
        if (tooLarge is not null) return Problems.TooLarge(tooLarge);
        if (d is null) return Problems.Invalid(v);
        var org = http.User.OrganizationId();
        if (await MissingTemplateAsync(d, org, deps, http.RequestAborted) is { } missing) return missing;
        var created = await deps.Store.Schedules.CreateAsync(new CreateScheduleParams(org, d, request.Paused ?? false, request.PauseReason), http.RequestAborted);
        if (created is null) return Problems.Conflict($"A schedule named '{d.Name}' exists already; PUT /api/v1/schedules/{d.Name} replaces it.");
        Changed(deps, "schedule.created", created);
        return TypedResults.Created($"/api/v1/schedules/{Uri.EscapeDataString(created.Name)}", ScheduleDto.From(created));
    }

    /// <summary>Creates the schedule or replaces its definition: a field left out takes its default. The pause state changes only when named.</summary>
    public static async Task<Results<Created<ScheduleDto>, Ok<ScheduleDto>, ValidationProblem, ProblemHttpResult>> Put(
        string name, ScheduleRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, deps.Store, ManifestKind.Schedule, name) is { } refused) return refused;
        var v = new Validation();
        string? tooLarge = null;
        var d = ToDefinition(request, name, v, deps.Time.GetUtcNow(), deps.Options.MaxPayloadBytes, ref tooLarge);
        if (tooLarge is not null) return Problems.TooLarge(tooLarge);
        if (d is null) return Problems.Invalid(v);
        var org = http.User.OrganizationId();
        if (await MissingTemplateAsync(d, org, deps, http.RequestAborted) is { } missing) return missing;
        // Update first; when there is none, create (and if another request created it in between, update that).
        for (var round = 0; round < 2; round++)
        {
            if (await deps.Store.Schedules.UpdateAsync(new UpdateScheduleParams(org, d, request.Paused, request.PauseReason), http.RequestAborted) is { } updated)
            {
                Changed(deps, "schedule.updated", updated);
                return TypedResults.Ok(ScheduleDto.From(updated));
            }
            if (await deps.Store.Schedules.CreateAsync(new CreateScheduleParams(org, d, request.Paused ?? false, request.PauseReason), http.RequestAborted) is { } created)
            {
                Changed(deps, "schedule.created", created);
                return TypedResults.Created($"/api/v1/schedules/{Uri.EscapeDataString(created.Name)}", ScheduleDto.From(created));
            }
        }
        return Problems.Conflict($"Schedule '{name}' kept changing; try again.");
    }

    /// <summary>Changes the fields the body names (a JSON merge patch onto the schedule as GET shows it): null clears a field.</summary>
    public static async Task<Results<Ok<ScheduleDto>, ValidationProblem, ProblemHttpResult>> Patch(
        string name, JsonElement body, HttpContext http, [AsParameters] Deps deps)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, deps.Store, ManifestKind.Schedule, name) is { } refused) return refused;
        if (body.ValueKind != JsonValueKind.Object) return Problems.Invalid("body", "must be a JSON object with the fields to change");
        var org = http.User.OrganizationId();
        var current = await deps.Store.Schedules.GetAsync(new ScheduleParams(org, name), http.RequestAborted);
        if (current is null) return NotFound(name);
        var merged = Merge(JsonSerializer.SerializeToNode(ScheduleDto.From(current), Json.Options), JsonNode.Parse(body.GetRawText()));
        ScheduleRequest request;
        try
        {
            request = merged.Deserialize<ScheduleRequest>(Json.Options)!;
        }
        catch (JsonException ex)
        {
            return Problems.Invalid(ApiExceptionHandler.FieldName(ex.Path) is { Length: > 0 } f ? f : "body", "has the wrong type");
        }
        // Only a pause state the body names changes it.
        var paused = body.TryGetProperty("paused", out var p) && p.ValueKind is JsonValueKind.True or JsonValueKind.False ? p.GetBoolean() : (bool?)null;
        var reason = body.TryGetProperty("pause_reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : current.PauseReason;
        var v = new Validation();
        string? tooLarge = null;
        var d = ToDefinition(request, name, v, deps.Time.GetUtcNow(), deps.Options.MaxPayloadBytes, ref tooLarge);
        if (tooLarge is not null) return Problems.TooLarge(tooLarge);
        if (d is null) return Problems.Invalid(v);
        if (await MissingTemplateAsync(d, org, deps, http.RequestAborted) is { } missing) return missing;
        var updated = await deps.Store.Schedules.UpdateAsync(new UpdateScheduleParams(org, d, paused, reason), http.RequestAborted);
        if (updated is null) return NotFound(name);
        Changed(deps, "schedule.updated", updated);
        return TypedResults.Ok(ScheduleDto.From(updated));
    }

    /// <summary>RFC 7396: objects merge key by key, null removes, anything else replaces.</summary>
    internal static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject changes) return patch?.DeepClone();
        var result = target as JsonObject ?? [];
        foreach (var (key, value) in changes)
        {
            var existing = result[key];
            result.Remove(key);
            if (value is not null) result[key] = Merge(existing, value);
        }
        return result;
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, HttpContext http, IKairosStore store, EventBus events)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.Schedule, name) is { } refused) return refused;
        var org = http.User.OrganizationId();
        var s = await store.Schedules.GetAsync(new ScheduleParams(org, name), http.RequestAborted);
        if (s is null || !await store.Schedules.DeleteAsync(new ScheduleParams(org, name), http.RequestAborted)) return NotFound(name);
        events.Publish("schedule.deleted", org, new ScheduleEventData(s.Name, s.Id));
        return TypedResults.NoContent();
    }

    public static async Task<Results<Created<TriggerScheduleResponse>, ProblemHttpResult>> Trigger(string name, HttpContext http, Scheduler scheduler, IKairosStore store)
    {
        var org = http.User.OrganizationId();
        var firing = await scheduler.TriggerAsync(org, name, http.RequestAborted);
        if (firing is null)
        {
            return await store.Schedules.GetAsync(new ScheduleParams(org, name), http.RequestAborted) is { Definition.Workflow: { } template }
                ? Problems.Conflict($"Schedule '{name}' starts workflow template '{template}', which no longer exists.")
                : NotFound(name);
        }
        var run = firing.Runs[0];
        if (run.Workflow is { } w)
        {
            return TypedResults.Created($"/api/v1/workflows/{w.Id}", new TriggerScheduleResponse(firing.Name, run.FireTime, null, WorkflowDto.From(w, full: true)));
        }
        return TypedResults.Created($"/api/v1/jobs/{run.Job!.Id}", new TriggerScheduleResponse(firing.Name, run.FireTime, JobDto.From(run.Job), null));
    }

    public static Task<Results<Ok<ScheduleDto>, ValidationProblem, ProblemHttpResult>> Pause(
        string name, PauseScheduleRequest? request, HttpContext http, [AsParameters] Deps deps) =>
        SetPausedAsync(name, true, request?.Reason, http, deps);

    public static Task<Results<Ok<ScheduleDto>, ValidationProblem, ProblemHttpResult>> Resume(string name, HttpContext http, [AsParameters] Deps deps) =>
        SetPausedAsync(name, false, null, http, deps);

    private static async Task<Results<Ok<ScheduleDto>, ValidationProblem, ProblemHttpResult>> SetPausedAsync(
        string name, bool paused, string? reason, HttpContext http, Deps deps)
    {
        if (reason is { Length: > 500 }) return Problems.Invalid("reason", "must be at most 500 characters");
        var s = await deps.Store.Schedules.SetPausedAsync(new PauseScheduleParams(http.User.OrganizationId(), name, paused, reason), http.RequestAborted);
        if (s is null) return NotFound(name);
        Changed(deps, paused ? "schedule.paused" : "schedule.resumed", s);
        return TypedResults.Ok(ScheduleDto.From(s));
    }

    public static async Task<Results<Ok<ListResponse<ScheduleRunDto>>, ValidationProblem, ProblemHttpResult>> Runs(
        string name, HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.Schedules.ListRunsAsync(new ListScheduleRunsParams(http.User.OrganizationId(), name) { Limit = n, Cursor = cursor }, http.RequestAborted);
            if (page is null) return NotFound(name);
            return TypedResults.Ok(new ListResponse<ScheduleRunDto>([.. page.Items.Select(ScheduleRunDto.From)], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    /// <summary>
    /// <c>GET /schedules/preview?cron=...&amp;timezone=...</c> (or <c>every_ms=...</c>): a description and the next fire
    /// times (<c>count</c>, default 10). Errors name <c>cron</c> (with the field and position) or <c>timezone</c>.
    /// </summary>
    public static Results<Ok<SchedulePreviewDto>, ValidationProblem> Preview(
        string? cron, string? timezone, [FromQuery(Name = "every_ms")] string? everyMs, string? count, TimeProvider time)
    {
        var v = new Validation();
        long? every = null;
        if (everyMs is not null)
        {
            if (long.TryParse(everyMs, NumberStyles.None, CultureInfo.InvariantCulture, out var e)) every = e;
            else v.Add("every_ms", "must be a whole number of milliseconds");
        }
        var n = 10;
        if (count is not null && !(int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out n) && n is >= 1 and <= 100))
        {
            v.Add("count", "must be a whole number between 1 and 100");
        }
        var zone = string.IsNullOrEmpty(timezone) ? "UTC" : timezone;
        ValidateTiming(cron, every, zone, time.GetUtcNow(), v, out var tz);
        if (!v.Ok) return Problems.Invalid(v);
        var d = new ScheduleDefinition { Name = "preview", Cron = every is null ? cron : null, EveryMs = every, TimeZone = zone, Job = new JobTemplate { Queue = "-", Type = "-" } };
        var next = SchedulePlanner.Preview(d, time.GetUtcNow(), n);
        var local = next.Select(t => TimeZoneInfo.ConvertTime(t, tz!).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture)).ToList();
        return TypedResults.Ok(new SchedulePreviewDto(Describe(d.Cron, d.EveryMs), zone, next, local));
    }

    /// <summary>"At 09:00, Monday through Friday", "Every 15 minutes".</summary>
    public static string Describe(string? cron, long? everyMs) =>
        everyMs is { } ms ? "Every " + ScheduleTiming.DescribeInterval(ms) : CronDescription.Describe(cron!);

    private static void ValidateTiming(string? cron, long? everyMs, string zone, DateTimeOffset now, Validation v, out TimeZoneInfo? tz)
    {
        if (!ScheduleTiming.TryFindTimeZone(zone, out tz, out var zoneError)) v.Add("timezone", zoneError!);
        if (cron is not null && everyMs is not null)
        {
            v.Add("cron", "give cron or every_ms, not both");
            return;
        }
        if (everyMs is { } ms)
        {
            if (ms < MinEveryMs || ms > MaxEveryMs) v.Add("every_ms", $"must be between {MinEveryMs} and {MaxEveryMs} (1 second to 366 days)");
            return;
        }
        if (cron is null)
        {
            v.Add("cron", "give a cron expression (e.g. \"0 9 * * 1-5\" or \"@daily\") or every_ms");
            return;
        }
        if (!ScheduleTiming.TryParseCron(cron, out var expression, out var error)) v.Add("cron", error!);
        else if (tz is not null && ScheduleTiming.ForCron(expression!, tz).Next(now, inclusive: false) is null)
        {
            v.Add("cron", "never matches a date (e.g. day 31 of February)");
        }
    }

    /// <summary>
    /// Validates a request into a definition; field names as in the request (<c>job.queue</c>). Needs no store: manifests
    /// are checked with it offline.
    /// </summary>
    public static ScheduleDefinition? ToDefinition(ScheduleRequest r, string? pathName, Validation v, DateTimeOffset now, int maxPayloadBytes, ref string? tooLarge)
    {
        var name = r.Name ?? pathName;
        if (pathName is not null && r.Name is not null && r.Name != pathName) v.Add("name", $"must be \"{pathName}\" as in the path, or left out (a schedule is not renamed)");
        v.PathName("name", name);
        if (name == "preview") v.Add("name", "\"preview\" is reserved");
        var zone = string.IsNullOrEmpty(r.Timezone) ? "UTC" : r.Timezone;
        ValidateTiming(r.Cron, r.EveryMs, zone, now, v, out _);

        OverlapPolicy overlap = default;
        if (r.Overlap is not null && !ScheduleNames.TryParseOverlap(r.Overlap, out overlap)) v.Add("overlap", "must be one of allow, skip, replace");
        var catchUp = CatchUpPolicy.Once;
        if (r.CatchUp is not null && !ScheduleNames.TryParseCatchUp(r.CatchUp, out catchUp)) v.Add("catch_up", "must be one of skip, once, all");
        v.Range("catch_up_limit", r.CatchUpLimit, 1, ScheduleDefinition.MaxCatchUpLimit);
        v.Range("jitter_ms", r.JitterMs, 0, MaxJitterMs);
        if (r.StartAt is { } start && r.EndAt is { } end && end <= start) v.Add("end_at", "must be after start_at");
        if (r.PauseReason is { Length: > 500 }) v.Add("pause_reason", "must be at most 500 characters");

        NewJob? job = null;
        if (r.Workflow is not null)
        {
            if (r.Job is not null) v.Add("workflow", "give job (a job template) or workflow (a workflow template's name), not both");
            else v.PathName("workflow", r.Workflow);
            if (r.JitterMs is > 0) v.Add("jitter_ms", "applies to job templates only: a workflow's root steps start when it fires");
        }
        else if (r.Job is not { } t) v.Add("job", "is required: {queue, type, payload?, priority?, max_attempts?, timeout_ms?, tags?}, or workflow: a workflow template's name");
        else
        {
            var asJob = new CreateJobRequest(t.Queue, t.Type, t.Payload, t.Priority, null, null, t.MaxAttempts, t.TimeoutMs, null, t.Tags);
            job = asJob.ToNewJob("job.", now, v, maxPayloadBytes, ref tooLarge);
        }
        if (!v.Ok || (job is null && r.Workflow is null) || tooLarge is not null) return null;
        return new ScheduleDefinition
        {
            Name = name!,
            Cron = r.EveryMs is null ? r.Cron!.Trim() : null,
            EveryMs = r.EveryMs,
            TimeZone = zone,
            Job = job is null ? null : JobTemplate.From(job),
            Workflow = r.Workflow,
            Overlap = overlap,
            CatchUp = catchUp,
            CatchUpLimit = r.CatchUpLimit ?? ScheduleDefinition.DefaultCatchUpLimit,
            JitterMs = r.JitterMs ?? 0,
            StartAt = r.StartAt,
            EndAt = r.EndAt,
        };
    }

    /// <summary>A 400 naming <c>workflow</c> when the definition starts a workflow template the organization does not have.</summary>
    private static async Task<ValidationProblem?> MissingTemplateAsync(ScheduleDefinition d, Guid org, Deps deps, CancellationToken cancellationToken) =>
        d.Workflow is { } name && await deps.Store.WorkflowTemplates.GetAsync(new WorkflowTemplateParams(org, name), cancellationToken) is null
            ? Problems.Invalid("workflow", $"no workflow template '{name}' (PUT /api/v1/workflow-templates/{name} makes one)")
            : null;

    private static void Changed(Deps deps, string type, Schedule s)
    {
        deps.Events.Publish(type, s.OrganizationId, new ScheduleEventData(s.Name, s.Id, s.Paused ? s.PauseReason : null));
        if (!s.Paused) deps.Scheduler.WakeAt(s.NextFireAt);
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"No schedule '{name}'.");
}
