using System.Text;
using Kairos.Core.Audit;
using Kairos.Core.Storage;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>The audit log on PostgreSQL: one multi-row INSERT per append (usually one row: the request's entry).</summary>
internal sealed class PostgresAuditStore(PostgresStore store) : IAuditStore
{
    private NpgsqlDataSource Db => store.DataSource;

    public async Task AppendAsync(AppendAuditParams p, CancellationToken cancellationToken)
    {
        if (p.Entries.Count == 0) return;
        var e = p.Entries;
        // Rows are inserted in the order of the entries, so seq follows it.
        await using var cmd = Db.CreateCommand(
            "INSERT INTO audit_log (id, organization_id, time, actor_type, actor_id, actor_name, action, target_type, target_id, ip, request_id, status, details) " +
            "SELECT id, org, time, actor_type, actor_id, actor_name, action, target_type, target_id, ip, request_id, status, details::jsonb " +
            "FROM unnest(@id, @org, @time, @actor_type, @actor_id, @actor_name, @action, @target_type, @target_id, @ip, @request_id, @status, @details) " +
            "WITH ORDINALITY AS e(id, org, time, actor_type, actor_id, actor_name, action, target_type, target_id, ip, request_id, status, details, n) ORDER BY n");
        cmd.Parameters.Uuids("id", [.. e.Select(x => x.Id)])
            .NullableUuids("org", [.. e.Select(x => x.OrganizationId)])
            .Longs("time", [.. e.Select(x => (long?)Ms(x.Time))])
            .Texts("actor_type", [.. e.Select(x => x.ActorType.Name())])
            .NullableUuids("actor_id", [.. e.Select(x => x.ActorId)])
            .Texts("actor_name", [.. e.Select(x => x.ActorName)])
            .Texts("action", [.. e.Select(x => x.Action)])
            .Texts("target_type", [.. e.Select(x => x.TargetType)])
            .Texts("target_id", [.. e.Select(x => x.TargetId)])
            .Texts("ip", [.. e.Select(x => x.Ip)])
            .Texts("request_id", [.. e.Select(x => x.RequestId)])
            .Ints("status", [.. e.Select(x => (int?)x.Status)])
            .Texts("details", [.. e.Select(x => x.Details)]);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Page<AuditEntry>> ListAsync(ListAuditParams p, CancellationToken cancellationToken)
    {
        var after = AuditCursor.Decode(p.Cursor);
        await using var cmd = Db.CreateCommand();
        var sql = new StringBuilder($"SELECT {AuditRows.Columns} FROM audit_log WHERE organization_id = @org");
        cmd.Parameters.Uuid("org", p.OrganizationId);
        if (p.ActorType is { } type) { sql.Append(" AND actor_type = @actor_type"); cmd.Parameters.Text("actor_type", type.Name()); }
        if (p.ActorId is { } actor) { sql.Append(" AND actor_id = @actor_id"); cmd.Parameters.Uuid("actor_id", actor); }
        if (p.Action is { } action)
        {
            if (AuditActions.ActionPrefix(action) is { } prefix)
            {
                sql.Append(" AND left(action, @prefix_length) = @prefix");
                cmd.Parameters.Text("prefix", prefix).Int("prefix_length", prefix.Length);
            }
            else
            {
                sql.Append(" AND action = @action");
                cmd.Parameters.Text("action", action);
            }
        }
        if (p.TargetType is { } targetType) { sql.Append(" AND target_type = @target_type"); cmd.Parameters.Text("target_type", targetType); }
        if (p.TargetId is { } targetId) { sql.Append(" AND target_id = @target_id"); cmd.Parameters.Text("target_id", targetId); }
        if (p.Since is { } since) { sql.Append(" AND time >= @since"); cmd.Parameters.Long("since", Ms(since)); }
        if (p.Until is { } until) { sql.Append(" AND time < @until"); cmd.Parameters.Long("until", Ms(until)); }
        if (after is { } seq) { sql.Append(" AND seq < @after"); cmd.Parameters.Long("after", seq); }
        sql.Append(" ORDER BY seq DESC LIMIT @limit");
        cmd.Parameters.Int("limit", p.Limit + 1);
        cmd.CommandText = sql.ToString();
        var items = new List<AuditEntry>(Math.Min(p.Limit + 1, 512));
        long last = 0;
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            if (items.Count == p.Limit) return new Page<AuditEntry>(items, AuditCursor.Encode(last));
            items.Add(AuditRows.Read(r));
            last = r.GetInt64(0);
        }
        return new Page<AuditEntry>(items, null);
    }

    public async Task<AuditEntry?> GetAsync(AuditEntryParams p, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand($"SELECT {AuditRows.Columns} FROM audit_log WHERE id = @id AND organization_id = @org");
        cmd.Parameters.Uuid("id", p.EntryId).Uuid("org", p.OrganizationId);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? AuditRows.Read(r) : null;
    }
}
