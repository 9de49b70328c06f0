using Kairos.Core.Alerts;
using Kairos.Core.Manifests;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>
/// An alert rule to create (POST) or create or replace (PUT); fields left out take their defaults. <c>kind</c>:
/// <c>job_failed</c> (threshold failures within window_ms, default 1 in 5 min), <c>failure_rate</c> (rate_percent over
/// window_ms, with at least min_jobs finished), <c>queue_backlog</c> (threshold ready jobs and/or max_age_ms of the
/// oldest), <c>worker_lost</c>, <c>monitor</c> (monitor_states of a monitor, or of all), <c>schedule_misfire</c>.
/// </summary>
public sealed record AlertRuleRequest(
    string? Name,
    string? Kind,
    string? Queue,
    string? Type,
    long? Threshold,
    int? WindowMs,
    double? RatePercent,
    int? MinJobs,
    long? MaxAgeMs,
    List<string>? MonitorStates,
    string? Monitor,
    string? Schedule,
    List<string>? Channels,
    int? CooldownMs,
    bool? Enabled);

public sealed record AlertRuleDto(
    Guid Id,
    string Name,
    string Kind,
    string? Queue,
    string? Type,
    long? Threshold,
    int WindowMs,
    double? RatePercent,
    int MinJobs,
    long? MaxAgeMs,
    IReadOnlyList<string> MonitorStates,
    string? Monitor,
    string? Schedule,
    IReadOnlyList<string> Channels,
    int CooldownMs,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static AlertRuleDto From(AlertRule r)
    {
        var d = r.Definition;
        return new AlertRuleDto(r.Id, d.Name, d.Kind.ToWire(), d.Queue, d.JobType, d.Threshold, d.WindowMs, d.RatePercent, d.MinJobs, d.MaxAgeMs,
            d.MonitorStates, d.Monitor, d.Schedule, d.Channels, d.CooldownMs, d.Enabled, r.CreatedAt, r.UpdatedAt);
    }
}

/// <summary>Alert rules: addressed by name within the organization. Reading needs <c>read</c>, changes <c>alerts.manage</c>.</summary>
public static class AlertRulesApi
{
    public static RouteGroupBuilder MapAlertRulesApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/alert-rules").WithTags("Alerts");
        g.MapGet("/", List).WithName("ListAlertRules").RequireAuthorization(Policies.Read);
        g.MapPost("/", Create).WithName("CreateAlertRule").RequireAuthorization(Policies.AlertsManage).Audited("alert_rule.create");
        g.MapGet("/{name}", Get).WithName("GetAlertRule").RequireAuthorization(Policies.Read);
        g.MapPut("/{name}", Put).WithName("PutAlertRule").RequireAuthorization(Policies.AlertsManage).Audited("alert_rule.upsert");
        g.MapDelete("/{name}", Delete).WithName("DeleteAlertRule").RequireAuthorization(Policies.AlertsManage).Audited("alert_rule.delete");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<AlertRuleDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        if (!v.Ok) return Problems.Invalid(v);
        try
        {
            var page = await store.Alerts.ListRulesAsync(new ListNamedParams(http.User.OrganizationId()) { Limit = n, Cursor = cursor }, http.RequestAborted);
            return TypedResults.Ok(new ListResponse<AlertRuleDto>([.. page.Items.Select(AlertRuleDto.From)], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<AlertRuleDto>, ProblemHttpResult>> Get(string name, HttpContext http, IKairosStore store) =>
        await store.Alerts.GetRuleAsync(new NamedParams(http.User.OrganizationId(), name), http.RequestAborted) is { } r
            ? TypedResults.Ok(AlertRuleDto.From(r))
            : NotFound(name);

    public static async Task<Results<Created<AlertRuleDto>, ValidationProblem, ProblemHttpResult>> Create(AlertRuleRequest request, HttpContext http, IKairosStore store)
    {
        var org = http.User.OrganizationId();
        var (d, v) = await CheckAsync(request, request.Name, org, store, http.RequestAborted);
        if (d is null) return Problems.Invalid(v);
        var created = await store.Alerts.CreateRuleAsync(new SaveRuleParams(org, d), http.RequestAborted);
        if (created is null) return Problems.Conflict($"A rule named '{d.Name}' exists already; PUT /api/v1/alert-rules/{d.Name} replaces it.");
        return TypedResults.Created($"/api/v1/alert-rules/{Uri.EscapeDataString(created.Name)}", AlertRuleDto.From(created));
    }

    public static async Task<Results<Created<AlertRuleDto>, Ok<AlertRuleDto>, ValidationProblem, ProblemHttpResult>> Put(
        string name, AlertRuleRequest request, HttpContext http, IKairosStore store)
    {
        var org = http.User.OrganizationId();
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.AlertRule, name) is { } refused) return refused;
        if (request.Name is { } n && n != name) return Problems.Invalid("name", "must be the name in the path (or left out)");
        var (d, v) = await CheckAsync(request, name, org, store, http.RequestAborted);
        if (d is null) return Problems.Invalid(v);
        if (await store.Alerts.UpdateRuleAsync(new SaveRuleParams(org, d), http.RequestAborted) is { } updated) return TypedResults.Ok(AlertRuleDto.From(updated));
        var created = await store.Alerts.CreateRuleAsync(new SaveRuleParams(org, d), http.RequestAborted);
        if (created is null) return Problems.Conflict($"Rule '{name}' was created meanwhile; try again.");
        return TypedResults.Created($"/api/v1/alert-rules/{Uri.EscapeDataString(created.Name)}", AlertRuleDto.From(created));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, HttpContext http, IKairosStore store)
    {
        if (await ManifestsApi.RefuseIfManagedAsync(http, store, ManifestKind.AlertRule, name) is { } refused) return refused;
        return await store.Alerts.DeleteRuleAsync(new NamedParams(http.User.OrganizationId(), name), http.RequestAborted) ? TypedResults.NoContent() : NotFound(name);
    }

    private static async Task<(AlertRuleDefinition? Definition, Validation V)> CheckAsync(AlertRuleRequest r, string? name, Guid org, IKairosStore store, CancellationToken cancellationToken)
    {
        var v = new Validation();
        var d = ToDefinition(r, name, v);
        if (d is null) return (null, v);
        await CheckChannelsAsync(d, "channels", org, store, v, cancellationToken);
        return (v.Ok ? d : null, v);
    }

    /// <summary>Validates a request into a definition, all but its channels' existence (<see cref="CheckChannelsAsync"/>); needs no store.</summary>
    public static AlertRuleDefinition? ToDefinition(AlertRuleRequest r, string? name, Validation v)
    {
        if (!AlertRuleKinds.TryParse(r.Kind, out var kind)) v.Add("kind", "one of " + string.Join(", ", AlertRuleKinds.Wire));
        v.Name("queue", r.Queue);
        v.Name("type", r.Type);
        if (!v.Ok) return null;
        var defaults = new AlertRuleDefinition { Name = name ?? "", Kind = kind };
        var d = defaults with
        {
            Queue = r.Queue,
            JobType = r.Type,
            Threshold = r.Threshold,
            WindowMs = r.WindowMs ?? defaults.WindowMs,
            RatePercent = r.RatePercent,
            MinJobs = r.MinJobs ?? defaults.MinJobs,
            MaxAgeMs = r.MaxAgeMs,
            MonitorStates = r.MonitorStates is { } states ? [.. states.Distinct()] : defaults.MonitorStates,
            Monitor = r.Monitor,
            Schedule = r.Schedule,
            Channels = r.Channels is { } channels ? [.. channels.Distinct()] : [],
            CooldownMs = r.CooldownMs ?? defaults.CooldownMs,
            Enabled = r.Enabled ?? true,
        };
        foreach (var (field, messages) in d.Validate())
        {
            foreach (var m in messages) v.Add(field == "job_type" ? "type" : field, m);
        }
        return v.Ok ? d : null;
    }

    /// <summary>Adds an error under <paramref name="field"/> for each channel of the rule the organization does not have.</summary>
    public static async Task CheckChannelsAsync(AlertRuleDefinition d, string field, Guid org, IKairosStore store, Validation v, CancellationToken cancellationToken)
    {
        foreach (var channel in d.Channels)
        {
            if (await store.Alerts.GetChannelAsync(new NamedParams(org, channel), cancellationToken) is null) v.Add(field, $"no channel '{channel}'");
        }
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"No alert rule '{name}'.");
}
