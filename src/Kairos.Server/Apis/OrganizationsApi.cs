using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record OrganizationRequest(string? Name);

/// <summary>
/// Organizations: mine (with my role), create (session users; the creator is the owner), rename and delete (owners).
/// Rename and delete act on the current organization only: any other id answers 404.
/// </summary>
public static class OrganizationsApi
{
    public static RouteGroupBuilder MapOrganizationsApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/organizations").WithTags("Organizations");
        g.MapGet("/", List).WithName("ListOrganizations").RequireAuthorization();
        g.MapPost("/", Create).WithName("CreateOrganization").RequireAuthorization().Audited("organization.create");
        g.MapPatch("/{id}", Rename).WithName("RenameOrganization").RequireAuthorization(Policies.OrganizationManage).Audited("organization.rename");
        // The entry of a deletion is written after it, so it outlives the organization's other entries: who deleted it.
        g.MapDelete("/{id}", Delete).WithName("DeleteOrganization").RequireAuthorization(Policies.OrganizationManage).Audited("organization.delete");
        return api;
    }

    public static async Task<Results<Ok<ListResponse<OrganizationDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var (n, after) = Paging.Read(limit, cursor, v);
        if (!v.Ok) return Problems.Invalid(v);
        List<OrganizationDto> all;
        if (http.User.UserId() is { } user)
        {
            var mine = await store.Identity.ListOrganizationsAsync(new UserParams(user), http.RequestAborted);
            all = mine.Select(m => OrganizationDto.From(m.Organization, m.Role)).ToList();
        }
        else
        {
            var org = await store.Identity.GetOrganizationAsync(new OrganizationParams(http.User.OrganizationId()), http.RequestAborted);
            all = org is null ? [] : [OrganizationDto.From(org, null)];
        }
        var (items, next) = Paging.Page(all, o => o.Id.ToString(), descending: false, n, after);
        return TypedResults.Ok(new ListResponse<OrganizationDto>(items, next));
    }

    public static async Task<Results<Created<OrganizationDto>, ValidationProblem, ProblemHttpResult>> Create(
        OrganizationRequest request, HttpContext http, IKairosStore store)
    {
        if (http.User.UserId() is not { } user) return AuthApi.SessionsOnly("An API key belongs to one organization: organizations are created by signed-in users.");
        if (Invalid(request) is { } invalid) return invalid;
        var org = await store.Identity.CreateOrganizationAsync(new CreateOrganizationParams(request.Name!.Trim(), user), http.RequestAborted);
        // The new organization's log starts with its creation.
        http.Audit().Detail("name", org.Name).Organizations = [org.Id];
        return TypedResults.Created($"/api/v1/organizations/{org.Id}", OrganizationDto.From(org, Role.Owner));
    }

    public static async Task<Results<Ok<OrganizationDto>, ValidationProblem, ProblemHttpResult>> Rename(
        string id, OrganizationRequest request, HttpContext http, IKairosStore store)
    {
        if (Current(id, http) is not { } org) return NotFound(id);
        if (Invalid(request) is { } invalid) return invalid;
        http.Audit().Detail("name", request.Name!.Trim());
        var renamed = await store.Identity.RenameOrganizationAsync(new RenameOrganizationParams(org, request.Name!.Trim()), http.RequestAborted);
        return renamed is null ? NotFound(id) : TypedResults.Ok(OrganizationDto.From(renamed, http.User.MemberRole()));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, HttpContext http, IKairosStore store, ServerOptions options)
    {
        if (Current(id, http) is not { } org) return NotFound(id);
        if (org == Organizations.Default && options.AdminApiKey is not null)
        {
            return Problems.Conflict("The default organization holds the bootstrap API key (KAIROS_ADMIN_API_KEY): it cannot be deleted while the server runs with one.");
        }
        return await store.Identity.DeleteOrganizationAsync(new OrganizationParams(org), http.RequestAborted)
            ? TypedResults.NoContent()
            : NotFound(id);
    }

    /// <summary>The id when it names the caller's current organization.</summary>
    private static Guid? Current(string id, HttpContext http) =>
        Guid.TryParse(id, out var org) && org == http.User.OrganizationId() ? org : null;

    private static ValidationProblem? Invalid(OrganizationRequest request)
    {
        var v = new Validation();
        v.RequiredName("name", request.Name);
        return v.Ok ? null : Problems.Invalid(v);
    }

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"No organization '{id}'.");
}
