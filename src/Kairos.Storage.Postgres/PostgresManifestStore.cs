using Kairos.Core.Manifests;
using Kairos.Core.Storage;
using Npgsql;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Manifest-managed objects on PostgreSQL. An apply is one transaction on one connection: each write runs the same code
/// as the object's own store (rows locked as there), and a conflict ends it without a commit, so nothing of it stays.
/// </summary>
internal sealed class PostgresManifestStore(PostgresStore store) : IManifestStore
{
    private NpgsqlDataSource Db => store.DataSource;

    public async Task<IReadOnlyList<ManagedObject>> ListManagedAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        var found = new List<ManagedObject>();
        foreach (var kind in ManifestRows.Kinds)
        {
            found.AddRange(await Db.ManyAsync($"SELECT name, managed_by FROM {ManifestRows.Table(kind)} WHERE organization_id = @org AND managed_by IS NOT NULL " +
                                              "ORDER BY name COLLATE \"C\"",
                ps => ps.Uuid("org", organizationId), r => new ManagedObject(kind, r.GetString(0), r.GetString(1)), cancellationToken));
        }
        return found;
    }

    public async Task<ManagedState> GetManagerAsync(ManagedObjectParams p, CancellationToken cancellationToken)
    {
        var rows = await Db.ManyAsync($"SELECT managed_by FROM {ManifestRows.Table(p.Kind)} WHERE organization_id = @org AND name = @name",
            ps => ps.Uuid("org", p.OrganizationId).Text("name", p.Name), r => new ManagedState(true, r.IsDBNull(0) ? null : r.GetString(0)), cancellationToken);
        return rows.Count == 0 ? default : rows[0];
    }

    public async Task<bool> SetManagerAsync(SetManagerParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await MarkAsync(c, p.OrganizationId, p.Kind, p.Name, p.ManagedBy, cancellationToken);
    }

    private static async Task<bool> MarkAsync(NpgsqlConnection c, Guid org, ManifestKind kind, string name, string? managedBy, CancellationToken cancellationToken) =>
        await c.ExecAsync($"UPDATE {ManifestRows.Table(kind)} SET managed_by = @by WHERE organization_id = @org AND name = @name",
            ps => ps.Text("by", managedBy).Uuid("org", org).Text("name", name), cancellationToken) > 0;

    public async Task<ApplyManifestOutcome> ApplyAsync(ApplyManifestParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        foreach (var write in p.Writes)
        {
            // Returning without a commit rolls the transaction back when it is disposed.
            if (await WriteAsync(c, p.OrganizationId, write, p.ManagedBy, cancellationToken) is { } conflict) return new ApplyManifestOutcome(false, write, conflict);
        }
        await tx.CommitAsync(cancellationToken);
        return ApplyManifestOutcome.Done;
    }

    private async Task<string?> WriteAsync(NpgsqlConnection c, Guid org, ManifestWrite write, string managedBy, CancellationToken cancellationToken)
    {
        var time = store.Time;
        switch (write)
        {
            case QueueWrite q:
                await PostgresQueueStore.UpsertAsync(c, time, new UpsertQueueParams(org, q.Name, q.Settings), cancellationToken);
                break;
            case ScheduleWrite s:
                if (await PostgresScheduleStore.UpdateAsync(c, time, new UpdateScheduleParams(org, s.Definition), cancellationToken) is null &&
                    await PostgresScheduleStore.CreateAsync(c, time, new CreateScheduleParams(org, s.Definition), cancellationToken) is null)
                {
                    return $"schedule '{s.Name}' was created meanwhile by another change; apply again";
                }
                break;
            case MonitorWrite m:
                var exists = await PostgresMonitorStore.LockAsync(c, org, m.Name, null, cancellationToken) is not null;
                var saved = exists
                    ? await PostgresMonitorStore.UpdateAsync(c, time, new UpdateMonitorParams(org, m.Definition), cancellationToken)
                    : await PostgresMonitorStore.CreateAsync(c, time, new CreateMonitorParams(org, m.Definition, m.PingKeyHash, m.PingKeySealed), cancellationToken);
                if (saved is null)
                {
                    // An insert that met a monitor of that name committed meanwhile (a concurrent apply) did nothing.
                    return !exists && await PostgresMonitorStore.LockAsync(c, org, m.Name, null, cancellationToken) is not null
                        ? $"monitor '{m.Name}' was created meanwhile by another change; apply again"
                        : $"the slug '{m.Definition.Slug}' belongs to another monitor";
                }
                break;
            case WorkflowTemplateWrite w:
                await PostgresWorkflowTemplateStore.PutAsync(c, time, new PutWorkflowTemplateParams(org, w.Name, w.Steps, managedBy), cancellationToken);
                break;
            case AlertRuleWrite a:
                if (await PostgresAlertStore.UpdateRuleAsync(c, time, new SaveRuleParams(org, a.Definition), cancellationToken) is null)
                {
                    await PostgresAlertStore.CreateRuleAsync(c, time, new SaveRuleParams(org, a.Definition), cancellationToken);
                }
                break;
            case DeleteWrite d:
                return await DeleteAsync(c, org, d, cancellationToken);
        }
        await MarkAsync(c, org, write.Kind, write.Name, managedBy, cancellationToken);
        return null;
    }

    private static async Task<string?> DeleteAsync(NpgsqlConnection c, Guid org, DeleteWrite d, CancellationToken cancellationToken)
    {
        switch (d.Kind)
        {
            case ManifestKind.Queue:
                return await PostgresQueueStore.DeleteAsync(c, new QueueParams(org, d.Name), cancellationToken) == DeleteQueueOutcome.NotEmpty
                    ? $"queue '{d.Name}' still has unfinished jobs; purge it or let them finish first"
                    : null;
            case ManifestKind.Schedule:
                await PostgresScheduleStore.DeleteAsync(c, new ScheduleParams(org, d.Name), cancellationToken);
                return null;
            case ManifestKind.Monitor:
                await PostgresMonitorStore.DeleteAsync(c, new MonitorParams(org, d.Name), cancellationToken);
                return null;
            case ManifestKind.Workflow:
                var result = await PostgresWorkflowTemplateStore.DeleteAsync(c, new WorkflowTemplateParams(org, d.Name), cancellationToken);
                return result.UsedBy.Count > 0 ? $"workflow template '{d.Name}' is started by schedule(s) {string.Join(", ", result.UsedBy)}" : null;
            default:
                await c.ExecAsync($"DELETE FROM {ManifestRows.Table(d.Kind)} WHERE organization_id = @org AND name = @name",
                    ps => ps.Uuid("org", org).Text("name", d.Name), cancellationToken);
                return null;
        }
    }
}
