using Kairos.Core.Auth;

namespace Kairos.Core.Tests;

/// <summary>The policy table: what each role and each API key scope may do.</summary>
public sealed class AccessPolicyTests
{
    [Fact]
    public void Each_role_has_what_the_one_below_has_and_more()
    {
        Assert.Equal([Permission.Read], AccessPolicy.For(Role.Viewer).Order());
        Assert.Equal([Permission.Read, Permission.JobsWrite, Permission.SchedulesWrite, Permission.MonitorsWrite], AccessPolicy.For(Role.Member).Order());
        Assert.Equal(
            [Permission.Read, Permission.JobsWrite, Permission.SchedulesWrite, Permission.MonitorsWrite, Permission.QueuesManage, Permission.WorkersManage,
             Permission.KeysManage, Permission.WebhooksManage, Permission.AlertsManage, Permission.MembersManage, Permission.AuditRead, Permission.ManifestsApply],
            AccessPolicy.For(Role.Admin).Order());
        Assert.Equal([.. AccessPolicy.For(Role.Admin).Order(), Permission.OrganizationManage], AccessPolicy.For(Role.Owner).Order());
        // Users do not run the worker protocol: that is what worker keys are for.
        foreach (var role in Enum.GetValues<Role>()) Assert.DoesNotContain(Permission.WorkerProtocol, AccessPolicy.For(role));
    }

    [Fact]
    public void Key_scopes_grant_read_the_worker_protocol_or_an_admins_permissions()
    {
        Assert.Equal([Permission.Read], AccessPolicy.For(ApiKeyScopes.Read).Order());
        Assert.Equal([Permission.WorkerProtocol], AccessPolicy.For(ApiKeyScopes.Worker).Order());
        Assert.Equal([Permission.Read, Permission.WorkerProtocol], AccessPolicy.For(ApiKeyScopes.Read | ApiKeyScopes.Worker).Order());
        var admin = AccessPolicy.For(ApiKeyScopes.Admin);
        Assert.Superset(new HashSet<Permission>(AccessPolicy.For(Role.Admin)), new HashSet<Permission>(admin));
        Assert.Contains(Permission.WorkerProtocol, admin);
        Assert.DoesNotContain(Permission.OrganizationManage, admin);
        Assert.Empty(AccessPolicy.For(ApiKeyScopes.None));
    }

    [Fact]
    public void Every_permission_has_a_name_that_parses_back()
    {
        var names = Enum.GetValues<Permission>().Select(p => p.Name()).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("jobs.write", names);
        Assert.Contains("organization.manage", names);
        foreach (var p in Enum.GetValues<Permission>()) Assert.Equal(p, AccessPolicy.Parse(p.Name()));
        Assert.Null(AccessPolicy.Parse("root"));
        Assert.Equal(["read", "jobs.write"], AccessPolicy.NamesOf([Permission.JobsWrite, Permission.Read]));
    }

    [Theory]
    [InlineData(Role.Owner, Role.Owner, true)]
    [InlineData(Role.Owner, Role.Viewer, true)]
    [InlineData(Role.Admin, Role.Admin, true)]
    [InlineData(Role.Admin, Role.Owner, false)]
    [InlineData(Role.Member, Role.Viewer, false)]
    [InlineData(Role.Viewer, Role.Viewer, false)]
    public void Only_owners_assign_the_owner_role(Role actor, Role target, bool allowed) =>
        Assert.Equal(allowed, AccessPolicy.MayAssign(actor, target));

    [Fact]
    public void Roles_and_emails_have_one_written_form()
    {
        foreach (var role in Enum.GetValues<Role>()) Assert.Equal(role, Roles.Parse(role.Name()));
        Assert.False(Roles.TryParse("Owner", out _));
        Assert.False(Roles.TryParse(null, out _));
        Assert.Equal("ada@example.com", Emails.Normalize("  Ada@Example.COM "));
        Assert.True(Emails.LooksValid("ada@example.com"));
        Assert.False(Emails.LooksValid("ada@"));
        Assert.False(Emails.LooksValid("ada example@x.com"));
        Assert.False(Emails.LooksValid("ada@localhost"));
        Assert.False(Emails.LooksValid("a@b@c.com"));
    }

    [Fact]
    public void Tokens_are_256_random_bits_hashed_with_sha256()
    {
        var a = Tokens.New();
        Assert.Equal(64, a.Length);
        Assert.NotEqual(a, Tokens.New());
        Assert.Equal(64, Tokens.Hash(a).Length);
        Assert.Equal(Tokens.Hash(a), Tokens.Hash(a));
        Assert.True(Tokens.Same(a, a));
        Assert.False(Tokens.Same(a, Tokens.New()));
        Assert.False(Tokens.Same(a, null));
        Assert.Equal(Tokens.Hash("kx_abc"), ApiKeySecrets.Hash("kx_abc"));
    }
}
