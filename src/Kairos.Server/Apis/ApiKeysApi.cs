using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Kairos.Server.Audit;
using Kairos.Server.Auth;
using Kairos.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kairos.Server.Apis;

public sealed record CreateApiKeyRequest(string? Name, List<string>? Scopes, DateTimeOffset? ExpiresAt);
public sealed record ApiKeyDto(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt)
{
    public static ApiKeyDto From(ApiKey k) => new(k.Id, k.Name, k.Prefix, Kairos.Core.Auth.Scopes.ToNames(k.Scopes), k.CreatedAt, k.ExpiresAt, k.LastUsedAt);
}
/// <summary>The key itself appears in this answer only, once.</summary>
public sealed record CreatedApiKeyDto(Guid Id, string Name, string Key, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>API keys: create (shown once), list, revoke.</summary>
public static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeysApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/api-keys").WithTags("API keys").RequireAuthorization(Policies.KeysManage);
        g.MapPost("/", Create).WithName("CreateApiKey").Audited("api_key.create");
        g.MapGet("/", List).WithName("ListApiKeys");
        g.MapDelete("/{id}", Revoke).WithName("RevokeApiKey").Audited("api_key.revoke");
        return api;
    }

    public static async Task<Results<Created<CreatedApiKeyDto>, ValidationProblem>> Create(
        CreateApiKeyRequest request, HttpContext http, IKairosStore store, TimeProvider time)
    {
        var v = new Validation();
        v.Required("name", request.Name);
        v.Name("name", request.Name);
        ApiKeyScopes scopes = ApiKeyScopes.None;
        if (request.Scopes is null || request.Scopes.Count == 0) v.Add("scopes", "is required: one or more of admin, worker, read");
        else if (!Scopes.TryParse(request.Scopes, out scopes, out var bad)) v.Add("scopes", $"'{bad}' is not a scope: use admin, worker or read");
        if (request.ExpiresAt is { } e && e <= time.GetUtcNow()) v.Add("expires_at", "must lie in the future");
        if (!v.Ok) return Problems.Invalid(v);
        // The key's name, scopes and expiry; the key itself appears in the answer only.
        http.Audit().Detail("name", request.Name).Detail("scopes", Scopes.ToNames(scopes)).Detail("expires_at", request.ExpiresAt);
        var key = ApiKeySecrets.Generate();
        var created = await store.ApiKeys.CreateAsync(new CreateApiKeyParams(http.User.OrganizationId(), request.Name!,
            ApiKeySecrets.VisiblePrefix(key), ApiKeySecrets.Hash(key), scopes, request.ExpiresAt), http.RequestAborted);
        return TypedResults.Created($"/api/v1/api-keys/{created.Id}",
            new CreatedApiKeyDto(created.Id, created.Name, key, created.Prefix, Scopes.ToNames(created.Scopes), created.CreatedAt, created.ExpiresAt));
    }

    public static async Task<Results<Ok<ListResponse<ApiKeyDto>>, ValidationProblem>> List(HttpContext http, IKairosStore store, string? limit, string? cursor)
    {
        var v = new Validation();
        var (n, after) = Paging.Read(limit, cursor, v);
        if (!v.Ok) return Problems.Invalid(v);
        var keys = await store.ApiKeys.ListAsync(http.User.OrganizationId(), http.RequestAborted);
        var (items, next) = Paging.Page(keys, k => k.Id.ToString(), descending: true, n, after);
        return TypedResults.Ok(new ListResponse<ApiKeyDto>(items.Select(ApiKeyDto.From).ToList(), next));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Revoke(string id, HttpContext http, IKairosStore store, ApiKeyCache cache)
    {
        if (!Guid.TryParse(id, out var keyId)) return Problems.NotFound($"No API key '{id}'.");
        if (!await store.ApiKeys.RevokeAsync(new ApiKeyParams(http.User.OrganizationId(), keyId), http.RequestAborted))
        {
            return Problems.NotFound($"No API key '{id}'.");
        }
        cache.Forget(keyId);
        return TypedResults.NoContent();
    }
}
