using Kairos.Core.Audit;
using Kairos.Core.Storage;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Kairos.Server.Apis;

/// <param name="ActorName">An email, or an API key's name and visible prefix.</param>
/// <param name="Status">The HTTP status the action was answered with.</param>
public sealed record AuditEntryDto(
    Guid Id, Guid? OrganizationId, DateTimeOffset Time, string ActorType, Guid? ActorId, string? ActorName, string Action,
    string? TargetType, string? TargetId, string? Ip, string? RequestId, int Status, RawJson? Details)
{
    public static AuditEntryDto From(AuditEntry e) => new(
        e.Id, e.OrganizationId, e.Time, e.ActorType.Name(), e.ActorId, e.ActorName, e.Action, e.TargetType, e.TargetId, e.Ip, e.RequestId,
        e.Status, e.Details is { } d ? new RawJson(d) : null);
}

/// <summary>
/// The organization's audit log: read only (there is no endpoint that changes or removes an entry). Newest first;
/// filters <c>actor_type</c>, <c>actor_id</c>, <c>action</c> (exact, or <c>queue.*</c> for every queue action),
/// <c>target_type</c>, <c>target_id</c>, <c>since</c> (inclusive) and <c>until</c> (exclusive).
/// </summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/audit").WithTags("Audit").RequireAuthorization(Policies.AuditRead);
        g.MapGet("/", List).WithName("ListAudit");
        g.MapGet("/{id}", Get).WithName("GetAuditEntry");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<AuditEntryDto>>, ValidationProblem>> List(
        HttpContext http, IKairosStore store,
        [FromQuery(Name = "actor_type")] string? actorType, [FromQuery(Name = "actor_id")] string? actorId, string? action,
        [FromQuery(Name = "target_type")] string? targetType, [FromQuery(Name = "target_id")] string? targetId,
        string? since, string? until, string? limit, string? cursor)
    {
        var v = new Validation();
        AuditActorType? type = null;
        if (actorType is not null)
        {
            if (AuditActorTypes.TryParse(actorType, out var t)) type = t;
            else v.Add("actor_type", "must be one of user, api_key, system");
        }
        Guid? actor = null;
        if (actorId is not null)
        {
            if (Guid.TryParse(actorId, out var a)) actor = a;
            else v.Add("actor_id", "must be a user's or an API key's id");
        }
        if (action is { Length: 0 or > 200 }) v.Add("action", "must be an action such as queue.pause, or a prefix such as queue.*");
        var from = JobsApi.ParseTime(since, "since", v);
        var to = JobsApi.ParseTime(until, "until", v);
        var n = JobsApi.ParseLimit(limit, v);
        try
        {
            AuditCursor.Decode(cursor);
        }
        catch (ArgumentException)
        {
            v.Add("cursor", "is not a cursor this server gave out");
        }
        if (!v.Ok) return Problems.Invalid(v);
        var page = await store.Audit.ListAsync(new ListAuditParams(http.User.OrganizationId())
        {
            ActorType = type,
            ActorId = actor,
            Action = action,
            TargetType = targetType,
            TargetId = targetId,
            Since = from,
            Until = to,
            Limit = n,
            Cursor = cursor,
        }, http.RequestAborted);
        return TypedResults.Ok(new ListResponse<AuditEntryDto>(page.Items.Select(AuditEntryDto.From).ToList(), page.NextCursor));
    }

    public static async Task<Results<Ok<AuditEntryDto>, ProblemHttpResult>> Get(string id, HttpContext http, IKairosStore store) =>
        Guid.TryParse(id, out var entryId) && await store.Audit.GetAsync(new AuditEntryParams(http.User.OrganizationId(), entryId), http.RequestAborted) is { } entry
            ? TypedResults.Ok(AuditEntryDto.From(entry))
            : Problems.NotFound($"No audit entry '{id}'.");
}
