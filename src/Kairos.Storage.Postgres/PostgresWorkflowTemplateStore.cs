using Kairos.Core;
using Kairos.Core.Storage;
using Kairos.Core.Workflows;
using Npgsql;
using static Kairos.Storage.Postgres.Rows;

namespace Kairos.Storage.Postgres;

/// <summary>
/// Workflow templates on PostgreSQL: one row each, the steps a JSON document. A delete locks the template row, then
/// looks for schedules that start it, so a firing (which reads the template in its own transaction) sees it whole or
/// not at all.
/// </summary>
internal sealed class PostgresWorkflowTemplateStore(PostgresStore store) : IWorkflowTemplateStore
{
    private const string Columns = WorkflowTemplateRows.Columns;

    private NpgsqlDataSource Db => store.DataSource;

    /// <summary>The template of that name, read on the given connection (a firing reads it inside its transaction).</summary>
    internal static async Task<WorkflowTemplate?> FindAsync(NpgsqlConnection c, Guid org, string name, CancellationToken cancellationToken, bool lockRow = false)
    {
        await using var cmd = new NpgsqlCommand($"SELECT {Columns} FROM workflow_templates WHERE organization_id = @org AND name = @name" +
                                                (lockRow ? " FOR UPDATE" : ""), c);
        cmd.Parameters.Uuid("org", org).Text("name", name);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? WorkflowTemplateRows.Read(r) : null;
    }

    public async Task<(WorkflowTemplate Template, bool Created)> PutAsync(PutWorkflowTemplateParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await PutAsync(c, store.Time, p, cancellationToken);
    }

    /// <summary>The upsert on <paramref name="c"/> (in its transaction, if any).</summary>
    internal static async Task<(WorkflowTemplate Template, bool Created)> PutAsync(NpgsqlConnection c, TimeProvider time, PutWorkflowTemplateParams p,
        CancellationToken cancellationToken)
    {
        var now = Ms(time.GetUtcNow());
        // xmax = 0 only for a row this statement inserted.
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO workflow_templates (id, organization_id, name, steps, managed_by, created_at, updated_at) " +
            "VALUES (@id, @org, @name, @steps, @managed_by, @now, @now) " +
            "ON CONFLICT (organization_id, name) DO UPDATE SET steps = excluded.steps, managed_by = excluded.managed_by, updated_at = excluded.updated_at " +
            $"RETURNING {Columns}, (xmax = 0) AS created", c);
        cmd.Parameters.Uuid("id", Ids.New(time)).Uuid("org", p.OrganizationId).Text("name", p.Name).Text("steps", WorkflowTemplate.StepsJson(p.Steps))
            .Text("managed_by", p.ManagedBy).Long("now", now);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return (WorkflowTemplateRows.Read(r), r.GetBoolean(7));
    }

    public async Task<WorkflowTemplate?> GetAsync(WorkflowTemplateParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        return await FindAsync(c, p.OrganizationId, p.Name, cancellationToken);
    }

    public async Task<Page<WorkflowTemplate>> ListAsync(ListWorkflowTemplatesParams p, CancellationToken cancellationToken)
    {
        var after = ScheduleCursor.Read(p.Cursor);
        await using var cmd = Db.CreateCommand($"SELECT {Columns} FROM workflow_templates WHERE organization_id = @org AND name COLLATE \"C\" > @after ORDER BY name COLLATE \"C\" LIMIT @n");
        cmd.Parameters.Uuid("org", p.OrganizationId).Text("after", after ?? "").Int("n", p.Limit + 1);
        var items = new List<WorkflowTemplate>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) items.Add(WorkflowTemplateRows.Read(r));
        return ScheduleCursor.Page(items, p.Limit, t => t.Name);
    }

    public async Task<DeleteWorkflowTemplateResult> DeleteAsync(WorkflowTemplateParams p, CancellationToken cancellationToken)
    {
        await using var c = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var result = await DeleteAsync(c, p, cancellationToken);
        if (result.Deleted) await tx.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>The delete on <paramref name="c"/>, in its transaction (the row locked); not deleted while a schedule starts it.</summary>
    internal static async Task<DeleteWorkflowTemplateResult> DeleteAsync(NpgsqlConnection c, WorkflowTemplateParams p, CancellationToken cancellationToken)
    {
        if (await FindAsync(c, p.OrganizationId, p.Name, cancellationToken, lockRow: true) is null) return new DeleteWorkflowTemplateResult(false, []);
        var users = new List<string>();
        await using (var cmd = new NpgsqlCommand("SELECT name FROM schedules WHERE organization_id = @org AND template_kind = 'workflow' AND template = @template " +
                                                 "ORDER BY name", c))
        {
            cmd.Parameters.Uuid("org", p.OrganizationId).Text("template", WorkflowTemplateRows.ScheduleTemplateJson(p.Name));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken)) users.Add(r.GetString(0));
        }
        if (users.Count > 0) return new DeleteWorkflowTemplateResult(true, users);
        await using (var cmd = new NpgsqlCommand("DELETE FROM workflow_templates WHERE organization_id = @org AND name = @name", c))
        {
            cmd.Parameters.Uuid("org", p.OrganizationId).Text("name", p.Name);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return new DeleteWorkflowTemplateResult(true, []);
    }
}
