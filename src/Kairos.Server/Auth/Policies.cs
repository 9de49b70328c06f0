using System.Security.Claims;
using Kairos.Core.Auth;
using Microsoft.AspNetCore.Authorization;

namespace Kairos.Server.Auth;

/// <summary>
/// The claims every signed-in principal carries, whichever way it signed in: the organization it acts in, who it is (a
/// user, with its session, or an API key) and its permissions, from <see cref="AccessPolicy"/>.
/// </summary>
public static class KairosClaims
{
    public const string Organization = "kairos:org";
    public const string User = "kairos:user";
    public const string Session = "kairos:session";
    public const string Key = "kairos:key";
    public const string Permission = "kairos:perm";
    /// <summary>A session user's role in the current organization.</summary>
    public const string Role = "kairos:role";
    /// <summary>An API key's scopes.</summary>
    public const string Scope = "kairos:scope";

    /// <summary>The organization and permission claims; none of either when <paramref name="organizationId"/> is null.</summary>
    public static IEnumerable<Claim> Access(Guid? organizationId, IEnumerable<Permission> permissions)
    {
        if (organizationId is not { } org) yield break;
        yield return new Claim(Organization, org.ToString());
        foreach (var p in permissions.Order()) yield return new Claim(Permission, p.Name());
    }
}

/// <summary>
/// One authorization policy per <see cref="Permission"/>, named after it (<c>jobs.write</c>): an endpoint says which
/// permission it needs, <see cref="AccessPolicy"/> says who has it.
/// </summary>
public static class Policies
{
    public const string Read = "read";
    public const string JobsWrite = "jobs.write";
    public const string SchedulesWrite = "schedules.write";
    public const string MonitorsWrite = "monitors.write";
    public const string QueuesManage = "queues.manage";
    public const string WorkersManage = "workers.manage";
    public const string WorkerProtocol = "worker.protocol";
    public const string KeysManage = "keys.manage";
    public const string WebhooksManage = "webhooks.manage";
    public const string AlertsManage = "alerts.manage";
    public const string MembersManage = "members.manage";
    public const string AuditRead = "audit.read";
    public const string OrganizationManage = "organization.manage";
    public const string ManifestsApply = "manifests.apply";

    /// <summary>Deregistering a worker: the worker itself (worker protocol) or someone who manages workers.</summary>
    public const string WorkerOrWorkersManage = "worker.protocol|workers.manage";

    /// <summary>The policy that requires <paramref name="permission"/>.</summary>
    public static string Require(Permission permission) => permission.Name();

    public static void Add(AuthorizationOptions options)
    {
        foreach (var permission in Enum.GetValues<Permission>())
        {
            options.AddPolicy(permission.Name(), p => p.RequireAuthenticatedUser().RequireClaim(KairosClaims.Permission, permission.Name()));
        }
        options.AddPolicy(WorkerOrWorkersManage, p => p.RequireAuthenticatedUser().RequireClaim(KairosClaims.Permission, WorkerProtocol, WorkersManage));
    }

    public static bool Has(this ClaimsPrincipal user, Permission permission) => user.HasClaim(KairosClaims.Permission, permission.Name());

    /// <summary>The organization the request acts in.</summary>
    public static Guid OrganizationId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(KairosClaims.Organization) ?? throw new InvalidOperationException("not signed in to an organization"));

    /// <summary>The signed-in user; null for an API key.</summary>
    public static Guid? UserId(this ClaimsPrincipal user) => GuidClaim(user, KairosClaims.User);

    /// <summary>The API key the request came with; null for a session.</summary>
    public static Guid? KeyId(this ClaimsPrincipal user) => GuidClaim(user, KairosClaims.Key);

    /// <summary>A session user's role in the current organization; null for API keys and users without one.</summary>
    public static Role? MemberRole(this ClaimsPrincipal user) =>
        Roles.TryParse(user.FindFirstValue(KairosClaims.Role), out var role) ? role : null;

    private static Guid? GuidClaim(ClaimsPrincipal user, string type) =>
        Guid.TryParse(user.FindFirstValue(type), out var id) ? id : null;
}
