using Kairos.Core;
using Kairos.Core.Auth;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// Users, organizations, memberships, invites and sessions on SQLite. Every write runs on the single writer, so the
/// checks that must be atomic (no user yet, last owner) read and write inside one transaction with nothing in between.
/// </summary>
internal sealed class SqliteIdentityStore(SqliteStore store) : IIdentityStore
{
    private const string UserColumns = "id, email, name, password_hash, created_at";
    private const string InviteColumns = "id, organization_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at";
    private const string SessionColumns = "id, token_hash, user_id, organization_id, csrf_token, created_at, expires_at, last_seen_at";

    public Task<bool> AnyUserAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(c => Scalar(c, "SELECT EXISTS (SELECT 1 FROM users)") is long n && n != 0, cancellationToken);

    public Task<FirstOwner?> CreateFirstOwnerAsync(CreateFirstOwnerParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            if (ctx.Cmd("SELECT EXISTS (SELECT 1 FROM users)").ExecuteScalar() is long n && n != 0) return null;
            var now = ctx.Now;
            var org = p.OrganizationId.ToString();
            ctx.Cmd("INSERT INTO organizations (id, name, created_at) VALUES ($id, $name, $now) ON CONFLICT (id) DO UPDATE SET name = $name, " +
                    "created_at = CASE WHEN organizations.created_at = 0 THEN $now ELSE organizations.created_at END")
                .Set("$id", org).Set("$name", p.OrganizationName).Set("$now", Ms(now)).ExecuteNonQuery();
            var user = InsertUser(ctx, p.Email, p.Name, p.PasswordHash);
            InsertMembership(ctx, org, user.Id, Role.Owner);
            return new FirstOwner(user, ReadOrganization(ctx, org)!);
        }, cancellationToken);

    public Task<User?> GetUserAsync(UserParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c => One(c, $"SELECT {UserColumns} FROM users WHERE id = $v", p.UserId.ToString(), ReadUser), cancellationToken);

    public Task<User?> FindUserByEmailAsync(FindUserParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c => One(c, $"SELECT {UserColumns} FROM users WHERE email = $v", Emails.Normalize(p.Email), ReadUser), cancellationToken);

    public Task<User?> RenameUserAsync(RenameUserParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
            ctx.Cmd("UPDATE users SET name = $name WHERE id = $id").Set("$name", p.Name).Set("$id", p.UserId.ToString()).ExecuteNonQuery() == 0
                ? null
                : ReadUserById(ctx, p.UserId),
            cancellationToken);

    public Task<PasswordChange> ChangePasswordAsync(ChangePasswordParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var user = p.UserId.ToString();
            if (ctx.Cmd("UPDATE users SET password_hash = $new WHERE id = $id AND password_hash = $expected")
                    .Set("$new", p.NewHash).Set("$id", user).Set("$expected", p.ExpectedHash).ExecuteNonQuery() == 0)
            {
                return new PasswordChange(false, 0);
            }
            var ended = ctx.Cmd("DELETE FROM sessions WHERE user_id = $id AND id IS NOT $keep")
                .Set("$id", user).Set("$keep", p.KeepSessionId?.ToString()).ExecuteNonQuery();
            return new PasswordChange(true, ended);
        }, cancellationToken);

    public Task<Organization> CreateOrganizationAsync(CreateOrganizationParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = new Organization { Id = Ids.New(ctx.Time), Name = p.Name, CreatedAt = ctx.Now };
            ctx.Cmd("INSERT INTO organizations (id, name, created_at) VALUES ($id, $name, $now)")
                .Set("$id", org.Id.ToString()).Set("$name", org.Name).Set("$now", Ms(org.CreatedAt)).ExecuteNonQuery();
            InsertMembership(ctx, org.Id.ToString(), p.OwnerUserId, Role.Owner);
            return org;
        }, cancellationToken);

    public Task<Organization?> GetOrganizationAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c => One(c, "SELECT id, name, created_at FROM organizations WHERE id = $v", p.OrganizationId.ToString(), ReadOrganization), cancellationToken);

    public Task<Organization?> RenameOrganizationAsync(RenameOrganizationParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            return ctx.Cmd("UPDATE organizations SET name = $name WHERE id = $id").Set("$name", p.Name).Set("$id", org).ExecuteNonQuery() == 0
                ? null
                : ReadOrganization(ctx, org);
        }, cancellationToken);

    public Task<bool> DeleteOrganizationAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            if (ctx.Cmd("DELETE FROM organizations WHERE id = $id").Set("$id", org).ExecuteNonQuery() == 0) return false;
            // Every table that carries organization_id, whoever added it: nothing of the organization is left behind.
            var tables = new List<string>();
            using (var r = ctx.Cmd("SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c " +
                                   "WHERE m.type = 'table' AND c.name = 'organization_id' ORDER BY m.name").ExecuteReader())
            {
                while (r.Read()) tables.Add(r.GetString(0));
            }
            foreach (var table in tables)
            {
                var sql = table == "sessions"
                    ? "UPDATE sessions SET organization_id = NULL WHERE organization_id = $org"
                    : $"DELETE FROM \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\" WHERE organization_id = $org";
                ctx.Cmd(sql).Set("$org", org).ExecuteNonQuery();
            }
            ctx.Invalidate(); // cached queue and worker rows of the organization are gone
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<OrganizationMembership>> ListOrganizationsAsync(UserParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<OrganizationMembership>>(c => Many(c,
            "SELECT o.id, o.name, o.created_at, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id " +
            "WHERE m.user_id = $v ORDER BY m.created_at, o.id", p.UserId.ToString(),
            r => new OrganizationMembership(ReadOrganization(r), Roles.Parse(r.GetString(3)))), cancellationToken);

    public Task<IReadOnlyList<Member>> ListMembersAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<Member>>(c => Many(c,
            "SELECT u.id, u.email, u.name, u.password_hash, u.created_at, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id " +
            "WHERE m.organization_id = $v ORDER BY m.created_at, u.id", p.OrganizationId.ToString(),
            r => new Member(ReadUser(r), Roles.Parse(r.GetString(5)), Time(r.GetInt64(6)))), cancellationToken);

    public Task<Role?> GetRoleAsync(MembershipParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT role FROM memberships WHERE organization_id = $org AND user_id = $user";
            cmd.Set("$org", p.OrganizationId.ToString()).Set("$user", p.UserId.ToString());
            return cmd.ExecuteScalar() is string role ? Roles.Parse(role) : (Role?)null;
        }, cancellationToken);

    public Task<MemberChange> ChangeRoleAsync(ChangeRoleParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            var user = p.UserId.ToString();
            var check = Check(ctx, org, user, p.MayManageOwners, p.Role);
            if (check != MemberChange.Applied) return check;
            ctx.Cmd("UPDATE memberships SET role = $role WHERE organization_id = $org AND user_id = $user")
                .Set("$role", p.Role.Name()).Set("$org", org).Set("$user", user).ExecuteNonQuery();
            return MemberChange.Applied;
        }, cancellationToken);

    public Task<MemberChange> RemoveMemberAsync(RemoveMemberParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var org = p.OrganizationId.ToString();
            var user = p.UserId.ToString();
            var check = Check(ctx, org, user, p.MayManageOwners, newRole: null);
            if (check != MemberChange.Applied) return check;
            ctx.Cmd("DELETE FROM memberships WHERE organization_id = $org AND user_id = $user").Set("$org", org).Set("$user", user).ExecuteNonQuery();
            return MemberChange.Applied;
        }, cancellationToken);

    /// <summary>Whether the member's role may become <paramref name="newRole"/> (null: the member leaves), read inside the write.</summary>
    private static MemberChange Check(WriteContext ctx, string org, string user, bool mayManageOwners, Role? newRole)
    {
        var current = ctx.Cmd("SELECT role FROM memberships WHERE organization_id = $org AND user_id = $user")
            .Set("$org", org).Set("$user", user).ExecuteScalar() is string s ? Roles.Parse(s) : (Role?)null;
        if (current is null) return MemberChange.NotFound;
        if (!mayManageOwners && (current == Role.Owner || newRole == Role.Owner)) return MemberChange.OwnersOnly;
        if (current == Role.Owner && newRole != Role.Owner)
        {
            var owners = (long)ctx.Cmd("SELECT COUNT(*) FROM memberships WHERE organization_id = $org AND role = 'owner'").Set("$org", org).ExecuteScalar()!;
            if (owners <= 1) return MemberChange.LastOwner;
        }
        return MemberChange.Applied;
    }

    public Task<Invite> CreateInviteAsync(CreateInviteParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var invite = new Invite
            {
                Id = Ids.New(ctx.Time),
                OrganizationId = p.OrganizationId,
                Email = Emails.Normalize(p.Email),
                Role = p.Role,
                TokenHash = p.TokenHash,
                InvitedBy = p.InvitedBy,
                CreatedAt = ctx.Now,
                ExpiresAt = p.ExpiresAt,
            };
            var org = p.OrganizationId.ToString();
            ctx.Cmd("DELETE FROM invites WHERE organization_id = $org AND email = $email AND accepted_at IS NULL")
                .Set("$org", org).Set("$email", invite.Email).ExecuteNonQuery();
            ctx.Cmd($"INSERT INTO invites ({InviteColumns}) VALUES ($id, $org, $email, $role, $hash, $by, $created, $expires, NULL)")
                .Set("$id", invite.Id.ToString()).Set("$org", org).Set("$email", invite.Email).Set("$role", invite.Role.Name())
                .Set("$hash", invite.TokenHash).Set("$by", invite.InvitedBy?.ToString()).Set("$created", Ms(invite.CreatedAt))
                .Set("$expires", Ms(invite.ExpiresAt)).ExecuteNonQuery();
            return invite;
        }, cancellationToken);

    public Task<IReadOnlyList<Invite>> ListInvitesAsync(OrganizationParams p, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<Invite>>(c => Many(c,
            $"SELECT {InviteColumns} FROM invites WHERE organization_id = $v AND accepted_at IS NULL ORDER BY created_at DESC, id DESC",
            p.OrganizationId.ToString(), ReadInvite), cancellationToken);

    public Task<bool> DeleteInviteAsync(InviteParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
            ctx.Cmd("DELETE FROM invites WHERE id = $id AND organization_id = $org AND accepted_at IS NULL")
                .Set("$id", p.InviteId.ToString()).Set("$org", p.OrganizationId.ToString()).ExecuteNonQuery() > 0,
            cancellationToken);

    public Task<Invite?> FindInviteAsync(FindInviteParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c => One(c, $"SELECT {InviteColumns} FROM invites WHERE token_hash = $v", p.TokenHash, ReadInvite), cancellationToken);

    public Task<AcceptInviteResult> AcceptInviteAsync(AcceptInviteParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            Invite? invite;
            using (var r = ctx.Cmd($"SELECT {InviteColumns} FROM invites WHERE token_hash = $hash").Set("$hash", p.TokenHash).ExecuteReader())
            {
                invite = r.Read() ? ReadInvite(r) : null;
            }
            if (invite is null) return new AcceptInviteResult(AcceptInviteStatus.NotFound);
            if (invite.AcceptedAt is not null) return new AcceptInviteResult(AcceptInviteStatus.AlreadyAccepted, Invite: invite);
            if (invite.ExpiresAt <= ctx.Now) return new AcceptInviteResult(AcceptInviteStatus.Expired, Invite: invite);
            User user;
            if (p.NewUser is { } fresh)
            {
                if (FindUser(ctx, invite.Email) is not null) return new AcceptInviteResult(AcceptInviteStatus.EmailTaken, Invite: invite);
                user = InsertUser(ctx, invite.Email, fresh.Name, fresh.PasswordHash);
            }
            else
            {
                var existing = p.UserId is { } id ? ReadUserById(ctx, id) : null;
                if (existing is null || existing.Email != invite.Email) return new AcceptInviteResult(AcceptInviteStatus.WrongUser, Invite: invite);
                user = existing;
            }
            ctx.Cmd("INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($org, $user, $role, $now) " +
                    "ON CONFLICT (organization_id, user_id) DO NOTHING")
                .Set("$org", invite.OrganizationId.ToString()).Set("$user", user.Id.ToString()).Set("$role", invite.Role.Name())
                .Set("$now", Ms(ctx.Now)).ExecuteNonQuery();
            ctx.Cmd("UPDATE invites SET accepted_at = $now WHERE id = $id").Set("$now", Ms(ctx.Now)).Set("$id", invite.Id.ToString()).ExecuteNonQuery();
            return new AcceptInviteResult(AcceptInviteStatus.Accepted, user, invite with { AcceptedAt = ctx.Now });
        }, cancellationToken);

    public Task<Session> CreateSessionAsync(CreateSessionParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            var now = ctx.Now;
            var session = new Session
            {
                Id = Ids.New(ctx.Time),
                TokenHash = p.TokenHash,
                UserId = p.UserId,
                OrganizationId = p.OrganizationId,
                CsrfToken = p.CsrfToken,
                CreatedAt = now,
                ExpiresAt = p.ExpiresAt,
                LastSeenAt = now,
            };
            var user = p.UserId.ToString();
            ctx.Cmd("DELETE FROM sessions WHERE user_id = $user AND expires_at <= $now").Set("$user", user).Set("$now", Ms(now)).ExecuteNonQuery();
            ctx.Cmd($"INSERT INTO sessions ({SessionColumns}) VALUES ($id, $hash, $user, $org, $csrf, $now, $expires, $now)")
                .Set("$id", session.Id.ToString()).Set("$hash", session.TokenHash).Set("$user", user).Set("$org", session.OrganizationId?.ToString())
                .Set("$csrf", session.CsrfToken).Set("$now", Ms(now)).Set("$expires", Ms(session.ExpiresAt)).ExecuteNonQuery();
            return session;
        }, cancellationToken);

    public Task<SessionLookup?> FindSessionAsync(FindSessionParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c => One(c,
            "SELECT s.id, s.token_hash, s.user_id, s.organization_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at, " +
            "u.id, u.email, u.name, u.password_hash, u.created_at, m.role FROM sessions s JOIN users u ON u.id = s.user_id " +
            "LEFT JOIN memberships m ON m.organization_id = s.organization_id AND m.user_id = s.user_id WHERE s.token_hash = $v",
            p.TokenHash,
            r => new SessionLookup(ReadSession(r), ReadUser(r, 8), r.IsDBNull(13) ? null : Roles.Parse(r.GetString(13)))), cancellationToken);

    public Task<bool> SwitchOrganizationAsync(SwitchOrganizationParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
            ctx.Cmd("UPDATE sessions SET organization_id = $org WHERE id = $id AND EXISTS " +
                    "(SELECT 1 FROM memberships m WHERE m.organization_id = $org AND m.user_id = sessions.user_id)")
                .Set("$org", p.OrganizationId.ToString()).Set("$id", p.SessionId.ToString()).ExecuteNonQuery() > 0,
            cancellationToken);

    public Task TouchSessionAsync(SessionParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
            ctx.Cmd("UPDATE sessions SET last_seen_at = $now WHERE id = $id").Set("$now", Ms(ctx.Now)).Set("$id", p.SessionId.ToString()).ExecuteNonQuery(),
            cancellationToken);

    public Task<bool> DeleteSessionAsync(SessionParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => ctx.Cmd("DELETE FROM sessions WHERE id = $id").Set("$id", p.SessionId.ToString()).ExecuteNonQuery() > 0, cancellationToken);

    // ------------------------------------------------------------------ rows

    private static User InsertUser(WriteContext ctx, string email, string name, string passwordHash)
    {
        var user = new User { Id = Ids.New(ctx.Time), Email = Emails.Normalize(email), Name = name, PasswordHash = passwordHash, CreatedAt = ctx.Now };
        ctx.Cmd($"INSERT INTO users ({UserColumns}) VALUES ($id, $email, $name, $hash, $now)")
            .Set("$id", user.Id.ToString()).Set("$email", user.Email).Set("$name", user.Name).Set("$hash", user.PasswordHash)
            .Set("$now", Ms(user.CreatedAt)).ExecuteNonQuery();
        return user;
    }

    private static void InsertMembership(WriteContext ctx, string org, Guid user, Role role) =>
        ctx.Cmd("INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($org, $user, $role, $now)")
            .Set("$org", org).Set("$user", user.ToString()).Set("$role", role.Name()).Set("$now", Ms(ctx.Now)).ExecuteNonQuery();

    private static User? FindUser(WriteContext ctx, string email)
    {
        using var r = ctx.Cmd($"SELECT {UserColumns} FROM users WHERE email = $email").Set("$email", Emails.Normalize(email)).ExecuteReader();
        return r.Read() ? ReadUser(r) : null;
    }

    private static User? ReadUserById(WriteContext ctx, Guid id)
    {
        using var r = ctx.Cmd($"SELECT {UserColumns} FROM users WHERE id = $id").Set("$id", id.ToString()).ExecuteReader();
        return r.Read() ? ReadUser(r) : null;
    }

    private static Organization? ReadOrganization(WriteContext ctx, string id)
    {
        using var r = ctx.Cmd("SELECT id, name, created_at FROM organizations WHERE id = $id").Set("$id", id).ExecuteReader();
        return r.Read() ? ReadOrganization(r) : null;
    }

    private static object? Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    /// <summary>The first row of a query with one parameter <c>$v</c>, or null.</summary>
    private static T? One<T>(SqliteConnection c, string sql, string value, Func<SqliteDataReader, T> read) where T : class
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Set("$v", value);
        using var r = cmd.ExecuteReader();
        return r.Read() ? read(r) : null;
    }

    /// <summary>Every row of a query with one parameter <c>$v</c>.</summary>
    private static List<T> Many<T>(SqliteConnection c, string sql, string value, Func<SqliteDataReader, T> read)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Set("$v", value);
        var list = new List<T>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(read(r));
        return list;
    }

    private static User ReadUser(SqliteDataReader r) => ReadUser(r, 0);

    private static User ReadUser(SqliteDataReader r, int o) => new()
    {
        Id = Guid.Parse(r.GetString(o)),
        Email = r.GetString(o + 1),
        Name = r.GetString(o + 2),
        PasswordHash = r.GetString(o + 3),
        CreatedAt = Time(r.GetInt64(o + 4)),
    };

    private static Organization ReadOrganization(SqliteDataReader r) => new()
    {
        Id = Guid.Parse(r.GetString(0)),
        Name = r.GetString(1),
        CreatedAt = Time(r.GetInt64(2)),
    };

    private static Invite ReadInvite(SqliteDataReader r) => new()
    {
        Id = Guid.Parse(r.GetString(0)),
        OrganizationId = Guid.Parse(r.GetString(1)),
        Email = r.GetString(2),
        Role = Roles.Parse(r.GetString(3)),
        TokenHash = r.GetString(4),
        InvitedBy = GuidOrNull(r, 5),
        CreatedAt = Time(r.GetInt64(6)),
        ExpiresAt = Time(r.GetInt64(7)),
        AcceptedAt = TimeOrNull(r, 8),
    };

    private static Session ReadSession(SqliteDataReader r) => new()
    {
        Id = Guid.Parse(r.GetString(0)),
        TokenHash = r.GetString(1),
        UserId = Guid.Parse(r.GetString(2)),
        OrganizationId = GuidOrNull(r, 3),
        CsrfToken = r.GetString(4),
        CreatedAt = Time(r.GetInt64(5)),
        ExpiresAt = Time(r.GetInt64(6)),
        LastSeenAt = Time(r.GetInt64(7)),
    };
}
