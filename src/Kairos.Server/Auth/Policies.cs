using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace Kairos.Server.Auth;

/// <summary>
/// Which scopes each kind of endpoint needs: <c>read</c> for GETs of management data, <c>worker</c> for the worker
/// protocol, <c>admin</c> for changes. An admin key may do everything.
/// </summary>
public static class Policies
{
    public const string Read = "read";
    public const string Worker = "worker";
    public const string Admin = "admin";

    public static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(Read, p => p.AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName).RequireAuthenticatedUser()
            .RequireAssertion(c => HasScope(c.User, "read") || HasScope(c.User, "admin")));
        options.AddPolicy(Worker, p => p.AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName).RequireAuthenticatedUser()
            .RequireAssertion(c => HasScope(c.User, "worker") || HasScope(c.User, "admin")));
        options.AddPolicy(Admin, p => p.AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName).RequireAuthenticatedUser()
            .RequireAssertion(c => HasScope(c.User, "admin")));
    }

    private static bool HasScope(ClaimsPrincipal user, string scope) => user.HasClaim(ApiKeyAuthentication.ScopeClaim, scope);

    /// <summary>The organization the request is signed in as.</summary>
    public static Guid OrganizationId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ApiKeyAuthentication.OrganizationClaim) ?? throw new InvalidOperationException("not signed in"));
}
