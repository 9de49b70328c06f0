using Kairos.Core.Alerts;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

/// <summary>
/// A maintenance window: <c>rule</c> (a rule's name; left out: every rule of the organization), <c>starts_at</c>
/// (default now), and <c>ends_at</c> or <c>duration_ms</c>. While it lasts the rule opens no incident and notifies nobody.
/// </summary>
public sealed record MaintenanceWindowRequest(string? Rule, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, long? DurationMs, string? Reason);

public sealed record MaintenanceWindowDto(Guid Id, string? Rule, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string? Reason, bool Active, DateTimeOffset CreatedAt)
{
    public static MaintenanceWindowDto From(MaintenanceWindow w, DateTimeOffset now) =>
        new(w.Id, w.Rule, w.StartsAt, w.EndsAt, w.Reason, w.StartsAt <= now && now < w.EndsAt, w.CreatedAt);
}

/// <summary>Maintenance windows: those not yet ended (add <c>?all=true</c> for past ones too), create, delete.</summary>
public static class MaintenanceWindowsApi
{
    private static readonly TimeSpan MaxLength = TimeSpan.FromDays(366);

    public static RouteGroupBuilder MapMaintenanceWindowsApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/maintenance-windows").WithTags("Alerts");
        g.MapGet("/", List).WithName("ListMaintenanceWindows").RequireAuthorization(Policies.Read);
        g.MapPost("/", Create).WithName("CreateMaintenanceWindow").RequireAuthorization(Policies.AlertsManage).Audited("maintenance_window.create");
        g.MapDelete("/{id}", Delete).WithName("DeleteMaintenanceWindow").RequireAuthorization(Policies.AlertsManage).Audited("maintenance_window.delete");
        return api;
    }

    public static async Task<Ok<ListResponse<MaintenanceWindowDto>>> List(HttpContext http, IKairosStore store, TimeProvider time, bool? all)
    {
        var now = time.GetUtcNow();
        var windows = await store.Alerts.ListWindowsAsync(new ListWindowsParams(http.User.OrganizationId(), all == true ? null : now), http.RequestAborted);
        return TypedResults.Ok(new ListResponse<MaintenanceWindowDto>([.. windows.Select(w => MaintenanceWindowDto.From(w, now))], null));
    }

    public static async Task<Results<Created<MaintenanceWindowDto>, ValidationProblem>> Create(
        MaintenanceWindowRequest request, HttpContext http, IKairosStore store, TimeProvider time)
    {
        var org = http.User.OrganizationId();
        var now = time.GetUtcNow();
        var v = new Validation();
        var start = request.StartsAt ?? now;
        DateTimeOffset end = default;
        if (request.EndsAt is { } e && request.DurationMs is not null) v.Add("ends_at", "give ends_at or duration_ms, not both");
        else if (request.EndsAt is { } ends) end = ends;
        else if (request.DurationMs is { } ms and > 0) end = start + TimeSpan.FromMilliseconds(Math.Min(ms, (long)MaxLength.TotalMilliseconds + 1));
        else v.Add(request.DurationMs is null ? "ends_at" : "duration_ms", request.DurationMs is null ? "give ends_at or duration_ms" : "must be positive");
        if (v.Ok && end <= start) v.Add("ends_at", "must be after starts_at");
        if (v.Ok && end <= now) v.Add("ends_at", "must be in the future");
        if (v.Ok && end - start > MaxLength) v.Add("ends_at", "a window lasts at most 366 days");
        v.Name("reason", request.Reason, 500);
        if (request.Rule is { } rule && await store.Alerts.GetRuleAsync(new NamedParams(org, rule), http.RequestAborted) is null) v.Add("rule", $"no rule '{rule}'");
        if (!v.Ok) return Problems.Invalid(v);
        var w = await store.Alerts.CreateWindowAsync(new CreateWindowParams(org, request.Rule, start, end, request.Reason), http.RequestAborted);
        return TypedResults.Created($"/api/v1/maintenance-windows/{w.Id}", MaintenanceWindowDto.From(w, now));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, HttpContext http, IKairosStore store) =>
        Guid.TryParse(id, out var g) && await store.Alerts.DeleteWindowAsync(new WindowParams(http.User.OrganizationId(), g), http.RequestAborted)
            ? TypedResults.NoContent()
            : Problems.NotFound($"No maintenance window {id}.");
}
