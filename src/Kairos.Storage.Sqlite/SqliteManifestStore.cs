using Kairos.Core.Manifests;
using Kairos.Core.Storage;

namespace Kairos.Storage.Sqlite;

/// <summary>
/// Manifest-managed objects on SQLite. An apply is one operation of the single writer: each write runs the same code as
/// the object's own store, inside a savepoint that a conflict rolls back whole.
/// </summary>
internal sealed class SqliteManifestStore(SqliteStore store) : IManifestStore
{
    public Task<IReadOnlyList<ManagedObject>> ListManagedAsync(Guid organizationId, CancellationToken cancellationToken) =>
        store.ReadAsync<IReadOnlyList<ManagedObject>>(c =>
        {
            var found = new List<ManagedObject>();
            foreach (var kind in ManifestRows.Kinds)
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = $"SELECT name, managed_by FROM {ManifestRows.Table(kind)} WHERE organization_id = $org AND managed_by IS NOT NULL ORDER BY name";
                using var r = cmd.Set("$org", organizationId.ToString()).ExecuteReader();
                while (r.Read()) found.Add(new ManagedObject(kind, r.GetString(0), r.GetString(1)));
            }
            return found;
        }, cancellationToken);

    public Task<ManagedState> GetManagerAsync(ManagedObjectParams p, CancellationToken cancellationToken) =>
        store.ReadAsync(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT managed_by FROM {ManifestRows.Table(p.Kind)} WHERE organization_id = $org AND name = $name";
            using var r = cmd.Set("$org", p.OrganizationId.ToString()).Set("$name", p.Name).ExecuteReader();
            return r.Read() ? new ManagedState(true, r.IsDBNull(0) ? null : r.GetString(0)) : default;
        }, cancellationToken);

    public Task<bool> SetManagerAsync(SetManagerParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx => Mark(ctx, p.OrganizationId.ToString(), p.Kind, p.Name, p.ManagedBy), cancellationToken);

    private static bool Mark(WriteContext ctx, string org, ManifestKind kind, string name, string? managedBy) =>
        ctx.Cmd($"UPDATE {ManifestRows.Table(kind)} SET managed_by = $by WHERE organization_id = $org AND name = $name")
            .Set("$by", managedBy).Set("$org", org).Set("$name", name).ExecuteNonQuery() > 0;

    public Task<ApplyManifestOutcome> ApplyAsync(ApplyManifestParams p, CancellationToken cancellationToken) =>
        store.WriteAsync(ctx =>
        {
            ctx.Exec("SAVEPOINT manifest");
            foreach (var write in p.Writes)
            {
                if (Write(ctx, p.OrganizationId, write, p.ManagedBy) is { } conflict)
                {
                    ctx.Exec("ROLLBACK TO manifest");
                    ctx.Exec("RELEASE manifest");
                    ctx.Invalidate();
                    return new ApplyManifestOutcome(false, write, conflict);
                }
            }
            ctx.Exec("RELEASE manifest");
            return ApplyManifestOutcome.Done;
        }, cancellationToken);

    /// <summary>One write; the conflict that stops the apply, or null.</summary>
    private static string? Write(WriteContext ctx, Guid org, ManifestWrite write, string managedBy)
    {
        switch (write)
        {
            case QueueWrite q:
                SqliteQueueStore.Upsert(ctx, new UpsertQueueParams(org, q.Name, q.Settings));
                break;
            case ScheduleWrite s:
                if (SqliteScheduleStore.Update(ctx, new UpdateScheduleParams(org, s.Definition)) is null &&
                    SqliteScheduleStore.Create(ctx, new CreateScheduleParams(org, s.Definition)) is null)
                {
                    return $"schedule '{s.Name}' was created meanwhile by another change; apply again";
                }
                break;
            case MonitorWrite m:
                var exists = SqliteMonitorStore.Find(ctx, org.ToString(), m.Name) is not null;
                var saved = exists
                    ? SqliteMonitorStore.Update(ctx, new UpdateMonitorParams(org, m.Definition))
                    : SqliteMonitorStore.Create(ctx, new CreateMonitorParams(org, m.Definition, m.PingKeyHash, m.PingKeySealed));
                if (saved is null)
                {
                    return !exists && SqliteMonitorStore.Find(ctx, org.ToString(), m.Name) is not null
                        ? $"monitor '{m.Name}' was created meanwhile by another change; apply again"
                        : $"the slug '{m.Definition.Slug}' belongs to another monitor";
                }
                break;
            case WorkflowTemplateWrite w:
                SqliteWorkflowTemplateStore.Put(ctx, new PutWorkflowTemplateParams(org, w.Name, w.Steps, managedBy));
                break;
            case AlertRuleWrite a:
                if (SqliteAlertStore.UpdateRule(ctx, new SaveRuleParams(org, a.Definition)) is null) SqliteAlertStore.CreateRule(ctx, new SaveRuleParams(org, a.Definition));
                break;
            case DeleteWrite d:
                return Delete(ctx, org, d);
        }
        Mark(ctx, org.ToString(), write.Kind, write.Name, managedBy);
        return null;
    }

    private static string? Delete(WriteContext ctx, Guid org, DeleteWrite d)
    {
        switch (d.Kind)
        {
            case ManifestKind.Queue:
                return SqliteQueueStore.Delete(ctx, new QueueParams(org, d.Name)) == DeleteQueueOutcome.NotEmpty
                    ? $"queue '{d.Name}' still has unfinished jobs; purge it or let them finish first"
                    : null;
            case ManifestKind.Schedule:
                SqliteScheduleStore.Delete(ctx, new ScheduleParams(org, d.Name));
                return null;
            case ManifestKind.Monitor:
                SqliteMonitorStore.Delete(ctx, new MonitorParams(org, d.Name));
                return null;
            case ManifestKind.Workflow:
                var result = SqliteWorkflowTemplateStore.Delete(ctx, new WorkflowTemplateParams(org, d.Name));
                return result.UsedBy.Count > 0 ? $"workflow template '{d.Name}' is started by schedule(s) {string.Join(", ", result.UsedBy)}" : null;
            default:
                ctx.Cmd($"DELETE FROM {ManifestRows.Table(d.Kind)} WHERE organization_id = $org AND name = $name")
                    .Set("$org", org.ToString()).Set("$name", d.Name).ExecuteNonQuery();
                return null;
        }
    }
}
