using System.Collections.Frozen;

namespace Kairos.Core.Auth;

/// <summary>A member's role in an organization, from the least to the most trusted (the order is meaningful).</summary>
public enum Role
{
    Viewer = 0,
    Member = 1,
    Admin = 2,
    Owner = 3,
}

/// <summary>What a request may do. Every endpoint requires one of these; roles and API key scopes grant them through <see cref="AccessPolicy"/>.</summary>
public enum Permission
{
    /// <summary>Read the organization's data (GET of jobs, queues, workers, stats, events, members).</summary>
    Read,
    /// <summary>Create, retry, cancel and delete jobs.</summary>
    JobsWrite,
    /// <summary>Create, change, trigger and delete schedules and workflows.</summary>
    SchedulesWrite,
    /// <summary>Create, change, pause and delete check-in monitors; see their ping keys.</summary>
    MonitorsWrite,
    /// <summary>Create, change, pause, purge and delete queues.</summary>
    QueuesManage,
    /// <summary>Quiet, stop and deregister workers.</summary>
    WorkersManage,
    /// <summary>Run the worker protocol: register, fetch, heartbeat, ack, fail, logs.</summary>
    WorkerProtocol,
    /// <summary>Create, list and revoke API keys.</summary>
    KeysManage,
    /// <summary>Create, test and delete webhooks.</summary>
    WebhooksManage,
    /// <summary>Alert rules and channels.</summary>
    AlertsManage,
    /// <summary>Invite members, change their roles, remove them.</summary>
    MembersManage,
    /// <summary>Read the audit log.</summary>
    AuditRead,
    /// <summary>Apply YAML manifests (queues, schedules, monitors, alert rules at once) and unmark managed objects.</summary>
    ManifestsApply,
    /// <summary>Rename and delete the organization.</summary>
    OrganizationManage,
}

/// <summary>
/// THE policy table: which permissions each role and each API key scope grants. Every authorization decision of the
/// server comes from here (the server turns each permission into one authorization policy).
/// </summary>
public static class AccessPolicy
{
    private static readonly Permission[] ViewerGrants = [Permission.Read];
    private static readonly Permission[] MemberGrants = [.. ViewerGrants, Permission.JobsWrite, Permission.SchedulesWrite, Permission.MonitorsWrite];
    private static readonly Permission[] AdminGrants =
    [
        .. MemberGrants, Permission.QueuesManage, Permission.WorkersManage, Permission.KeysManage, Permission.WebhooksManage,
        Permission.AlertsManage, Permission.MembersManage, Permission.AuditRead, Permission.ManifestsApply,
    ];
    private static readonly Permission[] OwnerGrants = [.. AdminGrants, Permission.OrganizationManage];
    // An admin key does what an admin member does, and may also run workers (headless setups use one key).
    private static readonly Permission[] AdminKeyGrants = [.. AdminGrants, Permission.WorkerProtocol];

    private static readonly FrozenDictionary<Role, FrozenSet<Permission>> ByRole = new Dictionary<Role, FrozenSet<Permission>>
    {
        [Role.Viewer] = ViewerGrants.ToFrozenSet(),
        [Role.Member] = MemberGrants.ToFrozenSet(),
        [Role.Admin] = AdminGrants.ToFrozenSet(),
        [Role.Owner] = OwnerGrants.ToFrozenSet(),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<ApiKeyScopes, FrozenSet<Permission>> ByScope = new Dictionary<ApiKeyScopes, FrozenSet<Permission>>
    {
        [ApiKeyScopes.Read] = ViewerGrants.ToFrozenSet(),
        [ApiKeyScopes.Worker] = new[] { Permission.WorkerProtocol }.ToFrozenSet(),
        [ApiKeyScopes.Admin] = AdminKeyGrants.ToFrozenSet(),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<Permission, string> Names = Enum.GetValues<Permission>().ToFrozenDictionary(p => p, p => p switch
    {
        Permission.Read => "read",
        Permission.JobsWrite => "jobs.write",
        Permission.SchedulesWrite => "schedules.write",
        Permission.MonitorsWrite => "monitors.write",
        Permission.QueuesManage => "queues.manage",
        Permission.WorkersManage => "workers.manage",
        Permission.WorkerProtocol => "worker.protocol",
        Permission.KeysManage => "keys.manage",
        Permission.WebhooksManage => "webhooks.manage",
        Permission.AlertsManage => "alerts.manage",
        Permission.MembersManage => "members.manage",
        Permission.AuditRead => "audit.read",
        Permission.OrganizationManage => "organization.manage",
        Permission.ManifestsApply => "manifests.apply",
        _ => throw new InvalidOperationException($"no name for {p}"),
    });

    private static readonly FrozenDictionary<string, Permission> ByName = Names.ToFrozenDictionary(e => e.Value, e => e.Key, StringComparer.Ordinal);

    public static IReadOnlySet<Permission> For(Role role) => ByRole[role];

    /// <summary>The union of what each scope grants.</summary>
    public static IReadOnlySet<Permission> For(ApiKeyScopes scopes)
    {
        var set = new HashSet<Permission>();
        foreach (var (scope, grants) in ByScope)
        {
            if (scopes.HasFlag(scope)) set.UnionWith(grants);
        }
        return set;
    }

    /// <summary>The permission's name in claims, policies and answers: <c>jobs.write</c>.</summary>
    public static string Name(this Permission permission) => Names[permission];

    /// <summary>Names in the order of <see cref="Permission"/>.</summary>
    public static IReadOnlyList<string> NamesOf(IEnumerable<Permission> permissions) => permissions.Order().Select(Name).ToList();

    /// <summary>The permission named <paramref name="name"/>, or null.</summary>
    public static Permission? Parse(string name) => ByName.TryGetValue(name, out var p) ? p : null;

    /// <summary>
    /// Whether someone with <paramref name="actor"/> may give or take away <paramref name="target"/>: only owners manage
    /// owners; an actor never hands out more than it has.
    /// </summary>
    public static bool MayAssign(Role actor, Role target) => actor >= Role.Admin && (target < Role.Owner || actor == Role.Owner);
}

public static class Roles
{
    public static string Name(this Role role) => role switch
    {
        Role.Viewer => "viewer",
        Role.Member => "member",
        Role.Admin => "admin",
        Role.Owner => "owner",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? name, out Role role)
    {
        switch (name)
        {
            case "viewer": role = Role.Viewer; return true;
            case "member": role = Role.Member; return true;
            case "admin": role = Role.Admin; return true;
            case "owner": role = Role.Owner; return true;
            default: role = default; return false;
        }
    }

    public static Role Parse(string name) => TryParse(name, out var role) ? role : throw new FormatException($"'{name}' is not a role");
}
