using Kairos.Core.Alerts;
using Kairos.Core.Events;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record IncidentEventDto(DateTimeOffset At, string Kind, string? Message);

/// <summary>An incident: <c>state</c> <c>open</c> or <c>resolved</c>; <c>events</c> (its history) only when read alone.</summary>
public sealed record IncidentDto(
    Guid Id,
    string Rule,
    Guid RuleId,
    string Key,
    string State,
    string Title,
    string? Summary,
    DateTimeOffset OpenedAt,
    DateTimeOffset LastFiredAt,
    DateTimeOffset? ResolvedAt,
    DateTimeOffset? LastNotifiedAt,
    long FireCount,
    IReadOnlyList<IncidentEventDto>? Events)
{
    public static IncidentDto From(Incident i, bool withEvents = false) =>
        new(i.Id, i.RuleName, i.RuleId, i.Key, i.Open ? "open" : "resolved", i.Title, i.Summary, i.OpenedAt, i.LastFiredAt, i.ResolvedAt, i.LastNotifiedAt,
            i.FireCount, withEvents ? [.. i.Events.Select(e => new IncidentEventDto(e.At, e.Kind, e.Message))] : null);
}

/// <summary>Incidents, newest first: filter by <c>state</c> (<c>open</c>, <c>resolved</c>) and <c>rule</c>; resolve one by hand.</summary>
public static class IncidentsApi
{
    public static RouteGroupBuilder MapIncidentsApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/incidents").WithTags("Alerts");
        g.MapGet("/", List).WithName("ListIncidents").RequireAuthorization(Policies.Read);
        g.MapGet("/{id}", Get).WithName("GetIncident").RequireAuthorization(Policies.Read);
        g.MapPost("/{id}/resolve", Resolve).WithName("ResolveIncident").RequireAuthorization(Policies.AlertsManage).Audited("incident.resolve");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<IncidentDto>>, ValidationProblem>> List(
        HttpContext http, IKairosStore store, string? state, string? rule, string? limit, string? cursor)
    {
        var v = new Validation();
        var n = JobsApi.ParseLimit(limit, v);
        bool? open = state switch { null or "" => null, "open" => true, "resolved" => false, _ => null };
        if (state is not (null or "" or "open" or "resolved")) v.Add("state", "open or resolved");
        if (!v.Ok) return Problems.Invalid(v);
        var org = http.User.OrganizationId();
        Guid? ruleId = null;
        if (rule is { Length: > 0 })
        {
            if (await store.Alerts.GetRuleAsync(new NamedParams(org, rule), http.RequestAborted) is not { } r)
            {
                return TypedResults.Ok(new ListResponse<IncidentDto>([], null));
            }
            ruleId = r.Id;
        }
        try
        {
            var page = await store.Alerts.ListIncidentsAsync(new ListIncidentsParams(org) { Open = open, RuleId = ruleId, Limit = n, Cursor = cursor }, http.RequestAborted);
            return TypedResults.Ok(new ListResponse<IncidentDto>([.. page.Items.Select(i => IncidentDto.From(i))], page.NextCursor));
        }
        catch (ArgumentException ex) when (ex.ParamName == "cursor")
        {
            return Problems.Invalid("cursor", "is not a cursor this server gave out");
        }
    }

    public static async Task<Results<Ok<IncidentDto>, ProblemHttpResult>> Get(string id, HttpContext http, IKairosStore store) =>
        Guid.TryParse(id, out var g) && await store.Alerts.GetIncidentAsync(new IncidentParams(http.User.OrganizationId(), g), http.RequestAborted) is { } i
            ? TypedResults.Ok(IncidentDto.From(i, withEvents: true))
            : NotFound(id);

    /// <summary>Resolves an open incident now (a resolve notice goes out as when the condition clears); 409 when already resolved.</summary>
    public static async Task<Results<Ok<IncidentDto>, ProblemHttpResult>> Resolve(
        string id, HttpContext http, IKairosStore store, IAlertNotifier notifier, EventBus events)
    {
        var org = http.User.OrganizationId();
        if (!Guid.TryParse(id, out var g) || await store.Alerts.GetIncidentAsync(new IncidentParams(org, g), http.RequestAborted) is not { } incident) return NotFound(id);
        var by = http.User.Identity?.Name ?? "the API";
        if (await store.Alerts.ResolveAsync(new ResolveIncidentParams(org, g, $"resolved by hand ({by})"), http.RequestAborted) is not { } resolved)
        {
            return Problems.Conflict($"Incident {id} is resolved already.");
        }
        events.Publish("alert.resolved", org, new AlertEventData(resolved.Id, resolved.RuleName, resolved.Key, resolved.Title, "resolved by hand", false,
            resolved.LastNotifiedAt is not null));
        if (await store.Alerts.GetRuleAsync(new NamedParams(org, incident.RuleName), http.RequestAborted) is { } rule)
        {
            await notifier.ResolvedAsync(rule, resolved, http.RequestAborted);
        }
        return TypedResults.Ok(IncidentDto.From((await store.Alerts.GetIncidentAsync(new IncidentParams(org, g), http.RequestAborted))!, withEvents: true));
    }

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No incident {id}.");
}
