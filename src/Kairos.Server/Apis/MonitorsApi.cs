using System.Text.Json;
using System.Text.Json.Nodes;
using Kairos.Core.Auth;
using Kairos.Core.Events;
using Kairos.Core.Manifests;
using Kairos.Core.Monitors;
using Kairos.Core.Schedules;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>A monitor to create, or what a <c>PATCH</c> merges into. Unknown fields are ignored.</summary>
public sealed record MonitorRequest(
    string? Name,
    string? Slug,
    long? PeriodSeconds,
    string? Cron,
    string? Timezone,
    int? GraceSeconds,
    int? MaxRuntimeSeconds,
    int? StartGraceSeconds,
    int? FailureThreshold,
    List<string>? Tags,
    bool? Paused,
    string? PauseReason);

/// <summary>
/// A monitor as the API shows it: its definition, where it stands, and (to those who may change monitors: members and
/// up, admin keys) its ping key and URL, the only credential a pinger needs. <c>ping_key</c> is null for readers, and
/// when the server can no longer unseal it (regenerate it).
/// </summary>
public sealed record MonitorDto(
    Guid Id,
    string Name,
    string Slug,
    long? PeriodSeconds,
    string? Cron,
    string Timezone,
    string Description,
    int GraceSeconds,
    int? MaxRuntimeSeconds,
    int? StartGraceSeconds,
    int FailureThreshold,
    IReadOnlyList<string> Tags,
    string State,
    string? Reason,
    DateTimeOffset? StateChangedAt,
    bool Paused,
    string? PauseReason,
    DateTimeOffset? LastPingAt,
    DateTimeOffset? LastStartAt,
    DateTimeOffset? LastFinishAt,
    DateTimeOffset? NextDueAt,
    DateTimeOffset? RunningSince,
    int ConsecutiveFailures,
    string? PingKey,
    string? PingUrl,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static MonitorDto From(CheckInMonitor m, string? pingKey, string? baseUrl)
    {
        var d = m.Definition;
        var s = m.Status;
        return new MonitorDto(m.Id, d.Name, d.Slug, d.PeriodSeconds, d.Cron, d.TimeZone, MonitorsApi.Describe(d), d.GraceSeconds, d.MaxRuntimeSeconds,
            d.StartGraceSeconds, d.FailureThreshold, d.Tags, s.State.ToWire(), s.Reason, s.StateChangedAt, s.State == MonitorState.Paused, m.PauseReason,
            s.LastPingAt, s.LastStartAt, s.LastFinishAt, s.DueAt, s.RunningSince, s.ConsecutiveFailures, pingKey,
            pingKey is null || baseUrl is null ? null : $"{baseUrl}/ping/{pingKey}", m.CreatedAt, m.UpdatedAt);
    }
}

/// <summary>One run: <c>running</c>, <c>success</c>, <c>fail</c> or <c>timeout</c>, with its times, duration, exit code, log and client.</summary>
public sealed record MonitorRunDto(
    long Id,
    string? Rid,
    string Outcome,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long? DurationMs,
    int? ExitCode,
    string? Log,
    bool LogTruncated,
    string? SourceIp,
    string? UserAgent,
    DateTimeOffset CreatedAt)
{
    public static MonitorRunDto From(MonitorRun r) =>
        new(r.Id, r.Rid, r.Outcome.ToWire(), r.StartedAt, r.FinishedAt, r.DurationMs, r.ExitCode, r.Log, r.LogTruncated, r.SourceIp, r.UserAgent, r.CreatedAt);
}

public sealed record PauseMonitorRequest(string? Reason);

/// <summary>The organization's ping key of slug URLs: <c>{ping_url_prefix}/{slug}</c>. Null until one is made.</summary>
public sealed record OrganizationPingKeyDto(string? PingKey, string? PingUrlPrefix, DateTimeOffset? CreatedAt);

/// <summary>
/// Check-in monitors: create, list, get, patch, delete, pause, resume, their runs, a new ping key; and the
/// organization's ping key of slug URLs. Addressed by name within the organization.
/// </summary>
public static class MonitorsApi
{
    public const long MinPeriodSeconds = 60;
    public const long MaxSeconds = 366L * 24 * 3600;
    public const string PingKeyPath = "ping-key";

    public static RouteGroupBuilder MapMonitorsApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/monitors").WithTags("Monitors");
        g.MapGet("/", List).WithName("ListMonitors").RequireAuthorization(Policies.Read);
        g.MapPost("/", Create).WithName("CreateMonitor").RequireAuthorization(Policies.MonitorsWrite).Audited("monitor.create");
        g.MapGet("/" + PingKeyPath, GetOrganizationKey).WithName("GetOrganizationPingKey").RequireAuthorization(Policies.MonitorsWrite);
        g.MapPost("/" + PingKeyPath, RegenerateOrganizationKey).WithName("RegenerateOrganizationPingKey").RequireAuthorization(Policies.MonitorsWrite)
            .Audited("monitor.organization_ping_key", targetType: "organization");
        g.MapGet("/{name}", Get).WithName("GetMonitor").RequireAuthorization(Policies.Read);
        g.MapPatch("/{name}", Patch).WithName("PatchMonitor").RequireAuthorization(Policies.MonitorsWrite).Audited("monitor.update");
        g.MapDelete("/{name}", Delete).WithName("DeleteMonitor").RequireAuthorization(Policies.MonitorsWrite).Audited("monitor.delete");
        g.MapPost("/{name}/pause", Pause).WithName("PauseMonitor").RequireAuthorization(Policies.MonitorsWrite).Audited("monitor.pause");
        g.MapPost("/{name}/resume", Resume).WithName("ResumeMonitor").RequireAuthorization(Policies.MonitorsWrite).Audited("monitor.resume");
        g.MapPost("/{name}/ping-key", RegenerateKey).WithName("RegenerateMonitorPingKey").RequireAuthorization(Policies.MonitorsWrite)
            .Audited("monitor.ping_key");
        g.MapGet("/{name}/runs", Runs).WithName("ListMonitorRuns").RequireAuthorization(Policies.Read);
        return api;
    }

    /// <summary>The services the handlers that change monitors use.</summary>
    public sealed record Deps(IKairosStore Store, MonitorWatch Watch, EventBus Events, PingKeys Keys, TimeProvider Time);

    /// <summary>"Every 1 hour", "At 03:00, every day".</summary>
    public static string Describe(MonitorDefinition d) =>
        d.PeriodSeconds is { } s ? "Every " + ScheduleTiming.DescribeInterval(s * 1000) : CronDescription.Describe(d.Cron!);

    /// <summary>The monitor as this caller may see it: the ping key only with <c>monitors.write</c>.</summary>
    private static MonitorDto Show(HttpContext http, PingKeys keys, CheckInMonitor m)
    {
        var key = http.User.Has(Permission.MonitorsWrite) ? keys.Unseal(m.PingKeySealed) : null;
        return MonitorDto.From(m, key, BaseUrl(http));
    }

    private static string BaseUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}";

    public static async Task<Results<Ok<ListResponse<MonitorDto>>, ValidationProblem>> List(
        HttpContext http, IKairosStore store, PingKeys keys, string? limit, string? cursor, string? state)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        MonitorState? only = null;
        if (state is not null)
        {
            if (MonitorNames.TryParseState(state, out var s)) only = s;
            else v.Add("state", "must be one of new, up, late, down, paused");
        }
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.Monitors.ListAsync(new ListMonitorsParams(http.User.OrganizationId()) { Limit = n, Cursor = cursor, State = only }, http.RequestAborted);
            return TypedResults.Ok(new ListResponse<MonitorDto>([.. page.Items.Select(m => Show(http, keys, m))], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<MonitorDto>, ProblemHttpResult>> Get(string name, HttpContext http, IKairosStore store, PingKeys keys)
    {
        var m = await store.Monitors.GetAsync(new MonitorParams(http.User.OrganizationId(), name), http.RequestAborted);
        return m is null ? NotFound(name) : TypedResults.Ok(Show(http, keys, m));
    }

    /// <summary>Creates a monitor; the answer shows its ping key and URL.</summary>
    public static async Task<Results<Created<MonitorDto>, ValidationProblem, ProblemHttpResult>> Create(MonitorRequest request, HttpContext http, [AsParameters] Deps deps)
    {
        var v = new Validation();
        var d = ToDefinition(request, null, v, deps.Time.GetUtcNow());
        if (d is null) return Problems.Invalid(v);
        var org = http.User.OrganizationId();
        var (key, hash, sealedKey) = deps.Keys.NewMonitorKey();
        var created = await deps.Store.Monitors.CreateAsync(new CreateMonitorParams(org, d, hash, sealedKey, request.Paused ?? false, request.PauseReason), http.RequestAborted);
        if (created is null) return Problems.Conflict($"A monitor named '{d.Name}' or with the slug '{d.Slug}' exists already.");
        deps.Events.Publish("monitor.created", org, MonitorEventData.Of(created));
        return TypedResults.Created($"/api/v1/monitors/{Uri.EscapeDataString(created.Name)}", MonitorDto.From(created, key, BaseUrl(http)));
    }

    /// <summary>Changes the fields the body names (a JSON merge patch onto the monitor as GET shows it): null clears a field. The name stays.</summary>
    public static async Task<Results<Ok<MonitorDto>, ValidationProblem, ProblemHttpResult>> Patch(string name, JsonElement body, HttpContext http, [AsParameters] Deps deps)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, deps.Store, ManifestKind.Monitor, name) is { } refused) return refused;
        if (body.ValueKind != JsonValueKind.Object) return Problems.Invalid("body", "must be a JSON object with the fields to change");
        var org = http.User.OrganizationId();
        var current = await deps.Store.Monitors.GetAsync(new MonitorParams(org, name), http.RequestAborted);
        if (current is null) return NotFound(name);
        var merged = SchedulesApi.Merge(JsonSerializer.SerializeToNode(MonitorDto.From(current, null, null), Json.Options), JsonNode.Parse(body.GetRawText()));
        MonitorRequest request;
        try
        {
            request = merged.Deserialize<MonitorRequest>(Json.Options)!;
        }
        catch (JsonException ex)
        {
            return Problems.Invalid(ApiExceptionHandler.FieldName(ex.Path) is { Length: > 0 } f ? f : "body", "has the wrong type");
        }
        var v = new Validation();
        var d = ToDefinition(request, name, v, deps.Time.GetUtcNow());
        if (d is null) return Problems.Invalid(v);
        var updated = await deps.Store.Monitors.UpdateAsync(new UpdateMonitorParams(org, d), http.RequestAborted);
        if (updated is null) return Problems.Conflict($"The slug '{d.Slug}' belongs to another monitor.");
        deps.Events.Publish("monitor.updated", org, MonitorEventData.Of(updated));
        deps.Watch.WakeAt(updated.NextCheckAt);
        return TypedResults.Ok(Show(http, deps.Keys, updated));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, HttpContext http, IKairosStore store, EventBus events)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.Monitor, name) is { } refused) return refused;
        var org = http.User.OrganizationId();
        var m = await store.Monitors.GetAsync(new MonitorParams(org, name), http.RequestAborted);
        if (m is null || !await store.Monitors.DeleteAsync(new MonitorParams(org, name), http.RequestAborted)) return NotFound(name);
        events.Publish("monitor.deleted", org, MonitorEventData.Of(m));
        return TypedResults.NoContent();
    }

    public static Task<Results<Ok<MonitorDto>, ValidationProblem, ProblemHttpResult>> Pause(string name, PauseMonitorRequest? request, HttpContext http, [AsParameters] Deps deps) =>
        SetPausedAsync(name, true, request?.Reason, http, deps);

    public static Task<Results<Ok<MonitorDto>, ValidationProblem, ProblemHttpResult>> Resume(string name, HttpContext http, [AsParameters] Deps deps) =>
        SetPausedAsync(name, false, null, http, deps);

    private static async Task<Results<Ok<MonitorDto>, ValidationProblem, ProblemHttpResult>> SetPausedAsync(string name, bool paused, string? reason, HttpContext http, Deps deps)
    {
        if (reason is { Length: > 500 }) return Problems.Invalid("reason", "must be at most 500 characters");
        var change = await deps.Store.Monitors.SetPausedAsync(new PauseMonitorParams(http.User.OrganizationId(), name, paused, reason), http.RequestAborted);
        if (change is null) return NotFound(name);
        deps.Watch.Publish(change);
        return TypedResults.Ok(Show(http, deps.Keys, change.Monitor));
    }

    /// <summary>Gives the monitor a new ping key: the old URL stops working at once.</summary>
    public static async Task<Results<Ok<MonitorDto>, ProblemHttpResult>> RegenerateKey(string name, HttpContext http, IKairosStore store, PingKeys keys)
    {
        var (key, hash, sealedKey) = keys.NewMonitorKey();
        var m = await store.Monitors.SetPingKeyAsync(new SetMonitorPingKeyParams(http.User.OrganizationId(), name, hash, sealedKey), http.RequestAborted);
        return m is null ? NotFound(name) : TypedResults.Ok(MonitorDto.From(m, key, BaseUrl(http)));
    }

    public static async Task<Results<Ok<ListResponse<MonitorRunDto>>, ValidationProblem, ProblemHttpResult>> Runs(
        string name, HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.Monitors.ListRunsAsync(new ListMonitorRunsParams(http.User.OrganizationId(), name) { Limit = n, Cursor = cursor }, http.RequestAborted);
            if (page is null) return NotFound(name);
            return TypedResults.Ok(new ListResponse<MonitorRunDto>([.. page.Items.Select(MonitorRunDto.From)], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    /// <summary>The organization's ping key of slug URLs (<c>/ping/{key}/{slug}</c>); null fields until one is made.</summary>
    public static async Task<Ok<OrganizationPingKeyDto>> GetOrganizationKey(HttpContext http, IKairosStore store, PingKeys keys)
    {
        var k = await store.Monitors.GetOrganizationPingKeyAsync(http.User.OrganizationId(), http.RequestAborted);
        var key = k is null ? null : keys.Unseal(k.KeySealed);
        return TypedResults.Ok(new OrganizationPingKeyDto(key, key is null ? null : $"{BaseUrl(http)}/ping/{key}", k?.CreatedAt));
    }

    /// <summary>Makes the organization's ping key of slug URLs, or replaces it (the old slug URLs stop working at once).</summary>
    public static async Task<Ok<OrganizationPingKeyDto>> RegenerateOrganizationKey(HttpContext http, IKairosStore store, PingKeys keys)
    {
        var org = http.User.OrganizationId();
        var (key, hash, sealedKey) = keys.NewOrganizationKey();
        var k = await store.Monitors.SetOrganizationPingKeyAsync(new SetOrganizationPingKeyParams(org, hash, sealedKey), http.RequestAborted);
        http.Audit().TargetId = org.ToString();
        return TypedResults.Ok(new OrganizationPingKeyDto(key, $"{BaseUrl(http)}/ping/{key}", k.CreatedAt));
    }

    /// <summary>A slug from a name: lower case, runs of other characters as one '-'.</summary>
    public static string Slugify(string name)
    {
        var chars = new List<char>(name.Length);
        foreach (var c in name.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c) || c == '_') chars.Add(c);
            else if (chars.Count > 0 && chars[^1] != '-') chars.Add('-');
        }
        return new string([.. chars]).Trim('-');
    }

    /// <summary>Validates a request into a definition; field names as in the request. Needs no store (manifests are checked with it offline).</summary>
    public static MonitorDefinition? ToDefinition(MonitorRequest r, string? pathName, Validation v, DateTimeOffset now)
    {
        var name = r.Name ?? pathName;
        if (pathName is not null && r.Name is not null && r.Name != pathName) v.Add("name", $"must be \"{pathName}\" as in the path, or left out (a monitor is not renamed)");
        if (string.IsNullOrEmpty(name)) v.Add("name", "is required");
        else if (name.Length > 200 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':') || !char.IsAsciiLetterOrDigit(name[0]))
        {
            v.Add("name", "must be 1 to 200 letters, digits, '-', '_', '.' or ':', starting with a letter or digit");
        }
        else if (name == PingKeyPath) v.Add("name", $"\"{PingKeyPath}\" is reserved");

        var slug = r.Slug ?? (name is null ? null : Slugify(name));
        if (r.Slug is not null && (slug!.Length is 0 or > 100 || !slug.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_') || !char.IsAsciiLetterOrDigit(slug[0])))
        {
            v.Add("slug", "must be 1 to 100 lower-case letters, digits, '-' or '_', starting with a letter or digit");
        }
        else if (r.Slug is null && name is not null && string.IsNullOrEmpty(slug)) v.Add("slug", "is required: the name makes no slug");

        var zone = string.IsNullOrEmpty(r.Timezone) ? "UTC" : r.Timezone;
        if (!ScheduleTiming.TryFindTimeZone(zone, out var tz, out var zoneError)) v.Add("timezone", zoneError!);
        if (r.PeriodSeconds is not null && r.Cron is not null) v.Add("cron", "give period_seconds or cron, not both");
        else if (r.PeriodSeconds is { } period)
        {
            if (period < MinPeriodSeconds || period > MaxSeconds) v.Add("period_seconds", $"must be between {MinPeriodSeconds} and {MaxSeconds} (1 minute to 366 days)");
        }
        else if (r.Cron is null) v.Add("period_seconds", "give period_seconds (e.g. 3600) or a cron expression (e.g. \"0 3 * * *\")");
        else if (!ScheduleTiming.TryParseCron(r.Cron, out var cron, out var cronError)) v.Add("cron", cronError!);
        else if (tz is not null && ScheduleTiming.ForCron(cron!, tz).Next(now, inclusive: false) is null) v.Add("cron", "never matches a date (e.g. day 31 of February)");

        Seconds(v, "grace_seconds", r.GraceSeconds, 1);
        Seconds(v, "max_runtime_seconds", r.MaxRuntimeSeconds, 1);
        Seconds(v, "start_grace_seconds", r.StartGraceSeconds, 1);
        if (r.StartGraceSeconds is not null && r.Cron is null) v.Add("start_grace_seconds", "applies to cron monitors only (a late start is late for a cron time)");
        v.Range("failure_threshold", r.FailureThreshold, 1, 1000);
        if (r.Tags is { Count: > 50 }) v.Add("tags", "at most 50 tags");
        for (var i = 0; r.Tags is not null && i < r.Tags.Count; i++)
        {
            if (r.Tags[i] is null) v.Add($"tags[{i}]", "must be a string");
            else v.Name($"tags[{i}]", r.Tags[i], 100);
        }
        if (r.PauseReason is { Length: > 500 }) v.Add("pause_reason", "must be at most 500 characters");
        if (!v.Ok) return null;
        return new MonitorDefinition
        {
            Name = name!,
            Slug = slug!,
            PeriodSeconds = r.PeriodSeconds,
            Cron = r.PeriodSeconds is null ? r.Cron!.Trim() : null,
            TimeZone = zone,
            GraceSeconds = r.GraceSeconds ?? MonitorDefinition.DefaultGraceSeconds,
            MaxRuntimeSeconds = r.MaxRuntimeSeconds,
            StartGraceSeconds = r.StartGraceSeconds,
            FailureThreshold = r.FailureThreshold ?? 1,
            Tags = r.Tags ?? [],
        };
    }

    private static void Seconds(Validation v, string field, int? value, int min)
    {
        if (value is { } s && (s < min || s > MaxSeconds)) v.Add(field, $"must be between {min} and {MaxSeconds} seconds");
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"No monitor '{name}'.");
}
