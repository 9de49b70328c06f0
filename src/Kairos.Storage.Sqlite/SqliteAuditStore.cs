using System.Text;
using Kairos.Core.Audit;
using Kairos.Core.Storage;
using Microsoft.Data.Sqlite;
using static Kairos.Storage.Sqlite.Rows;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// The audit log on SQLite. Appends go through the single writer like every write, so an entry written while answering
/// a request is group-committed with the other writes of the moment: cheap, and durable before the answer leaves.
/// </summary>
internal sealed class SqliteAuditStore(SqliteStore store) : IAuditStore
{
    public Task AppendAsync(AppendAuditParams p, CancellationToken cancellationToken)
    {
        if (p.Entries.Count == 0) return Task.CompletedTask;
        return store.WriteAsync(ctx =>
        {
            var cmd = ctx.Cmd("INSERT INTO audit_log (id, organization_id, time, actor_type, actor_id, actor_name, action, target_type, target_id, " +
                              "ip, request_id, status, details) VALUES ($id, $org, $time, $actor_type, $actor_id, $actor_name, $action, $target_type, " +
                              "$target_id, $ip, $request_id, $status, $details)");
            foreach (var e in p.Entries)
            {
                cmd.Set("$id", e.Id.ToString()).Set("$org", e.OrganizationId?.ToString()).Set("$time", Ms(e.Time))
                    .Set("$actor_type", e.ActorType.Name()).Set("$actor_id", e.ActorId?.ToString()).Set("$actor_name", e.ActorName)
                    .Set("$action", e.Action).Set("$target_type", e.TargetType).Set("$target_id", e.TargetId).Set("$ip", e.Ip)
                    .Set("$request_id", e.RequestId).Set("$status", e.Status).Set("$details", e.Details)
                    .ExecuteNonQuery();
            }
            return true;
        }, cancellationToken);
    }

    public Task<Page<AuditEntry>> ListAsync(ListAuditParams p, CancellationToken cancellationToken)
    {
        var after = AuditCursor.Decode(p.Cursor); // a bad cursor fails before any work
        return store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            var sql = new StringBuilder($"SELECT {AuditRows.Columns} FROM audit_log WHERE organization_id = $org");
            cmd.Set("$org", p.OrganizationId.ToString());
            if (p.ActorType is { } type) { sql.Append(" AND actor_type = $actor_type"); cmd.Set("$actor_type", type.Name()); }
            if (p.ActorId is { } actor) { sql.Append(" AND actor_id = $actor_id"); cmd.Set("$actor_id", actor.ToString()); }
            if (p.Action is { } action)
            {
                if (AuditActions.ActionPrefix(action) is { } prefix)
                {
                    sql.Append(" AND substr(action, 1, $prefix_length) = $prefix");
                    cmd.Set("$prefix", prefix).Set("$prefix_length", prefix.Length);
                }
                else
                {
                    sql.Append(" AND action = $action");
                    cmd.Set("$action", action);
                }
            }
            if (p.TargetType is { } targetType) { sql.Append(" AND target_type = $target_type"); cmd.Set("$target_type", targetType); }
            if (p.TargetId is { } targetId) { sql.Append(" AND target_id = $target_id"); cmd.Set("$target_id", targetId); }
            if (p.Since is { } since) { sql.Append(" AND time >= $since"); cmd.Set("$since", Ms(since)); }
            if (p.Until is { } until) { sql.Append(" AND time < $until"); cmd.Set("$until", Ms(until)); }
            if (after is { } seq) { sql.Append(" AND seq < $after"); cmd.Set("$after", seq); }
            sql.Append(" ORDER BY seq DESC LIMIT $limit");
            cmd.Set("$limit", p.Limit + 1);
            cmd.CommandText = sql.ToString();
            var items = new List<AuditEntry>(Math.Min(p.Limit + 1, 512));
            long last = 0;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                if (items.Count == p.Limit) return new Page<AuditEntry>(items, AuditCursor.Encode(last));
                items.Add(AuditRows.Read(r));
                last = r.GetInt64(0);
            }
            return new Page<AuditEntry>(items, null);
        }, cancellationToken);
    }

    public Task<AuditEntry?> GetAsync(AuditEntryParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT {AuditRows.Columns} FROM audit_log WHERE id = $id AND organization_id = $org";
            cmd.Set("$id", p.EntryId.ToString()).Set("$org", p.OrganizationId.ToString());
            using var r = cmd.ExecuteReader();
            return r.Read() ? AuditRows.Read(r) : null;
        }, cancellationToken);
}
