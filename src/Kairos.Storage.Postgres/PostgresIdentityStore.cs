using Kairos.Core;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Users, organizations, memberships, invites and sessions on PostgreSQL. The checks that must hold with several
/// nodes are serialized in the database: the first owner under a transaction-scoped advisory lock, membership changes
/// under the organization's row lock (so two demotions of the last two owners cannot both pass).
/// </summary>
internal sealed class PostgresIdentityStore(PostgresStore store) : IIdentityStore
{
    private const string UserColumns = "id, email, name, password_hash, created_at";
    private const string InviteColumns = "id, organization_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at";
    private const string SessionColumns = "id, token_hash, user_id, organization_id, csrf_token, created_at, expires_at, last_seen_at";

    private NpgsqlDataSource Db => store.DataSource;
    private long NowMs => Ms(store.Time.GetUtcNow());

    public async Task<bool> AnyUserAsync(CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT EXISTS (SELECT 1 FROM users)");
        return (bool)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    public Task<FirstOwner?> CreateFirstOwnerAsync(CreateFirstOwnerParams p, CancellationToken cancellationToken) =>
        InTransactionAsync<FirstOwner?>(async c =>
        {
            await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", c))
            {
                lockCmd.Parameters.Long("key", Keys.Of("first-owner", store.Schema));
                await lockCmd.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM users)", c))
            {
                if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!) return null;
            }
            Organization org;
            await using (var upsert = new NpgsqlCommand(
                "INSERT INTO organizations (id, name, created_at) VALUES (@id, @name, @now) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, " +
                "created_at = CASE WHEN organizations.created_at = 0 THEN EXCLUDED.created_at ELSE organizations.created_at END " +
                "RETURNING id, name, created_at", c))
            {
                upsert.Parameters.Uuid("id", p.OrganizationId).Text("name", p.OrganizationName).Long("now", NowMs);
                await using var r = await upsert.ExecuteReaderAsync(cancellationToken);
                await r.ReadAsync(cancellationToken);
                org = ReadOrganization(r);
            }
            var user = await InsertUserAsync(c, p.Email, p.Name, p.PasswordHash, cancellationToken)
                ?? throw new InvalidOperationException("a user appeared under the first-owner lock");
            await InsertMembershipAsync(c, org.Id, user.Id, Role.Owner, cancellationToken);
            return new FirstOwner(user, org);
        }, cancellationToken);

    public Task<User?> GetUserAsync(UserParams p, CancellationToken cancellationToken) =>
        OneAsync($"SELECT {UserColumns} FROM users WHERE id = @v", ps => ps.Uuid("v", p.UserId), r => ReadUser(r), cancellationToken);

    public Task<User?> FindUserByEmailAsync(FindUserParams p, CancellationToken cancellationToken) =>
        OneAsync($"SELECT {UserColumns} FROM users WHERE email = @v", ps => ps.Text("v", Emails.Normalize(p.Email)), r => ReadUser(r), cancellationToken);

    public Task<User?> RenameUserAsync(RenameUserParams p, CancellationToken cancellationToken) =>
        OneAsync($"UPDATE users SET name = @name WHERE id = @v RETURNING {UserColumns}",
            ps => ps.Uuid("v", p.UserId).Text("name", p.Name), r => ReadUser(r), cancellationToken);

    public Task<PasswordChange> ChangePasswordAsync(ChangePasswordParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            // The row lock of the update serializes concurrent changes: the second sees the new hash and changes nothing.
            await using (var update = new NpgsqlCommand("UPDATE users SET password_hash = @new WHERE id = @id AND password_hash = @expected", c))
            {
                update.Parameters.Text("new", p.NewHash).Uuid("id", p.UserId).Text("expected", p.ExpectedHash);
                if (await update.ExecuteNonQueryAsync(cancellationToken) == 0) return new PasswordChange(false, 0);
            }
            await using var end = new NpgsqlCommand("DELETE FROM sessions WHERE user_id = @id AND id IS DISTINCT FROM @keep", c);
            end.Parameters.Uuid("id", p.UserId).Uuid("keep", p.KeepSessionId);
            return new PasswordChange(true, await end.ExecuteNonQueryAsync(cancellationToken));
        }, cancellationToken);

    public Task<Organization> CreateOrganizationAsync(CreateOrganizationParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            var org = new Organization { Id = Ids.New(store.Time), Name = p.Name, CreatedAt = store.Time.GetUtcNow() };
            await using (var cmd = new NpgsqlCommand("INSERT INTO organizations (id, name, created_at) VALUES (@id, @name, @now)", c))
            {
                cmd.Parameters.Uuid("id", org.Id).Text("name", org.Name).Long("now", Ms(org.CreatedAt));
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            await InsertMembershipAsync(c, org.Id, p.OwnerUserId, Role.Owner, cancellationToken);
            return org;
        }, cancellationToken);

    public Task<Organization?> GetOrganizationAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        OneAsync("SELECT id, name, created_at FROM organizations WHERE id = @v", ps => ps.Uuid("v", p.OrganizationId), ReadOrganization, cancellationToken);

    public Task<Organization?> RenameOrganizationAsync(RenameOrganizationParams p, CancellationToken cancellationToken) =>
        OneAsync("UPDATE organizations SET name = @name WHERE id = @v RETURNING id, name, created_at",
            ps => ps.Uuid("v", p.OrganizationId).Text("name", p.Name), ReadOrganization, cancellationToken);

    public Task<bool> DeleteOrganizationAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            await using (var delete = new NpgsqlCommand("DELETE FROM organizations WHERE id = @org", c))
            {
                delete.Parameters.Uuid("org", p.OrganizationId);
                if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0) return false;
            }
            // Every table of this schema that carries organization_id, whoever added it: nothing of the organization is left behind.
            var tables = new List<string>();
            await using (var list = new NpgsqlCommand(
                "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid " +
                "WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind IN ('r', 'p') " +
                "AND NOT c.relispartition AND a.attname = 'organization_id' AND NOT a.attisdropped ORDER BY c.relname", c))
            await using (var r = await list.ExecuteReaderAsync(cancellationToken))
            {
                while (await r.ReadAsync(cancellationToken)) tables.Add(r.GetString(0));
            }
            foreach (var table in tables)
            {
                var sql = table == "sessions"
                    ? "UPDATE sessions SET organization_id = NULL WHERE organization_id = @org"
                    : $"DELETE FROM {Migrations.QuoteIdentifier(table)} WHERE organization_id = @org";
                await using var cmd = new NpgsqlCommand(sql, c);
                cmd.Parameters.Uuid("org", p.OrganizationId);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<OrganizationMembership>> ListOrganizationsAsync(UserParams p, CancellationToken cancellationToken) =>
        ManyAsync("SELECT o.id, o.name, o.created_at, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id " +
                  "WHERE m.user_id = @v ORDER BY m.created_at, o.id", ps => ps.Uuid("v", p.UserId),
            r => new OrganizationMembership(ReadOrganization(r), Roles.Parse(r.GetString(3))), cancellationToken);

    public Task<IReadOnlyList<Member>> ListMembersAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        ManyAsync("SELECT u.id, u.email, u.name, u.password_hash, u.created_at, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id " +
                  "WHERE m.organization_id = @v ORDER BY m.created_at, u.id", ps => ps.Uuid("v", p.OrganizationId),
            r => new Member(ReadUser(r), Roles.Parse(r.GetString(5)), Time(r.GetInt64(6))), cancellationToken);

    public async Task<Role?> GetRoleAsync(MembershipParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("SELECT role FROM memberships WHERE organization_id = @org AND user_id = @user");
        cmd.Parameters.Uuid("org", p.OrganizationId).Uuid("user", p.UserId);
        return await cmd.ExecuteScalarAsync(cancellationToken) is string role ? Roles.Parse(role) : null;
    }

    public Task<MemberChange> ChangeRoleAsync(ChangeRoleParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            var check = await CheckAsync(c, p.OrganizationId, p.UserId, p.MayManageOwners, p.Role, cancellationToken);
            if (check != MemberChange.Applied) return check;
            await using var cmd = new NpgsqlCommand("UPDATE memberships SET role = @role WHERE organization_id = @org AND user_id = @user", c);
            cmd.Parameters.Text("role", p.Role.Name()).Uuid("org", p.OrganizationId).Uuid("user", p.UserId);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
            return MemberChange.Applied;
        }, cancellationToken);

    public Task<MemberChange> RemoveMemberAsync(RemoveMemberParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            var check = await CheckAsync(c, p.OrganizationId, p.UserId, p.MayManageOwners, null, cancellationToken);
            if (check != MemberChange.Applied) return check;
            await using var cmd = new NpgsqlCommand("DELETE FROM memberships WHERE organization_id = @org AND user_id = @user", c);
            cmd.Parameters.Uuid("org", p.OrganizationId).Uuid("user", p.UserId);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
            return MemberChange.Applied;
        }, cancellationToken);

    /// <summary>
    /// Locks the organization's row (membership changes of one organization run one at a time), then decides whether
    /// the member's role may become <paramref name="newRole"/> (null: the member leaves).
    /// </summary>
    private static async Task<MemberChange> CheckAsync(NpgsqlConnection c, Guid org, Guid user, bool mayManageOwners, Role? newRole, CancellationToken cancellationToken)
    {
        await using (var lockCmd = new NpgsqlCommand("SELECT 1 FROM organizations WHERE id = @org FOR UPDATE", c))
        {
            lockCmd.Parameters.Uuid("org", org);
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }
        Role? current;
        long owners;
        await using (var read = new NpgsqlCommand(
            "SELECT (SELECT role FROM memberships WHERE organization_id = @org AND user_id = @user), " +
            "(SELECT count(*) FROM memberships WHERE organization_id = @org AND role = 'owner')", c))
        {
            read.Parameters.Uuid("org", org).Uuid("user", user);
            await using var r = await read.ExecuteReaderAsync(cancellationToken);
            await r.ReadAsync(cancellationToken);
            current = r.IsDBNull(0) ? null : Roles.Parse(r.GetString(0));
            owners = r.GetInt64(1);
        }
        if (current is null) return MemberChange.NotFound;
        if (!mayManageOwners && (current == Role.Owner || newRole == Role.Owner)) return MemberChange.OwnersOnly;
        if (current == Role.Owner && newRole != Role.Owner && owners <= 1) return MemberChange.LastOwner;
        return MemberChange.Applied;
    }

    public Task<Invite> CreateInviteAsync(CreateInviteParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            var invite = new Invite
            {
                Id = Ids.New(store.Time),
                OrganizationId = p.OrganizationId,
                Email = Emails.Normalize(p.Email),
                Role = p.Role,
                TokenHash = p.TokenHash,
                InvitedBy = p.InvitedBy,
                CreatedAt = store.Time.GetUtcNow(),
                ExpiresAt = p.ExpiresAt,
            };
            await using (var withdraw = new NpgsqlCommand("DELETE FROM invites WHERE organization_id = @org AND email = @email AND accepted_at IS NULL", c))
            {
                withdraw.Parameters.Uuid("org", invite.OrganizationId).Text("email", invite.Email);
                await withdraw.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var insert = new NpgsqlCommand(
                $"INSERT INTO invites ({InviteColumns}) VALUES (@id, @org, @email, @role, @hash, @by, @created, @expires, NULL)", c);
            insert.Parameters.Uuid("id", invite.Id).Uuid("org", invite.OrganizationId).Text("email", invite.Email).Text("role", invite.Role.Name())
                .Text("hash", invite.TokenHash).Uuid("by", invite.InvitedBy).Long("created", Ms(invite.CreatedAt)).Long("expires", Ms(invite.ExpiresAt));
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return invite;
        }, cancellationToken);

    public Task<IReadOnlyList<Invite>> ListInvitesAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        ManyAsync($"SELECT {InviteColumns} FROM invites WHERE organization_id = @v AND accepted_at IS NULL ORDER BY created_at DESC, id DESC",
            ps => ps.Uuid("v", p.OrganizationId), ReadInvite, cancellationToken);

    public async Task<bool> DeleteInviteAsync(InviteParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("DELETE FROM invites WHERE id = @id AND organization_id = @org AND accepted_at IS NULL");
        cmd.Parameters.Uuid("id", p.InviteId).Uuid("org", p.OrganizationId);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public Task<Invite?> FindInviteAsync(FindInviteParams p, CancellationToken cancellationToken) =>
        OneAsync($"SELECT {InviteColumns} FROM invites WHERE token_hash = @v", ps => ps.Text("v", p.TokenHash), ReadInvite, cancellationToken);

    public Task<AcceptInviteResult> AcceptInviteAsync(AcceptInviteParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            Invite? invite;
            await using (var find = new NpgsqlCommand($"SELECT {InviteColumns} FROM invites WHERE token_hash = @hash FOR UPDATE", c))
            {
                find.Parameters.Text("hash", p.TokenHash);
                await using var r = await find.ExecuteReaderAsync(cancellationToken);
                invite = await r.ReadAsync(cancellationToken) ? ReadInvite(r) : null;
            }
            var now = store.Time.GetUtcNow();
            if (invite is null) return new AcceptInviteResult(AcceptInviteStatus.NotFound);
            if (invite.AcceptedAt is not null) return new AcceptInviteResult(AcceptInviteStatus.AlreadyAccepted, Invite: invite);
            if (invite.ExpiresAt <= now) return new AcceptInviteResult(AcceptInviteStatus.Expired, Invite: invite);
            User user;
            if (p.NewUser is { } fresh)
            {
                var created = await InsertUserAsync(c, invite.Email, fresh.Name, fresh.PasswordHash, cancellationToken);
                if (created is null) return new AcceptInviteResult(AcceptInviteStatus.EmailTaken, Invite: invite);
                user = created;
            }
            else
            {
                User? existing = null;
                if (p.UserId is { } id)
                {
                    await using var read = new NpgsqlCommand($"SELECT {UserColumns} FROM users WHERE id = @id", c);
                    read.Parameters.Uuid("id", id);
                    await using var r = await read.ExecuteReaderAsync(cancellationToken);
                    existing = await r.ReadAsync(cancellationToken) ? ReadUser(r) : null;
                }
                if (existing is null || existing.Email != invite.Email) return new AcceptInviteResult(AcceptInviteStatus.WrongUser, Invite: invite);
                user = existing;
            }
            await using (var member = new NpgsqlCommand(
                "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES (@org, @user, @role, @now) " +
                "ON CONFLICT (organization_id, user_id) DO NOTHING", c))
            {
                member.Parameters.Uuid("org", invite.OrganizationId).Uuid("user", user.Id).Text("role", invite.Role.Name()).Long("now", Ms(now));
                await member.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var accept = new NpgsqlCommand("UPDATE invites SET accepted_at = @now WHERE id = @id", c))
            {
                accept.Parameters.Long("now", Ms(now)).Uuid("id", invite.Id);
                await accept.ExecuteNonQueryAsync(cancellationToken);
            }
            return new AcceptInviteResult(AcceptInviteStatus.Accepted, user, invite with { AcceptedAt = now });
        }, cancellationToken);

    public Task<Session> CreateSessionAsync(CreateSessionParams p, CancellationToken cancellationToken) =>
        InTransactionAsync(async c =>
        {
            var now = store.Time.GetUtcNow();
            var session = new Session
            {
                Id = Ids.New(store.Time),
                TokenHash = p.TokenHash,
                UserId = p.UserId,
                OrganizationId = p.OrganizationId,
                CsrfToken = p.CsrfToken,
                CreatedAt = now,
                ExpiresAt = p.ExpiresAt,
                LastSeenAt = now,
            };
            await using (var expired = new NpgsqlCommand("DELETE FROM sessions WHERE user_id = @user AND expires_at <= @now", c))
            {
                expired.Parameters.Uuid("user", p.UserId).Long("now", Ms(now));
                await expired.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var insert = new NpgsqlCommand(
                $"INSERT INTO sessions ({SessionColumns}) VALUES (@id, @hash, @user, @org, @csrf, @now, @expires, @now)", c);
            insert.Parameters.Uuid("id", session.Id).Text("hash", session.TokenHash).Uuid("user", session.UserId).Uuid("org", session.OrganizationId)
                .Text("csrf", session.CsrfToken).Long("now", Ms(now)).Long("expires", Ms(session.ExpiresAt));
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return session;
        }, cancellationToken);

    public Task<SessionLookup?> FindSessionAsync(FindSessionParams p, CancellationToken cancellationToken) =>
        OneAsync("SELECT s.id, s.token_hash, s.user_id, s.organization_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at, " +
                 "u.id, u.email, u.name, u.password_hash, u.created_at, m.role FROM sessions s JOIN users u ON u.id = s.user_id " +
                 "LEFT JOIN memberships m ON m.organization_id = s.organization_id AND m.user_id = s.user_id WHERE s.token_hash = @v",
            ps => ps.Text("v", p.TokenHash),
            r => new SessionLookup(ReadSession(r), ReadUser(r, 8), r.IsDBNull(13) ? null : Roles.Parse(r.GetString(13))), cancellationToken);

    public async Task<bool> SwitchOrganizationAsync(SwitchOrganizationParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("UPDATE sessions s SET organization_id = @org WHERE s.id = @id AND EXISTS " +
                                               "(SELECT 1 FROM memberships m WHERE m.organization_id = @org AND m.user_id = s.user_id)");
        cmd.Parameters.Uuid("org", p.OrganizationId).Uuid("id", p.SessionId);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task TouchSessionAsync(SessionParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("UPDATE sessions SET last_seen_at = @now WHERE id = @id");
        cmd.Parameters.Long("now", NowMs).Uuid("id", p.SessionId);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> DeleteSessionAsync(SessionParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand("DELETE FROM sessions WHERE id = @id");
        cmd.Parameters.Uuid("id", p.SessionId);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Runs <paramref name="work"/> in one transaction on one pooled connection, committed when it returns.</summary>
    private async Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection);
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>The new user; null when the email already has an account.</summary>
    private async Task<User?> InsertUserAsync(NpgsqlConnection c, string email, string name, string passwordHash, CancellationToken cancellationToken)
    {
        var user = new User { Id = Ids.New(store.Time), Email = Emails.Normalize(email), Name = name, PasswordHash = passwordHash, CreatedAt = store.Time.GetUtcNow() };
        await using var cmd = new NpgsqlCommand($"INSERT INTO users ({UserColumns}) VALUES (@id, @email, @name, @hash, @now) ON CONFLICT (email) DO NOTHING", c);
        cmd.Parameters.Uuid("id", user.Id).Text("email", user.Email).Text("name", user.Name).Text("hash", user.PasswordHash).Long("now", Ms(user.CreatedAt));
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 0 ? null : user;
    }

    private async Task InsertMembershipAsync(NpgsqlConnection c, Guid org, Guid user, Role role, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES (@org, @user, @role, @now)", c);
        cmd.Parameters.Uuid("org", org).Uuid("user", user).Text("role", role.Name()).Long("now", NowMs);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<T?> OneAsync<T>(string sql, Action<NpgsqlParameterCollection> set, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
        where T : class
    {
        await using var cmd = Db.CreateCommand(sql);
        set(cmd.Parameters);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? read(r) : null;
    }

    private async Task<IReadOnlyList<T>> ManyAsync<T>(string sql, Action<NpgsqlParameterCollection> set, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand(sql);
        set(cmd.Parameters);
        var list = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) list.Add(read(r));
        return list;
    }

    private static User ReadUser(NpgsqlDataReader r, int o = 0) => new()
    {
        Id = r.GetGuid(o),
        Email = r.GetString(o + 1),
        Name = r.GetString(o + 2),
        PasswordHash = r.GetString(o + 3),
        CreatedAt = Time(r.GetInt64(o + 4)),
    };

    private static Organization ReadOrganization(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        Name = r.GetString(1),
        CreatedAt = Time(r.GetInt64(2)),
    };

    private static Invite ReadInvite(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        OrganizationId = r.GetGuid(1),
        Email = r.GetString(2),
        Role = Roles.Parse(r.GetString(3)),
        TokenHash = r.GetString(4),
        InvitedBy = GuidOrNull(r, 5),
        CreatedAt = Time(r.GetInt64(6)),
        ExpiresAt = Time(r.GetInt64(7)),
        AcceptedAt = TimeOrNull(r, 8),
    };

    private static Session ReadSession(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        TokenHash = r.GetString(1),
        UserId = r.GetGuid(2),
        OrganizationId = GuidOrNull(r, 3),
        CsrfToken = r.GetString(4),
        CreatedAt = Time(r.GetInt64(5)),
        ExpiresAt = Time(r.GetInt64(6)),
        LastSeenAt = Time(r.GetInt64(7)),
    };
}
