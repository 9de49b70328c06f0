using System.Collections.Concurrent;
using Kairos.Core.Auth;
using Kairos.Core.Jobs;
using Kairos.Core.Queues;
using Kairos.Core.Storage;

namespace Kairos.Storage.Tests;

/// <summary>The identity facet: users, organizations, memberships, invites, sessions, on every store.</summary>
public abstract partial class StoreConformance
{
    private const string Hash = "AQAAAAIAAYagAAAAEFakePasswordHashForTheStoreTestsOnly==";

    private async Task<FirstOwner> FirstOwnerAsync(string email = "Owner@Example.com ", string organization = "Acme")
    {
        var first = await Store.Identity.CreateFirstOwnerAsync(new CreateFirstOwnerParams(email, "Olga Owner", Hash, OrgA, organization), None);
        Assert.NotNull(first);
        return first;
    }

    private async Task<User> MemberAsync(Guid org, string email, Role role)
    {
        var token = Tokens.New();
        await Store.Identity.CreateInviteAsync(new CreateInviteParams(org, email, role, Tokens.Hash(token), null, Start.AddDays(7)), None);
        var accepted = await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), null, new NewUser(email, Hash)), None);
        Assert.Equal(AcceptInviteStatus.Accepted, accepted.Status);
        return accepted.User!;
    }

    private async Task<Session> SessionAsync(Guid user, Guid? org, string token, DateTimeOffset? expires = null) =>
        await Store.Identity.CreateSessionAsync(new CreateSessionParams(user, org, Tokens.Hash(token), "csrf-" + token[..8], expires ?? Start.AddDays(14)), None);

    // ------------------------------------------------------------------ first owner, users

    [SkippableFact]
    public async Task The_first_owner_takes_the_organization_once_and_emails_are_normalised()
    {
        Assert.False(await Store.Identity.AnyUserAsync(None));

        var first = await FirstOwnerAsync();
        Assert.True(await Store.Identity.AnyUserAsync(None));
        Assert.Equal("owner@example.com", first.User.Email);
        Assert.Equal("Olga Owner", first.User.Name);
        Assert.Equal(Hash, first.User.PasswordHash);
        Assert.Equal(Start, first.User.CreatedAt);
        Assert.Equal(OrgA, first.Organization.Id);
        Assert.Equal("Acme", first.Organization.Name);
        Assert.Equal(Start, first.Organization.CreatedAt); // the default organization of the first migration gets a real creation time
        Assert.Equal("Acme", (await Store.Identity.GetOrganizationAsync(new OrganizationParams(OrgA), None))?.Name);
        Assert.Equal(Role.Owner, await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, first.User.Id), None));

        Assert.Null(await Store.Identity.CreateFirstOwnerAsync(new CreateFirstOwnerParams("second@example.com", "S", Hash, OrgA, "Taken"), None));
        Assert.Equal("Acme", (await Store.Identity.GetOrganizationAsync(new OrganizationParams(OrgA), None))?.Name);
        Assert.Null(await Store.Identity.FindUserByEmailAsync(new FindUserParams("second@example.com"), None));

        Assert.Equal(first.User, await Store.Identity.GetUserAsync(new UserParams(first.User.Id), None));
        Assert.Equal(first.User, await Store.Identity.FindUserByEmailAsync(new FindUserParams("  OWNER@example.COM"), None));
        Assert.Null(await Store.Identity.GetUserAsync(new UserParams(Guid.NewGuid()), None));
        Assert.Null(await Store.Identity.FindUserByEmailAsync(new FindUserParams("nobody@example.com"), None));
    }

    [SkippableFact]
    public async Task The_first_owner_is_created_into_a_missing_organization_too()
    {
        var first = await Store.Identity.CreateFirstOwnerAsync(new CreateFirstOwnerParams("o@example.com", "O", Hash, OrgB, "Bee"), None);
        Assert.NotNull(first);
        Assert.Equal("Bee", (await Store.Identity.GetOrganizationAsync(new OrganizationParams(OrgB), None))?.Name);
        Assert.Equal(Role.Owner, await Store.Identity.GetRoleAsync(new MembershipParams(OrgB, first.User.Id), None));
    }

    [SkippableFact]
    public async Task Of_concurrent_first_owners_exactly_one_wins()
    {
        var winners = new ConcurrentBag<FirstOwner>();
        await RunConcurrentlyAsync(Enumerable.Range(0, 8).Select<int, Func<CancellationToken, Task>>(i => async ct =>
        {
            if (await Store.Identity.CreateFirstOwnerAsync(new CreateFirstOwnerParams($"u{i}@example.com", $"U{i}", Hash, OrgA, $"Org {i}"), ct) is { } won)
            {
                winners.Add(won);
            }
        }).ToList());

        var winner = Assert.Single(winners);
        Assert.Equal(winner.Organization.Name, (await Store.Identity.GetOrganizationAsync(new OrganizationParams(OrgA), None))?.Name);
        var members = await Store.Identity.ListMembersAsync(new OrganizationParams(OrgA), None);
        Assert.Equal(winner.User.Id, Assert.Single(members).User.Id);
        for (var i = 0; i < 8; i++)
        {
            var user = await Store.Identity.FindUserByEmailAsync(new FindUserParams($"u{i}@example.com"), None);
            Assert.Equal(user is not null, winner.User.Email == $"u{i}@example.com");
        }
    }

    // ------------------------------------------------------------------ organizations

    [SkippableFact]
    public async Task Organizations_are_created_with_their_owner_renamed_and_listed_per_user()
    {
        var owner = (await FirstOwnerAsync()).User;
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await Store.Identity.CreateOrganizationAsync(new CreateOrganizationParams("Second", owner.Id), None);
        Assert.NotEqual(Guid.Empty, second.Id);
        Assert.Equal("Second", second.Name);
        Assert.Equal(Time.GetUtcNow(), second.CreatedAt);
        Assert.Equal(second, await Store.Identity.GetOrganizationAsync(new OrganizationParams(second.Id), None));
        Assert.Equal(Role.Owner, await Store.Identity.GetRoleAsync(new MembershipParams(second.Id, owner.Id), None));

        var renamed = await Store.Identity.RenameOrganizationAsync(new RenameOrganizationParams(second.Id, "Renamed"), None);
        Assert.Equal(second with { Name = "Renamed" }, renamed);
        Assert.Null(await Store.Identity.RenameOrganizationAsync(new RenameOrganizationParams(Guid.NewGuid(), "x"), None));
        Assert.Null(await Store.Identity.GetOrganizationAsync(new OrganizationParams(Guid.NewGuid()), None));

        var mine = await Store.Identity.ListOrganizationsAsync(new UserParams(owner.Id), None);
        Assert.Equal([(OrgA, "Acme", Role.Owner), (second.Id, "Renamed", Role.Owner)], mine.Select(m => (m.Organization.Id, m.Organization.Name, m.Role)));

        var viewer = await MemberAsync(second.Id, "v@example.com", Role.Viewer);
        var theirs = await Store.Identity.ListOrganizationsAsync(new UserParams(viewer.Id), None);
        Assert.Equal([(second.Id, Role.Viewer)], theirs.Select(m => (m.Organization.Id, m.Role)));
        Assert.Empty(await Store.Identity.ListOrganizationsAsync(new UserParams(Guid.NewGuid()), None));
    }

    [SkippableFact]
    public async Task Deleting_an_organization_removes_every_row_of_it_and_nothing_else()
    {
        var owner = (await FirstOwnerAsync()).User;
        var doomed = await Store.Identity.CreateOrganizationAsync(new CreateOrganizationParams("Doomed", owner.Id), None);
        var d = doomed.Id;
        var member = await MemberAsync(d, "m@example.com", Role.Member);
        await Store.Identity.CreateInviteAsync(new CreateInviteParams(d, "later@example.com", Role.Viewer, Tokens.Hash(Tokens.New()), owner.Id, Start.AddDays(7)), None);
        var session = await SessionAsync(member.Id, d, Tokens.New());
        var keySecret = ApiKeySecrets.Generate();
        await Store.ApiKeys.CreateAsync(new CreateApiKeyParams(d, "k", ApiKeySecrets.VisiblePrefix(keySecret), ApiKeySecrets.Hash(keySecret), ApiKeyScopes.Admin, null), None);
        await UpsertQueueAsync("q", new QueueSettings { ConcurrencyLimit = 1 }, d);
        var worker = await RegisterAsync("w", d, "q");
        var running = await EnqueueAsync(MakeJob("q") with { Tags = ["t"] }, d);
        var leased = await LeaseOneAsync(worker, "q");
        await Store.Jobs.AppendLogsAsync(new AppendLogsParams(d, running.Id, leased.LeaseToken, ["line"]), None);
        var queued = await EnqueueAsync(MakeJob("q"), d);

        // The same kinds of rows in the organization that stays.
        var keptKey = ApiKeySecrets.Generate();
        await Store.ApiKeys.CreateAsync(new CreateApiKeyParams(OrgA, "kept", ApiKeySecrets.VisiblePrefix(keptKey), ApiKeySecrets.Hash(keptKey), ApiKeyScopes.Read, null), None);
        var keptWorker = await RegisterAsync("kept", OrgA, "q");
        var keptJob = await EnqueueAsync(MakeJob("q") with { Tags = ["t"] }, OrgA);
        await Store.Identity.CreateInviteAsync(new CreateInviteParams(OrgA, "later@example.com", Role.Viewer, Tokens.Hash(Tokens.New()), owner.Id, Start.AddDays(7)), None);
        var ownerSession = await SessionAsync(owner.Id, OrgA, Tokens.New());

        Assert.True(await Store.Identity.DeleteOrganizationAsync(new OrganizationParams(d), None));

        Assert.Null(await Store.Identity.GetOrganizationAsync(new OrganizationParams(d), None));
        Assert.Empty(await Store.Identity.ListMembersAsync(new OrganizationParams(d), None));
        Assert.Empty(await Store.Identity.ListInvitesAsync(new OrganizationParams(d), None));
        Assert.Empty(await Store.ApiKeys.ListAsync(d, None));
        Assert.Null(await Store.ApiKeys.FindByHashAsync(ApiKeySecrets.Hash(keySecret), None));
        Assert.Empty(await Store.Queues.ListAsync(new ListQueuesParams(d), None));
        Assert.Empty(await Store.Workers.ListAsync(new ListWorkersParams(d, IncludeStopped: true), None));
        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(d, running.Id), None));
        Assert.Null(await Store.Jobs.GetAsync(new GetJobParams(d, queued.Id), None));
        Assert.Empty(await ListAllAsync(new ListJobsParams(d)));
        Assert.Empty(await ListAllAsync(new ListJobsParams(d) { Tag = "t" }));
        Assert.DoesNotContain(await Store.Identity.ListOrganizationsAsync(new UserParams(owner.Id), None), m => m.Organization.Id == d);
        Assert.Empty(await Store.Identity.ListOrganizationsAsync(new UserParams(member.Id), None));

        // The member stays a user and stays signed in, with no current organization.
        Assert.NotNull(await Store.Identity.GetUserAsync(new UserParams(member.Id), None));
        var left = await Store.Identity.FindSessionAsync(new FindSessionParams(session.TokenHash), None);
        Assert.NotNull(left);
        Assert.Null(left.Session.OrganizationId);
        Assert.Null(left.Role);

        // The other organization is untouched.
        Assert.Equal("Acme", (await Store.Identity.GetOrganizationAsync(new OrganizationParams(OrgA), None))?.Name);
        Assert.Single(await Store.Identity.ListMembersAsync(new OrganizationParams(OrgA), None));
        Assert.Single(await Store.Identity.ListInvitesAsync(new OrganizationParams(OrgA), None));
        Assert.NotNull(await Store.ApiKeys.FindByHashAsync(ApiKeySecrets.Hash(keptKey), None));
        Assert.NotNull(await Store.Workers.GetAsync(new WorkerParams(OrgA, keptWorker.Id), None));
        Assert.Equal([keptJob.Id], (await ListAllAsync(new ListJobsParams(OrgA) { Tag = "t" })).Select(j => j.Id));
        Assert.Equal(OrgA, (await Store.Identity.FindSessionAsync(new FindSessionParams(ownerSession.TokenHash), None))?.Session.OrganizationId);

        Assert.False(await Store.Identity.DeleteOrganizationAsync(new OrganizationParams(d), None));
        // A new queue of the same name in another organization starts clean (no cached settings of the deleted one).
        var fresh = await Store.Identity.CreateOrganizationAsync(new CreateOrganizationParams("Fresh", owner.Id), None);
        var job = await EnqueueAsync(MakeJob("q"), fresh.Id);
        Assert.Null((await Store.Queues.GetAsync(new QueueParams(fresh.Id, "q"), None))?.Settings.ConcurrencyLimit);
        Assert.Equal(JobState.Queued, job.State);
    }

    // ------------------------------------------------------------------ members

    [SkippableFact]
    public async Task Roles_change_and_members_leave_but_never_the_last_owner()
    {
        var owner = (await FirstOwnerAsync()).User;
        Time.Advance(TimeSpan.FromSeconds(1));
        var admin = await MemberAsync(OrgA, "admin@example.com", Role.Admin);
        Time.Advance(TimeSpan.FromSeconds(1));
        var viewer = await MemberAsync(OrgA, "viewer@example.com", Role.Viewer);

        var members = await Store.Identity.ListMembersAsync(new OrganizationParams(OrgA), None);
        Assert.Equal([(owner.Id, Role.Owner), (admin.Id, Role.Admin), (viewer.Id, Role.Viewer)], members.Select(m => (m.User.Id, m.Role)));
        Assert.Equal("admin@example.com", members[1].User.Email);

        Assert.Equal(MemberChange.Applied, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, viewer.Id, Role.Member, false), None));
        Assert.Equal(Role.Member, await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, viewer.Id), None));

        // Only owners manage owners.
        Assert.Equal(MemberChange.OwnersOnly, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, viewer.Id, Role.Owner, false), None));
        Assert.Equal(MemberChange.OwnersOnly, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, owner.Id, Role.Admin, false), None));
        Assert.Equal(MemberChange.OwnersOnly, await Store.Identity.RemoveMemberAsync(new RemoveMemberParams(OrgA, owner.Id, false), None));
        Assert.Equal(Role.Member, await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, viewer.Id), None));

        // The last owner stays.
        Assert.Equal(MemberChange.LastOwner, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, owner.Id, Role.Admin, true), None));
        Assert.Equal(MemberChange.LastOwner, await Store.Identity.RemoveMemberAsync(new RemoveMemberParams(OrgA, owner.Id, true), None));
        Assert.Equal(MemberChange.Applied, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, owner.Id, Role.Owner, true), None));
        Assert.Equal(Role.Owner, await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, owner.Id), None));

        // With a second owner, one may step down.
        Assert.Equal(MemberChange.Applied, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, admin.Id, Role.Owner, true), None));
        Assert.Equal(MemberChange.Applied, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, owner.Id, Role.Admin, true), None));
        Assert.Equal(MemberChange.LastOwner, await Store.Identity.RemoveMemberAsync(new RemoveMemberParams(OrgA, admin.Id, true), None));

        Assert.Equal(MemberChange.Applied, await Store.Identity.RemoveMemberAsync(new RemoveMemberParams(OrgA, viewer.Id, false), None));
        Assert.Null(await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, viewer.Id), None));
        Assert.NotNull(await Store.Identity.GetUserAsync(new UserParams(viewer.Id), None));
        Assert.Equal(MemberChange.NotFound, await Store.Identity.RemoveMemberAsync(new RemoveMemberParams(OrgA, viewer.Id, true), None));
        Assert.Equal(MemberChange.NotFound, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgA, viewer.Id, Role.Admin, true), None));
        Assert.Equal(MemberChange.NotFound, await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(OrgB, owner.Id, Role.Admin, true), None));
        Assert.Equal([(owner.Id, Role.Admin), (admin.Id, Role.Owner)],
            (await Store.Identity.ListMembersAsync(new OrganizationParams(OrgA), None)).Select(m => (m.User.Id, m.Role)));
    }

    [SkippableFact]
    public async Task Two_owners_demoting_or_removing_each_other_at_once_leave_one_owner()
    {
        var first = (await FirstOwnerAsync()).User;
        for (var round = 0; round < 6; round++)
        {
            var org = (await Store.Identity.CreateOrganizationAsync(new CreateOrganizationParams($"Round {round}", first.Id), None)).Id;
            var second = await MemberAsync(org, $"second{round}@example.com", Role.Owner);
            var remove = round % 2 == 1;
            var results = new ConcurrentBag<MemberChange>();
            await RunConcurrentlyAsync(new[] { first.Id, second.Id }.Select<Guid, Func<CancellationToken, Task>>(id => async ct =>
                results.Add(remove
                    ? await Store.Identity.RemoveMemberAsync(new RemoveMemberParams(org, id, true), ct)
                    : await Store.Identity.ChangeRoleAsync(new ChangeRoleParams(org, id, Role.Member, true), ct))).ToList());

            Assert.Equal([MemberChange.Applied, MemberChange.LastOwner], results.Order());
            var members = await Store.Identity.ListMembersAsync(new OrganizationParams(org), None);
            Assert.Single(members, m => m.Role == Role.Owner);
            Assert.Equal(remove ? 1 : 2, members.Count);
        }
    }

    // ------------------------------------------------------------------ invites

    [SkippableFact]
    public async Task Invites_are_created_listed_replaced_withdrawn_and_found_by_hash()
    {
        var owner = (await FirstOwnerAsync()).User;
        var token = Tokens.New();
        var invite = await Store.Identity.CreateInviteAsync(new CreateInviteParams(OrgA, " New@Example.com", Role.Member, Tokens.Hash(token), owner.Id, Start.AddDays(7)), None);
        Assert.NotEqual(Guid.Empty, invite.Id);
        Assert.Equal(OrgA, invite.OrganizationId);
        Assert.Equal("new@example.com", invite.Email);
        Assert.Equal(Role.Member, invite.Role);
        Assert.Equal(owner.Id, invite.InvitedBy);
        Assert.Equal(Start, invite.CreatedAt);
        Assert.Equal(Start.AddDays(7), invite.ExpiresAt);
        Assert.Null(invite.AcceptedAt);
        Assert.Equal(invite, await Store.Identity.FindInviteAsync(new FindInviteParams(Tokens.Hash(token)), None));
        Assert.Null(await Store.Identity.FindInviteAsync(new FindInviteParams(Tokens.Hash(Tokens.New())), None));
        Assert.Equal([invite], await Store.Identity.ListInvitesAsync(new OrganizationParams(OrgA), None));
        Assert.Empty(await Store.Identity.ListInvitesAsync(new OrganizationParams(OrgB), None));

        // A second invite of the same email replaces the first; another email's stays.
        Time.Advance(TimeSpan.FromSeconds(1));
        var other = await Store.Identity.CreateInviteAsync(new CreateInviteParams(OrgA, "other@example.com", Role.Viewer, Tokens.Hash(Tokens.New()), null, Start.AddDays(7)), None);
        Assert.Null(other.InvitedBy);
        Time.Advance(TimeSpan.FromSeconds(1));
        var newer = await Store.Identity.CreateInviteAsync(new CreateInviteParams(OrgA, "new@example.com", Role.Admin, Tokens.Hash(Tokens.New()), owner.Id, Start.AddDays(8)), None);
        Assert.Null(await Store.Identity.FindInviteAsync(new FindInviteParams(Tokens.Hash(token)), None));
        Assert.Equal([newer.Id, other.Id], (await Store.Identity.ListInvitesAsync(new OrganizationParams(OrgA), None)).Select(i => i.Id));

        Assert.False(await Store.Identity.DeleteInviteAsync(new InviteParams(OrgB, other.Id), None));
        Assert.True(await Store.Identity.DeleteInviteAsync(new InviteParams(OrgA, other.Id), None));
        Assert.False(await Store.Identity.DeleteInviteAsync(new InviteParams(OrgA, other.Id), None));
        Assert.Equal([newer.Id], (await Store.Identity.ListInvitesAsync(new OrganizationParams(OrgA), None)).Select(i => i.Id));
    }

    [SkippableFact]
    public async Task Accepting_an_invite_creates_the_user_and_the_membership_once()
    {
        var owner = (await FirstOwnerAsync()).User;
        var token = Tokens.New();
        await Store.Identity.CreateInviteAsync(new CreateInviteParams(OrgA, "new@example.com", Role.Member, Tokens.Hash(token), owner.Id, Start.AddDays(7)), None);

        Time.Advance(TimeSpan.FromHours(1));
        var accepted = await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), null, new NewUser("Nina", "h2")), None);
        Assert.Equal(AcceptInviteStatus.Accepted, accepted.Status);
        Assert.NotNull(accepted.User);
        Assert.Equal("new@example.com", accepted.User.Email);
        Assert.Equal("Nina", accepted.User.Name);
        Assert.Equal("h2", accepted.User.PasswordHash);
        Assert.Equal(Time.GetUtcNow(), accepted.Invite?.AcceptedAt);
        Assert.Equal(accepted.User, await Store.Identity.FindUserByEmailAsync(new FindUserParams("new@example.com"), None));
        Assert.Equal(Role.Member, await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, accepted.User.Id), None));
        Assert.Empty(await Store.Identity.ListInvitesAsync(new OrganizationParams(OrgA), None));
        Assert.Equal(Time.GetUtcNow(), (await Store.Identity.FindInviteAsync(new FindInviteParams(Tokens.Hash(token)), None))?.AcceptedAt);
        Assert.False(await Store.Identity.DeleteInviteAsync(new InviteParams(OrgA, accepted.Invite!.Id), None));

        var again = await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), accepted.User.Id, null), None);
        Assert.Equal(AcceptInviteStatus.AlreadyAccepted, again.Status);
        Assert.Equal(AcceptInviteStatus.NotFound, (await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(Tokens.New()), null, new NewUser("x", "h")), None)).Status);
    }

    [SkippableFact]
    public async Task Invites_for_existing_users_join_them_without_a_new_account()
    {
        var owner = (await FirstOwnerAsync()).User;
        var second = await Store.Identity.CreateOrganizationAsync(new CreateOrganizationParams("Second", owner.Id), None);
        var existing = await MemberAsync(OrgA, "existing@example.com", Role.Viewer);

        var token = Tokens.New();
        await Store.Identity.CreateInviteAsync(new CreateInviteParams(second.Id, "existing@example.com", Role.Admin, Tokens.Hash(token), owner.Id, Start.AddDays(7)), None);
        Assert.Equal(AcceptInviteStatus.EmailTaken,
            (await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), null, new NewUser("dup", "h")), None)).Status);
        Assert.Equal(AcceptInviteStatus.WrongUser,
            (await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), owner.Id, null), None)).Status);
        Assert.Equal(AcceptInviteStatus.WrongUser,
            (await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), Guid.NewGuid(), null), None)).Status);
        Assert.Null(await Store.Identity.GetRoleAsync(new MembershipParams(second.Id, existing.Id), None));

        var accepted = await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), existing.Id, null), None);
        Assert.Equal(AcceptInviteStatus.Accepted, accepted.Status);
        Assert.Equal(existing, accepted.User);
        Assert.Equal(Role.Admin, await Store.Identity.GetRoleAsync(new MembershipParams(second.Id, existing.Id), None));
        Assert.Equal(Role.Viewer, await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, existing.Id), None));

        // A member invited again keeps the role it has.
        var repeat = Tokens.New();
        await Store.Identity.CreateInviteAsync(new CreateInviteParams(OrgA, "existing@example.com", Role.Admin, Tokens.Hash(repeat), owner.Id, Start.AddDays(7)), None);
        Assert.Equal(AcceptInviteStatus.Accepted, (await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(repeat), existing.Id, null), None)).Status);
        Assert.Equal(Role.Viewer, await Store.Identity.GetRoleAsync(new MembershipParams(OrgA, existing.Id), None));
    }

    [SkippableFact]
    public async Task An_expired_invite_is_refused()
    {
        var owner = (await FirstOwnerAsync()).User;
        var token = Tokens.New();
        await Store.Identity.CreateInviteAsync(new CreateInviteParams(OrgA, "late@example.com", Role.Member, Tokens.Hash(token), owner.Id, Start.AddDays(7)), None);
        Time.Advance(TimeSpan.FromDays(7));
        var result = await Store.Identity.AcceptInviteAsync(new AcceptInviteParams(Tokens.Hash(token), null, new NewUser("Late", "h")), None);
        Assert.Equal(AcceptInviteStatus.Expired, result.Status);
        Assert.Null(await Store.Identity.FindUserByEmailAsync(new FindUserParams("late@example.com"), None));
        Assert.Single(await Store.Identity.ListInvitesAsync(new OrganizationParams(OrgA), None));
    }

    // ------------------------------------------------------------------ sessions

    [SkippableFact]
    public async Task Sessions_are_found_by_hash_with_the_role_switched_touched_and_deleted()
    {
        var owner = (await FirstOwnerAsync()).User;
        var second = await Store.Identity.CreateOrganizationAsync(new CreateOrganizationParams("Second", owner.Id), None);
        var viewer = await MemberAsync(OrgA, "viewer@example.com", Role.Viewer);
        var token = Tokens.New();

        var session = await SessionAsync(owner.Id, OrgA, token);
        Assert.NotEqual(Guid.Empty, session.Id);
        Assert.Equal(Tokens.Hash(token), session.TokenHash);
        Assert.Equal(owner.Id, session.UserId);
        Assert.Equal(OrgA, session.OrganizationId);
        Assert.Equal("csrf-" + token[..8], session.CsrfToken);
        Assert.Equal(Start, session.CreatedAt);
        Assert.Equal(Start, session.LastSeenAt);
        Assert.Equal(Start.AddDays(14), session.ExpiresAt);

        var found = await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(token)), None);
        Assert.NotNull(found);
        Assert.Equal(session, found.Session);
        Assert.Equal(owner, found.User);
        Assert.Equal(Role.Owner, found.Role);
        Assert.Null(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(Tokens.New())), None));

        Time.Advance(TimeSpan.FromMinutes(5));
        await Store.Identity.TouchSessionAsync(new SessionParams(session.Id), None);
        Assert.Equal(Time.GetUtcNow(), (await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(token)), None))?.Session.LastSeenAt);

        Assert.True(await Store.Identity.SwitchOrganizationAsync(new SwitchOrganizationParams(session.Id, second.Id), None));
        found = await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(token)), None);
        Assert.Equal(second.Id, found?.Session.OrganizationId);
        Assert.Equal(Role.Owner, found?.Role);

        // Only into organizations the user belongs to.
        var viewerToken = Tokens.New();
        var viewerSession = await SessionAsync(viewer.Id, OrgA, viewerToken);
        Assert.Equal(Role.Viewer, (await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(viewerToken)), None))?.Role);
        Assert.False(await Store.Identity.SwitchOrganizationAsync(new SwitchOrganizationParams(viewerSession.Id, second.Id), None));
        Assert.False(await Store.Identity.SwitchOrganizationAsync(new SwitchOrganizationParams(Guid.NewGuid(), OrgA), None));
        Assert.Equal(OrgA, (await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(viewerToken)), None))?.Session.OrganizationId);

        // A member removed keeps the session, without a role in that organization.
        Assert.Equal(MemberChange.Applied, await Store.Identity.RemoveMemberAsync(new RemoveMemberParams(OrgA, viewer.Id, true), None));
        found = await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(viewerToken)), None);
        Assert.NotNull(found);
        Assert.Null(found.Role);

        Assert.True(await Store.Identity.DeleteSessionAsync(new SessionParams(session.Id), None));
        Assert.Null(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(token)), None));
        Assert.False(await Store.Identity.DeleteSessionAsync(new SessionParams(session.Id), None));
        Assert.NotNull(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(viewerToken)), None));
    }

    [SkippableFact]
    public async Task A_user_is_renamed_and_a_password_change_ends_the_other_sessions_of_that_user_only()
    {
        var owner = (await FirstOwnerAsync()).User;
        var other = await MemberAsync(OrgA, "other@example.com", Role.Member);
        var (current, second, others) = (Tokens.New(), Tokens.New(), Tokens.New());
        var kept = await SessionAsync(owner.Id, OrgA, current);
        await SessionAsync(owner.Id, null, second);
        await SessionAsync(other.Id, OrgA, others);

        var renamed = await Store.Identity.RenameUserAsync(new RenameUserParams(owner.Id, "Olga O."), None);
        Assert.Equal(owner with { Name = "Olga O." }, renamed);
        Assert.Equal(renamed, await Store.Identity.GetUserAsync(new UserParams(owner.Id), None));
        Assert.Null(await Store.Identity.RenameUserAsync(new RenameUserParams(Guid.NewGuid(), "Nobody"), None));
        Assert.Equal(other, await Store.Identity.GetUserAsync(new UserParams(other.Id), None));

        // A hash that is no longer the stored one changes nothing.
        Assert.Equal(new PasswordChange(false, 0), await Store.Identity.ChangePasswordAsync(new ChangePasswordParams(owner.Id, "stale", "new-hash", kept.Id), None));
        Assert.Equal(new PasswordChange(false, 0), await Store.Identity.ChangePasswordAsync(new ChangePasswordParams(Guid.NewGuid(), Hash, "new-hash", null), None));
        Assert.NotNull(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(second)), None));

        Assert.Equal(new PasswordChange(true, 1), await Store.Identity.ChangePasswordAsync(new ChangePasswordParams(owner.Id, Hash, "new-hash", kept.Id), None));
        Assert.Equal("new-hash", (await Store.Identity.GetUserAsync(new UserParams(owner.Id), None))?.PasswordHash);
        Assert.Equal(kept, (await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(current)), None))?.Session);
        Assert.Null(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(second)), None));
        Assert.NotNull(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(others)), None));
        Assert.Equal(Hash, (await Store.Identity.GetUserAsync(new UserParams(other.Id), None))?.PasswordHash);

        // Without a session to keep, all of them end.
        Assert.Equal(new PasswordChange(true, 1), await Store.Identity.ChangePasswordAsync(new ChangePasswordParams(owner.Id, "new-hash", "newer-hash", null), None));
        Assert.Null(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(current)), None));
    }

    [SkippableFact]
    public async Task Of_concurrent_password_changes_from_the_same_hash_exactly_one_wins()
    {
        var owner = (await FirstOwnerAsync()).User;
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => Store.Identity.ChangePasswordAsync(new ChangePasswordParams(owner.Id, Hash, $"hash-{i}", null), None))));
        var winner = Assert.Single(Enumerable.Range(0, 16), i => results[i].Changed);
        Assert.Equal($"hash-{winner}", (await Store.Identity.GetUserAsync(new UserParams(owner.Id), None))?.PasswordHash);
    }

    [SkippableFact]
    public async Task A_new_session_sweeps_the_users_expired_ones()
    {
        var owner = (await FirstOwnerAsync()).User;
        var other = await MemberAsync(OrgA, "other@example.com", Role.Member);
        var old = Tokens.New();
        var live = Tokens.New();
        var othersOld = Tokens.New();
        await SessionAsync(owner.Id, OrgA, old, Start.AddHours(1));
        await SessionAsync(owner.Id, null, live, Start.AddDays(1));
        await SessionAsync(other.Id, OrgA, othersOld, Start.AddHours(1));

        Time.Advance(TimeSpan.FromHours(2));
        // Expired sessions are still found (the caller checks expires_at) until swept.
        Assert.NotNull(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(old)), None));
        await SessionAsync(owner.Id, OrgA, Tokens.New());

        Assert.Null(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(old)), None));
        var kept = await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(live)), None);
        Assert.NotNull(kept);
        Assert.Null(kept.Session.OrganizationId);
        Assert.Null(kept.Role);
        Assert.NotNull(await Store.Identity.FindSessionAsync(new FindSessionParams(Tokens.Hash(othersOld)), None));
    }
}
